"""Settled documents: a query that ran on a plan in this app runs again on it without Strawberry's pipeline.

Strawberry's `schema.execute` does, per request: build the extensions, parse
(cached), validate (cached), add the limit rules, estimate the cost, run the
execute function, shape the errors. For a document that already ran on a
compiled plan in this app, all of that up to the execute function is
settled: it parsed and passed validation and the limits under this app's
settings. `SettledDocuments` remembers such documents (told by
`CompiledExecution.listeners`) and runs one directly on its plan.

The HTTP side (which requests may ask, the view's context and response) is
`server/thin_path.py`; this module is what it executes. The rules:

- the cost limit is recomputed for every run whose operation has variables
  (page sizes may come from them; remembered by the values of those it reads);
  over the budget there is no run here, and the ordinary path refuses the request;
- only a result without errors is returned. A result with errors (a refused
  field, bad variables, a failing resolver, the database gone) is dropped and
  the caller runs the request again on the ordinary path, so error masking,
  codes and logging are the ordinary path's own. That is why only queries
  settle (no mutation runs twice);
- a schema extension this module does not know (`SETTLED_EXTENSIONS`: an
  extension added to the schema must be listed there, once it is certain
  that the plan settles what it does per request) keeps the whole thing off,
  as do schema directives and trusted documents (decided per viewer).

`STATS["thin http path"]` counts the runs answered here.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, ExecutionResult, OperationDefinitionNode, OperationType
from graphql.execution import MiddlewareManager
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import ParserCache, ValidationCache

from execution.stats import STATS
from schema.api_tokens import ReadOnlyViewers
from schema.errors import ShapeErrors
from schema.limits import QueryLimits, cost_variables, query_cost

if TYPE_CHECKING:
    from core.settings import Settings
    from execution.schema import SitedeskSchema

logger = logging.getLogger("sitedesk.graphql")

# Schema extensions whose per-request work a settled plan stands for: the caches (the document parsed
# and validated once), the limits (validation rules; the cost is recomputed here) and the error shaping
# (only results without errors are answered here).
# ReadOnlyViewers refuses mutations only, and only queries settle.
SETTLED_EXTENSIONS: set[type] = {ShapeErrors, QueryLimits, ReadOnlyViewers, ParserCache, ValidationCache}
# Where a request waiting to settle waits: a key of its ASGI scope (`context.request.scope`).
SETTLE_KEY = "sitedesk.thin_path.settle"
CACHE_SIZE = 256
# Estimates remembered per settled document (distinct page sizes its variables ask for).
COSTS_PER_DOCUMENT = 64

Key = tuple[str, str | None]  # the query text and the operation name the client gave


@dataclass(frozen=True)
class Settled:
    """A query document that ran on a plan in this app: what executing it again needs."""

    document: DocumentNode
    operation: OperationDefinitionNode
    operation_name: str | None  # as Strawberry passes it on (the first operation's name when none is given)
    cost: int | None  # the estimate without variables (recomputed with them)
    # The variables the estimate reads (`first`/`last`), and the estimates by their values.
    cost_variables: tuple[str, ...] = ()
    costs: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def cost_of(self, schema: Any, variables: dict[str, Any]) -> int:
        """The estimate for `variables`, remembered by the values of those it reads (a ticket's id
        does not change it: the detail walked the document again on every request)."""
        # With the type: 1, 1.0 and True are equal keys but not equal page sizes to `query_cost`.
        key = tuple((type(value), value) for value in (variables.get(name) for name in self.cost_variables))
        try:
            found = self.costs.get(key)
        except TypeError:  # an unhashable value (coercion refuses it later): not remembered
            return query_cost(schema, self.document, self.operation, variables)
        if found is None:
            found = query_cost(schema, self.document, self.operation, variables)
            if len(self.costs) < COSTS_PER_DOCUMENT:
                self.costs[key] = found
        return found


@dataclass(frozen=True)
class Pending:
    """A request the ordinary path runs: its plan, when one runs, settles the document."""

    documents: SettledDocuments
    key: Key


def pipeline_extensions(schema: SitedeskSchema) -> list[type]:
    """The classes of the schema's extensions, as each request instantiates them."""
    return [type(extension) for extension in schema.get_extensions()]


