"""The thin HTTP path: a JSON `POST` of a query whose plan is settled skips the per-request pipeline.

Strawberry's view and `schema.execute` do, per request: read and check the
body, build the extensions, parse (cached), validate (cached), add the limit
rules, estimate the cost, run the execute function, shape the errors, build
the response. For a document that already ran on a compiled plan in this app
all of that up to the execute function is settled: it parsed, passed
validation and the limits under this app's settings. This path then runs
the plan directly and builds the response with the view's own
`process_result` and `create_response`.

What stays as it was, because it is not here:

- middlewares (request id, CORS, body size limit) wrap this path as before;
- the token rules: `GraphQLApp.__call__` loads the viewer (or answers 401)
  before this path is asked;
- the cost limit: recomputed for every request whose operation has
  variables (page sizes may come from them), and over the budget the request
  takes the ordinary path, which refuses it;
- errors: only a result without errors is answered here. A result with
  errors (a refused field, bad variables, a failing resolver, the database
  gone) is dropped and the request runs again on the ordinary path, so error
  masking, codes, request ids and logging are the ordinary path's own. That
  is why only queries take this path (no mutation runs twice).

Anything unusual goes the ordinary way: another method or content type, a
body that is not a JSON object with a string `query`, `extensions` in the
body (persisted queries), a document not settled yet, a schema extension this
module does not know (`SETTLED_EXTENSIONS`: an extension added to the schema
must be listed there, once it is certain that the plan settles what it does
per request, or the thin path stays off). `STATS["thin http path"]` counts
the requests answered here.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, ExecutionResult, OperationDefinitionNode, OperationType
from graphql.execution import MiddlewareManager
from starlette.requests import Request
from starlette.responses import Response
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import ParserCache, ValidationCache

from schema.api_tokens import ReadOnlyViewers
from schema.compiled import STATS
from schema.errors import ShapeErrors
from schema.limits import QueryLimits, query_cost
from server import http_spec
from server.observe import note_result

logger = logging.getLogger("sitedesk.graphql")

# Schema extensions whose per-request work a settled plan stands for: the caches (the document parsed
# and validated once), the limits (validation rules; the cost is recomputed here) and the error shaping
# (only results without errors are answered here).
# ReadOnlyViewers refuses mutations only, and this path runs queries only.
SETTLED_EXTENSIONS: set[type] = {ShapeErrors, QueryLimits, ReadOnlyViewers, ParserCache, ValidationCache}
SETTLE_KEY = "sitedesk.thin_path.settle"
CACHE_SIZE = 256
PLAIN_ACCEPT = {"application/json", "*/*"}


@dataclass(frozen=True)
class Settled:
    """A query document that ran on a plan in this app: what executing it again needs."""

    document: DocumentNode
    operation: OperationDefinitionNode
    operation_name: str | None  # as Strawberry passes it on (the first operation's name when none is given)
    cost: int | None  # the estimate without variables (recomputed with them)


@dataclass(frozen=True)
class Pending:
    """A request the ordinary path runs: its plan, when one runs, settles the document."""

    path: ThinPath
    key: tuple[str, str | None]


def pipeline_extensions(schema: Any) -> list[type]:
    """The classes of the schema's extensions, as each request instantiates them."""
    return [type(extension) for extension in schema.get_extensions()]


class ThinPath:
    """The settled documents of one app (its settings decide the limits) and the path that runs them."""

    def __init__(self, schema: Any, settings: Any) -> None:
        self.schema = schema
        self.settings = settings
        self.settled: OrderedDict[tuple[str, str | None], Settled] = OrderedDict()
        unknown = [cls.__name__ for cls in pipeline_extensions(schema) if cls not in SETTLED_EXTENSIONS]
        compiled = getattr(schema, "compiled", None)
        # Trusted documents (server/persisted.py) decide per viewer which documents run: a document
        # settled for one viewer must not run here for another, so the path stays off with them.
        self.enabled = (
            compiled is not None
            and not unknown
            and not schema.directives
            and getattr(settings, "trusted_documents", None) is None
        )
        if unknown:
            logger.warning("thin HTTP path off: schema extensions it does not know: %s", ", ".join(unknown))
        if compiled is not None and settle not in compiled.listeners:
            compiled.listeners.append(settle)

    async def respond(self, view: Any, request: Request) -> Response | None:
        """The response for a request this path can answer, or None (the ordinary path answers)."""
        if not self.enabled or request.method != "POST":
            return None
        headers = request.headers
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return None
        accept = headers.get("accept")
        if accept and any(part.split(";")[0].strip().lower() not in PLAIN_ACCEPT for part in accept.split(",")):
            return None  # streaming, or another response media type: the ordinary path negotiates it
        try:
            body = view.decode_json(await request.body())  # the body checks the ordinary path makes too
        except Exception:  # noqa: BLE001 - the ordinary path answers them as it does
            return None
        if not isinstance(body, dict) or "extensions" in body:
            return None
        query, variables, name = body.get("query"), body.get("variables"), body.get("operationName")
        if not isinstance(query, str) or not isinstance(name, str | None) or not isinstance(variables, dict | None):
            return None
        key = (query, name)
        settled = self.settled.get(key)
        if settled is None:
            request.scope[SETTLE_KEY] = Pending(self, key)
            return None
        self.settled.move_to_end(key)
        cost = settled.cost
        if settled.operation.variable_definitions:
            cost = query_cost(self.schema._schema, settled.document, settled.operation, variables or {})
            if cost > self.settings.max_query_cost:
                return None
        return await self.run(view, request, settled, variables, cost)

    async def run(
        self,
        view: Any,
        request: Request,
        settled: Settled,
        variables: dict[str, Any] | None,
        cost: int | None,
    ) -> Response | None:
        sub_response = await view.get_sub_response(request)
        context = await view.get_context(request, response=sub_response)
        try:
            result = self.schema.compiled.execute(
                self.schema._schema,
                settled.document,
                root_value=await view.get_root_value(request),
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
        note_result(request.scope, settled.operation_name, None, result)  # the metrics' operation label
        # `extensions.cost` as QueryLimits reports it on the ordinary path (schema/limits.py).
        extensions = {"cost": {"requested": cost, "limit": self.settings.max_query_cost}}
        response_data = await view.process_result(request, ExecutionResult(data=result.data, extensions=extensions))
        request.scope.pop(http_spec.HTTP_ANSWER_KEY, None)  # a success: 200, application/json, no extra headers
        response: Response = view.create_response(response_data=response_data, sub_response=sub_response)
        return response

    def settle(self, key: tuple[str, str | None], document: DocumentNode, operation_name: str | None) -> None:
        operation = operation_of(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        cost = None if operation.variable_definitions else query_cost(self.schema._schema, document, operation, {})
        self.settled[key] = Settled(document, operation, operation_name, cost)
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
        pending.path.settle(pending.key, document, operation_name)


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
