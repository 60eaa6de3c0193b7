"""A compiled plan: its fields, its object functions, and how it runs one request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field as dataclass_field
from typing import Any

from graphql import GraphQLError, GraphQLField, GraphQLObjectType, GraphQLOutputType
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import Executor
from graphql.language import FieldNode
from graphql.pyutils import Path

from permissions.policy import Policy
from schema.compiled.fields import FieldShape
from schema.compiled.runtime import Run, respond, run_serially


@dataclass(eq=False)
class FieldPlan:
    """One response key of one object selection: the field, how it runs, how its value completes."""

    key: str
    name: str
    parent: GraphQLObjectType
    definition: GraphQLField
    details: list[FieldDetails]
    shape: FieldShape
    number: int
    policy_index: int | None = None
    constant_arguments: dict[str, Any] | None = None
    children: dict[str, ObjectPlan] = dataclass_field(default_factory=dict)
    # Linked once the generated source is executed:
    complete: Callable[..., Any] = None  # type: ignore[assignment]
    after: Callable[..., Any] = None  # type: ignore[assignment]
    coerce: Callable[[Run], dict[str, Any]] = None  # type: ignore[assignment]
    convert: Callable[[dict[str, Any], Any], dict[str, Any]] = None  # type: ignore[assignment]
    call_async: Callable[..., Any] = None  # type: ignore[assignment]
    execute: Callable[[Any, Path | None, Run], Any] = None  # type: ignore[assignment]
    resolve: Callable[[Any, Path, Run], Any] | None = None
    nodes: list[FieldNode] = dataclass_field(init=False)

    def __post_init__(self) -> None:
        self.nodes = [detail.node for detail in self.details]

    @property
    def return_type(self) -> GraphQLOutputType:
        return self.definition.type

    @property
    def is_typename(self) -> bool:
        return self.shape.kind == "typename"

    @property
    def runs_in_plan(self) -> bool:
        """Resolved and completed by the plan itself (not `__typename`, not handed to graphql-core)."""
        return self.shape.kind in ("attr", "call")

    def path(self, parent: Path | None) -> Path:
        return Path(parent, self.key, self.parent.name)


@dataclass(eq=False)
class ObjectPlan:
    """The grouped fields of one selection on one object type, compiled to function `o<index>`."""

    index: int
    type: GraphQLObjectType
    fields: list[FieldPlan]


@dataclass(eq=False)
class Plan:
    """One validated operation (for one set of @skip/@include values), ready to run."""

    root: Callable[[Any, Path | None, Run], Any] | None
    serial: list[FieldPlan] | None
    policies: tuple[Policy, ...]
    is_awaitable: Callable[[Any], bool]
    fields: list[FieldPlan]
    source: str

    @property
    def delegated(self) -> list[FieldPlan]:
        """Fields this plan hands to graphql-core's executor because their shape is unknown here."""
        return [f for f in self.fields if f.shape.kind == "generic"]

    def run(self, executor: Executor, observer: Any = None) -> Any:
        """The ExecutionResult (or an awaitable of it), as `Executor.execute_operation` gives it."""
        run = Run(executor, self.policies, observer)
        if observer is not None:
            observer.started(self)
        try:
            if self.serial is not None:
                data = run_serially(run, self.serial, executor.root_value)
            else:
                data = self.root(executor.root_value, None, run)  # type: ignore[misc]
        except GraphQLError as error:
            executor.collected_errors.add(error, None)
            return executor.build_response(None)
        return respond(run, data)