class SettledDocuments:
    """The settled documents of one app (its settings decide the limits), in a bounded LRU."""

    def __init__(self, schema: SitedeskSchema, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self.settled: OrderedDict[Key, Settled] = OrderedDict()
        unknown = [cls.__name__ for cls in pipeline_extensions(schema) if cls not in SETTLED_EXTENSIONS]
        compiled = schema.compiled
        # Trusted documents (server/persisted.py) decide per viewer which documents run: a document
        # settled for one viewer must not run here for another, so the path stays off with them.
        self.enabled = (
            compiled is not None and not unknown and not schema.directives and settings.trusted_documents is None
        )
        if unknown:
            logger.warning("thin HTTP path off: schema extensions it does not know: %s", ", ".join(unknown))
        if compiled is not None and settle not in compiled.listeners:
            compiled.listeners.append(settle)

    def find(self, key: Key, variables: dict[str, Any] | None) -> tuple[Settled, int | None] | None:
        """The settled document and its cost for these variables, or None (the ordinary path runs it)."""
        settled = self.settled.get(key)
        if settled is None:
            return None
        self.settled.move_to_end(key)
        cost = settled.cost
        if settled.operation.variable_definitions:
            cost = settled.cost_of(self.schema._schema, variables or {})
            if cost > self.settings.max_query_cost:
                return None
        return settled, cost

    def pending(self, key: Key) -> Pending:
        """What the ordinary path's run leaves in the request's scope (`SETTLE_KEY`) to settle `key`."""
        return Pending(self, key)

    async def execute(
        self,
        settled: Settled,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any,
    ) -> ExecutionResult | None:
        """The result of the settled document on its plan, or None when it has errors or fails."""
        compiled = self.schema.compiled
        if compiled is None:
            return None
        try:
            result = compiled.execute(
                self.schema._schema,
                settled.document,
                root_value=root_value,
                middleware=MiddlewareManager(),
                variable_values=variables,
                operation_name=settled.operation_name,
                context_value=context,
                is_awaitable=optimized_is_awaitable,
                executor_class=self.schema.execution_context_class,
                operation_extensions=None,
            )
            if optimized_is_awaitable(result):
                result = await result
        except Exception:  # noqa: BLE001 - the ordinary path runs it again and answers as it does
            return None
        if not isinstance(result, ExecutionResult) or result.errors:
            return None
        STATS["thin http path"] += 1
        return result

    def settle(self, key: Key, document: DocumentNode, operation_name: str | None) -> None:
        operation = operation_of(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        cost = None if operation.variable_definitions else query_cost(self.schema._schema, document, operation, {})
        self.settled[key] = Settled(document, operation, operation_name, cost, cost_variables(document))
        while len(self.settled) > CACHE_SIZE:
            self.settled.popitem(last=False)


def settle(context: Any, document: DocumentNode, operation_name: str | None) -> None:
    """`CompiledExecution`'s listener: a request the thin path passed on ran on a plan."""
    scope = getattr(getattr(context, "request", None), "scope", None)
    pending = scope.pop(SETTLE_KEY, None) if isinstance(scope, dict) else None
    if not isinstance(pending, Pending):
        return
    source = document.loc.source.body if document.loc else None
    if source == pending.key[0] and operation_name == strawberry_operation_name(document, pending.key[1]):
        pending.documents.settle(pending.key, document, operation_name)


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def strawberry_operation_name(document: DocumentNode, given: str | None) -> str | None:
    """The operation name Strawberry hands to the execute function: the given one, else the first operation's."""
    if given is not None:
        return given
    found = operations(document)
    return found[0].name.value if found and found[0].name else None


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation graphql-core runs for `name` (None: the only one)."""
    found = operations(document)
    if name is None:
        return found[0] if len(found) == 1 else None
    return next((o for o in found if o.name and o.name.value == name), None)
