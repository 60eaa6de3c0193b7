"""The seam: where Strawberry hands a request's execution to the compiled plans, and the product's schema.

Strawberry's `Schema.execute` does everything before and after execution itself
(parsing, validation, the extensions: limits, error shaping, caches) and calls
graphql-core's `execute` once, through the private `_get_execute_function`.
`SitedeskSchema` overrides that one method to return `CompiledExecution.execute`
(same arguments as `graphql.execute`), so everything around it stays Strawberry's.
It relies on Strawberry 0.341.2 and graphql-core 3.3.2 (pinned in pyproject.toml);
what to re-check on an upgrade is in docs/architecture/execution.md.

`schema` is the one built instance the server, the tools and the tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from execution.compiled import CompiledExecution
from execution.events import SharedEventExecutor
from schema.schema import ShapedSchema, build_schema

PLAN_CACHE_SIZE = 256


class SitedeskSchema(ShapedSchema):
    """Sitedesk's schema class: graphql-core's `execute` gives way to the compiled plans."""

    # Set by `executable_schema`; None runs graphql-core's executor (the tests compare both this way).
    compiled: CompiledExecution | None = None

    def _get_execute_function(self) -> Callable[..., Any]:
        # Strawberry's one call of graphql-core's executor: every extension
        # (limits, error shaping, the parser and validation caches) runs around it.
        # Incremental delivery (@defer/@stream) is graphql-core's alone: the plans do not stream.
        if self.compiled is None or self.config.enable_experimental_incremental_execution:
            return super()._get_execute_function()
        return self.compiled.execute


def executable_schema() -> SitedeskSchema:
    """Sitedesk's schema (`schema.schema.build_schema`) running on compiled plans."""
    built = build_schema(SitedeskSchema)
    built.compiled = CompiledExecution(built, maxsize=PLAN_CACHE_SIZE)
    # Live changes: subscribers who must get the same answer share one execution.
    built.execution_context_class = SharedEventExecutor
    return built


schema = executable_schema()


def schema_sdl() -> str:
    """The SDL checked in as `schema.graphql`."""
    return schema.as_str() + "\n"
