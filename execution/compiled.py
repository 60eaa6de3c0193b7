"""The execute function Strawberry calls: a compiled plan when there is one, graphql-core's executor otherwise.

`CompiledExecution.execute` takes the arguments of `graphql.execute`. It builds
graphql-core's `Executor` (operation, fragments, variable coercion and their
errors stay graphql-core's), looks the plan up in a bounded LRU keyed by the
document's text and the operation name (one plan per set of @skip/@include
values), compiles it on first use, and runs it. A document the compiler does
not handle runs on graphql-core's executor; every such fallback is counted in
`execution.stats.STATS` and logged on `sitedesk.graphql`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.execution import ExecutionResult
from graphql.execution.executor import Executor
from graphql.language import DirectiveNode, VariableNode, Visitor, visit

from execution import compare
from execution.arguments import MISSING, Arguments
from execution.compiler import Compiler, Unsupported
from execution.fields import FieldShapes
from execution.plan import Plan
from execution.runtime import run_plan
from execution.stats import STATS

logger = logging.getLogger("sitedesk.graphql")
VARIANTS_PER_DOCUMENT = 16


@dataclass
class DocumentPlans:
    """The plans of one document and operation: one per set of @skip/@include variable values."""

    directive_variables: tuple[str, ...]
    variants: OrderedDict[tuple[Any, ...], Plan] = field(default_factory=OrderedDict)
    unsupported: str | None = None

    def key(self, executor: Executor[Any]) -> tuple[Any, ...]:
        coerced = executor.variable_values.coerced
        return tuple(coerced.get(name, MISSING) for name in self.directive_variables)


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """Variables read by @skip/@include anywhere in the document: they decide which fields exist."""
    names: list[str] = []

    class Finder(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value not in ("skip", "include"):
                return
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode) and argument.value.name.value not in names:
                    names.append(argument.value.name.value)

    visit(document, Finder())
    return tuple(names)


class CompiledExecution:
    """Plans for one Strawberry schema, cached in a bounded LRU."""

    def __init__(self, schema: strawberry.Schema, maxsize: int = 256) -> None:
        self.strawberry_schema = schema
        self.shapes = FieldShapes(schema)
        self.maxsize = maxsize
        self.plans: OrderedDict[tuple[str, str | None], DocumentPlans] = OrderedDict()
        self.compare: Any = None
        if compare.enabled():
            self.compare = compare.Comparison()
        # Told (context, document, operation name) when a request runs on a plan: everything before
        # execution (parsing, validation, the limits) let the document through. The thin HTTP path
        # (`server/thin_path.py`) learns from this which documents it may run without that pipeline.
        self.listeners: list[Callable[[Any, DocumentNode, str | None], None]] = []

    def execute(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        field_resolver: Any = None,
        type_resolver: Any = None,
        subscribe_field_resolver: Any = None,
        max_coercion_errors: int = 50,
        enable_early_execution: bool = False,
        middleware: Any = None,
        executor_class: type[Executor[Any]] | None = None,
        is_awaitable: Any = None,
        is_async_iterable: Any = None,
        hide_suggestions: bool = False,
        abort_signal: Any = None,
        hooks: Any = None,
        **custom: Any,
    ) -> Any:
        """`graphql.execute`, through a compiled plan where there is one."""
        arguments = Arguments(
            schema,
            document,
            root_value,
            context_value,
            variable_values,
            operation_name,
            middleware,
            executor_class,
            is_awaitable,
            is_async_iterable,
            hide_suggestions,
            options={
                "field_resolver": field_resolver,
                "type_resolver": type_resolver,
                "subscribe_field_resolver": subscribe_field_resolver,
                "max_coercion_errors": max_coercion_errors,
                "enable_early_execution": enable_early_execution,
                "abort_signal": abort_signal,
                "hooks": hooks,
            },
            custom=custom,
        )
        if self.compare is not None:
            return self.compare.execute(self, arguments)
        return self.run(arguments)

    def run(self, arguments: Arguments, observer: Any = None) -> Any:
        """The result (or an awaitable of it) on the compiled path, or on graphql-core's for a fallback."""
        reason = arguments.unsupported()
        if reason is not None:
            self.fell_back(arguments, reason)
            return arguments.reference()
        executor = arguments.build()
        if isinstance(executor, list):
            return ExecutionResult(None, errors=executor)
        plan = self.plan_for(arguments, executor)
        if not isinstance(plan, str) and plan.policies and not hasattr(executor.context_value, "viewer"):
            plan = "policies without a viewer in the context"
        if isinstance(plan, str):
            self.fell_back(arguments, plan)
            return executor.execute_operation()
        STATS["compiled"] += 1
        for listener in self.listeners:
            listener(arguments.context_value, arguments.document, arguments.operation_name)
        return run_plan(plan, executor, observer)

    def plan_for(self, arguments: Arguments, executor: Executor[Any]) -> Plan | str:
        """The plan for this request, or why there is none."""
        if arguments.is_awaitable is None:
            return "no is_awaitable given"
        document = arguments.document
        text = document.loc.source.body if document.loc else None
        if text is None:
            return "document without its source text"
        key = (text, arguments.operation_name)
        plans = self.plans.get(key)
        if plans is None:
            plans = self.plans[key] = DocumentPlans(directive_variables(document))
            while len(self.plans) > self.maxsize:
                self.plans.popitem(last=False)
        else:
            self.plans.move_to_end(key)
        if plans.unsupported is not None:
            return plans.unsupported
        variant = plans.key(executor)
        plan = plans.variants.get(variant)
        if plan is not None and plan.is_awaitable is arguments.is_awaitable:
            plans.variants.move_to_end(variant)
            return plan
        return self.compile(plans, variant, executor, arguments)

    def compile(
        self,
        plans: DocumentPlans,
        variant: tuple[Any, ...],
        executor: Executor[Any],
        arguments: Arguments,
    ) -> Plan | str:
        compiler = Compiler(
            executor,
            self.shapes,
            self.strawberry_schema.schema_converter,
            arguments.is_awaitable,
        )
        try:
            plan = compiler.compile()
        except Unsupported as unsupported:
            plans.unsupported = str(unsupported)
            return plans.unsupported
        except (GraphQLError, RecursionError) as error:
            return f"collecting fields failed ({type(error).__name__})"  # graphql-core reports it
        except Exception as error:
            # A shape the compiler does not know: graphql-core runs the document, loudly.
            logger.exception("compiling operation %s failed", arguments.operation_name or "(unnamed)")
            plans.unsupported = f"compiler error ({type(error).__name__})"
            return plans.unsupported
        STATS["compiles"] += 1
        STATS["fields handed to graphql-core"] += len(plan.delegated)
        for delegated in plan.delegated:
            logger.info(
                "compiled plan hands %s.%s to graphql-core: %s",
                delegated.parent.name,
                delegated.name,
                delegated.shape.reason,
            )
        plans.variants[variant] = plan
        while len(plans.variants) > VARIANTS_PER_DOCUMENT:
            plans.variants.popitem(last=False)
        return plan

    @staticmethod
    def fell_back(arguments: Arguments, reason: str) -> None:
        STATS["fallback"] += 1
        STATS[f"fallback: {reason}"] += 1
        logger.info(
            "graphql-core executes operation %s: %s",
            arguments.operation_name or "(unnamed)",
            reason,
        )
