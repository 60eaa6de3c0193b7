"""The thin HTTP path: a JSON `POST` of a query whose plan is settled skips the per-request pipeline.

For a document that already ran on a compiled plan in this app, parsing,
validation and the limits are settled (`execution/settled.py` says what that
means and runs it); this module decides which HTTP requests may take that way
and builds the response with the view's own `get_context`, `process_result`
and `create_response`.

What stays as it was, because it is not here:

- middlewares (request id, CORS, body size limit) wrap this path as before;
- the token rules: `GraphQLApp.__call__` loads the viewer (or answers 401)
  before this path is asked;
- errors: a run with errors answers nothing here and the request takes the
  ordinary path (`SettledDocuments.execute`).

Anything unusual goes the ordinary way: another method or content type, an
`Accept` other than JSON, a body that is not a JSON object with a string
`query`, `extensions` in the body (persisted queries), a document not settled
yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import Response

from execution.settled import SETTLE_KEY, Settled, SettledDocuments
from server import http_spec
from server.observe import note_result

if TYPE_CHECKING:
    from core.settings import Settings
    from execution.schema import SitedeskSchema

PLAIN_ACCEPT = {"application/json", "*/*"}


class ThinPath:
    """The thin path of one app: the settled documents its requests may run directly."""

    def __init__(self, schema: SitedeskSchema, settings: Settings) -> None:
        self.documents = SettledDocuments(schema, settings)
        self.settings = settings
        self.enabled = self.documents.enabled

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
        found = self.documents.find(key, variables)
        if found is None:
            if key not in self.documents.settled:
                request.scope[SETTLE_KEY] = self.documents.pending(key)
            return None
        settled, cost = found
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
        root_value = await view.get_root_value(request)
        result = await self.documents.execute(settled, variables, context, root_value)
        if result is None:
            return None
        note_result(request.scope, settled.operation_name, None, result)  # the metrics' operation label
        # `extensions.cost` as QueryLimits reports it on the ordinary path (schema/limits.py).
        extensions = {"cost": {"requested": cost, "limit": self.settings.max_query_cost}}
        response_data = await view.process_result(request, ExecutionResult(data=result.data, extensions=extensions))
        request.scope.pop(http_spec.HTTP_ANSWER_KEY, None)  # a success: 200, application/json, no extra headers
        response: Response = view.create_response(response_data=response_data, sub_response=sub_response)
        return response
