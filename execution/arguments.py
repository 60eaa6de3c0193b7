"""The arguments of one `graphql.execute` call, and the two ways of running them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql import execute as graphql_execute
from graphql.execution.executor import Executor

MISSING = object()


@dataclass
class Arguments:
    """The arguments of one `graphql.execute` call."""

    schema: GraphQLSchema
    document: DocumentNode
    root_value: Any = None
    context_value: Any = None
    variable_values: dict[str, Any] | None = None
    operation_name: str | None = None
    middleware: Any = None
    executor_class: type[Executor[Any]] | None = None
    # graphql-core's predicates (typed as TypeGuards there).
    is_awaitable: Any = None
    is_async_iterable: Any = None
    hide_suggestions: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)

    def unsupported(self) -> str | None:
        if any(value not in (None, False, 50) for value in self.options.values()):
            return "executor options"
        if getattr(self.middleware, "_middleware_resolvers", None) is not None:
            return "middleware"
        if self.schema.get_directive("defer") or self.schema.get_directive("stream"):
            return "incremental delivery"
        return None

    def build(self, context_value: Any = MISSING) -> list[GraphQLError] | Executor[Any]:
        """graphql-core's executor for these arguments (or the errors that prevent one)."""
        return (self.executor_class or Executor).build(
            self.schema,
            self.document,
            self.root_value,
            self.context_value if context_value is MISSING else context_value,
            self.variable_values,
            self.operation_name,
            middleware=self.middleware,
            is_awaitable=self.is_awaitable,
            is_async_iterable=self.is_async_iterable,
            hide_suggestions=self.hide_suggestions,
            **self.custom,
        )

    def reference(self, context_value: Any = MISSING) -> Any:
        """graphql-core's own `execute`, for the comparison mode."""
        return graphql_execute(
            self.schema,
            self.document,
            self.root_value,
            self.context_value if context_value is MISSING else context_value,
            self.variable_values,
            self.operation_name,
            middleware=self.middleware,
            executor_class=self.executor_class,
            is_awaitable=self.is_awaitable,
            is_async_iterable=self.is_async_iterable,
            hide_suggestions=self.hide_suggestions,
            **self.options,
            **self.custom,
        )
