"""The ASGI application: `/graphql`, `/health`, CORS, body limits, the database lifespan."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from tortoise.connection import get_connection

from core.database import database, database_unavailable
from core.settings import Settings, get_settings
from execution.schema import schema as graphql_schema
from files.routes import download
from live.hub import HUB
from live.sockets import SOCKETS
from mail.sender import MailSender
from permissions.api_tokens import TokenBudgetExceeded, viewer_for_bearer
from permissions.tokens import TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_REVOKED, InvalidToken
from permissions.viewer import ANONYMOUS, Viewer
from resolvers.personal_data.jobs import PersonalDataJobs
from resolvers.service_levels.check import ServiceLevelCheck
from schema.context import Context
from schema.errors import DATABASE_UNAVAILABLE
from server import http_spec, idempotency
from server.collector import tune as tune_collector
from server.graphiql import graphiql_response, graphiql_routes
from server.inbound_mail import start_receiver, stop_receiver
from server.live import LiveTransportHandler, TextWebSocketAdapter
from server.observe import Observe, metrics, note_result
from server.persisted import PersistedQueries, PersistedQueryError
from server.proxies import trusted_proxies
from server.ready import ready
from server.thin_path import ThinPath
from server.webhooks import webhook_sender

logger = logging.getLogger("sitedesk")
# Browsers may send these (the CSRF headers of uploads included) and read these.
CORS_ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "Idempotency-Key",
)
CORS_EXPOSED_HEADERS = ("X-Request-Id", "Retry-After", "Idempotent-Replayed")
SIMPLE_CONTENT_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded", "text/plain"}


# Deeper JSON than this is refused before anything reads it (graphql-core
# coerces variables recursively); orjson itself stops at 1024 levels.
MAX_JSON_DEPTH = 64
VIEWER_KEY = "sitedesk.viewer"
# What `process_result` decided about the HTTP answer: (status, content type, extra headers).
TOKEN_MESSAGES = {
    TOKEN_EXPIRED: "The access token has expired: refresh the session.",
    TOKEN_INVALID: "The access token is not valid: sign in again.",
    TOKEN_REVOKED: "The session of this access token has ended: sign in again.",
}


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class TokenRefused(Exception):
    """A token was sent but does not verify; `reason` is one of the TOKEN_* codes."""

    def __init__(self, reason: str) -> None:
        super().__init__(TOKEN_MESSAGES[reason])
        self.reason = reason


async def viewer_from_header(settings: Settings, authorization: str | None) -> Viewer:
    """The viewer a request's `Authorization` header names: anonymous without one.

    A header that is there but does not name a live session, API token or
    impersonation (`permissions.api_tokens.viewer_for_bearer`) raises
    `TokenRefused`, whatever the request asks for (RFC 6750 `invalid_token`),
    so a client learns that its token, not its question, is the problem. An
    API token over its request budget raises `TokenRateLimited` (a `TokenRefused`).
    """
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused(TOKEN_INVALID)
    try:
        return await viewer_for_bearer(settings, token.strip())
    except InvalidToken as exc:
        raise TokenRefused(exc.reason) from None
    except TokenBudgetExceeded as exc:
        raise TokenRateLimited(exc) from None


class TokenRateLimited(TokenRefused):
    """An API token over its per-minute budget: HTTP 429, `RATE_LIMITED` with `retryAfter`."""

    def __init__(self, exceeded: TokenBudgetExceeded) -> None:
        Exception.__init__(self, str(exceeded))
        self.reason = "RATE_LIMITED"
        self.retry_after = exceeded.retry_after


def token_rate_limited(exc: TokenRateLimited) -> JSONResponse:
    return JSONResponse(
        error_body(str(exc), "RATE_LIMITED", retryAfter=exc.retry_after),
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


def token_refusal(exc: TokenRefused) -> JSONResponse:
    return JSONResponse(
        error_body(str(exc), "UNAUTHENTICATED", reason=exc.reason),
        status_code=401,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc}"'},
    )


class UnacceptableJSON(Exception):
    """A request body that is valid JSON but refused before execution (400, `code`)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# A GraphQL string escape for NUL: \u0000 or \u{0}.
GRAPHQL_NUL_ESCAPE = re.compile(r"\\u(?:0000|\{0+\})")
NUL_MESSAGE = "Text must not contain NUL characters (U+0000)."


def check_request_json(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` and text holding NUL, which PostgreSQL cannot store.

    Iterative, so no depth of input can exhaust the interpreter's recursion limit.
    """
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise UnacceptableJSON(NUL_MESSAGE, "BAD_USER_INPUT")
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise UnacceptableJSON(f"The request JSON nests deeper than {limit} levels.", "BAD_REQUEST")
        pending.extend((child, depth + 1) for child in children)
    query = value.get("query") if isinstance(value, dict) else None
    if isinstance(query, str) and GRAPHQL_NUL_ESCAPE.search(query):
        raise UnacceptableJSON(NUL_MESSAGE, "BAD_USER_INPUT")


class GraphQLApp(GraphQL):
    """Strawberry's ASGI view with our context and JSON error bodies."""

    # Live updates: graphql-transport-ws only (server/live.py).
    graphql_transport_ws_handler_class = LiveTransportHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            graphql_schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.live_init_timeout_seconds),
            max_subscriptions_per_connection=settings.live_max_subscriptions,
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.thin_path = ThinPath(graphql_schema, settings)
        self.persisted = PersistedQueries(settings)

    async def authenticate_socket(self, authorization: str) -> tuple[Viewer | None, str | None]:
        """For live sockets (server/live.py): the viewer, or None and the TOKEN_* reason."""
        try:
            return await viewer_from_header(self.settings, authorization), None
        except TokenRefused as exc:
            return None, exc.reason

    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than `json.dumps` on a page of tickets;
        # UTF-8 as is, no ASCII escapes.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson raises a `json.JSONDecodeError` (Strawberry's 400) beyond 1024 levels.
        value = orjson.loads(data)
        check_request_json(value)
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            scope[VIEWER_KEY] = await viewer_from_header(self.settings, request.headers.get("authorization"))
            await self.check_multipart(request)
            response = await idempotency.respond(
                request,
                scope[VIEWER_KEY],
                lambda: self.answer(request),
                self.persisted_query_of,
            )
        except TokenRateLimited as exc:
            response = token_rate_limited(exc)
        except TokenRefused as exc:
            response = token_refusal(exc)
        except UnacceptableJSON as exc:
            response = JSONResponse(error_body(str(exc), exc.code), status_code=400)
        except HTTPException as exc:
            code = "BAD_REQUEST" if exc.status_code == 400 else "HTTP_ERROR"
            message = exc.reason
            headers = None
            if exc.reason == "Batching is not enabled":
                code, message = (
                    "BATCHING_NOT_SUPPORTED",
                    ("Batched requests (a JSON array) are not supported: send one operation per request."),
                )
            elif exc.status_code == 405:
                code, headers = "METHOD_NOT_ALLOWED", {"Allow": "POST"}
            response = JSONResponse(error_body(message, code), status_code=exc.status_code, headers=headers)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # Before execution (loading the viewer): the same answer as inside it.
            logger.warning("database unavailable: %s", exc)
            response = JSONResponse(
                error_body(DATABASE_UNAVAILABLE, "SERVICE_UNAVAILABLE"), status_code=503, headers={"Retry-After": "5"}
            )
        http_spec.add_cost_to_refusal(response, self.settings.max_query_cost)
        await response(scope, receive, send)
        # Starlette keeps the parsed form on the request: closing it closes the uploads' temporary files.
        await request.close()

    async def check_multipart(self, request: Request) -> None:
        """CSRF protection as Apollo Server does it, and a cap on files per request.

        A browser sends a "simple" request (form or text content type, no custom
        header) cross-site without a preflight, so such requests must carry
        `Apollo-Require-Preflight` (or `X-Apollo-Operation-Name`).
        """
        if request.method != "POST":
            return
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in SIMPLE_CONTENT_TYPES:
            return
        if not (request.headers.get("apollo-require-preflight") or request.headers.get("x-apollo-operation-name")):
            raise HTTPException(400, "This request needs the Apollo-Require-Preflight header (CSRF protection).")
        if content_type == "multipart/form-data":
            try:
                # Parsed once with our limits; Strawberry reuses the parsed form.
                await request.form(
                    max_files=self.settings.max_files_per_request, max_fields=self.settings.max_files_per_request + 10
                )
            except MultiPartException as exc:
                raise HTTPException(400, f"Malformed or oversized upload: {exc.message}") from None
            except StarletteHTTPException as exc:  # Starlette re-raises parser errors as this
                raise HTTPException(400, f"Malformed or oversized upload: {exc.detail}") from None

    # The HTTP pipeline: GraphiQL from our origin (server/graphiql.py), persisted queries
    # (server/persisted.py), GraphQL over HTTP status codes (server/http_spec.py).

    def should_render_graphql_ide(self, request: Any) -> bool:
        params = request.query_params
        return (
            request.method == "GET"
            and params.get("query") is None
            and params.get("extensions") is None
            and "text/html" in request.headers.get("accept", "")
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_response()

    async def persisted_query_of(self, operation: dict[str, Any], authorization: str | None) -> str | None:
        extensions = operation.get("extensions")
        return await self.persisted.resolve(
            operation.get("query"), extensions if isinstance(extensions, dict) else None, authorization
        )

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation (a persisted query's hash resolved first), noted for the metrics and the log."""
        try:
            query = await self.persisted.resolve(
                request_data.query, request_data.extensions, request.headers.get("authorization")
            )
        except PersistedQueryError as exc:
            result = ExecutionResult(data=None, errors=[GraphQLError(str(exc), extensions=exc.extensions)])
            note_result(request.scope, request_data.operation_name, request_data.query, result)
            return result
        result = await self.execute_query(query, request_adapter, context, root_value, request_data)
        note_result(request.scope, request_data.operation_name, query, result)
        registration = self.persisted.offered(request_data.query, request_data.extensions)
        if registration is not None and not result.errors:  # it parsed, validated and ran unrefused
            try:
                await self.persisted.register(registration, context.viewer.account_id is None, context.client_ip)
            except Exception as exc:  # the answer stands; the client sends the query again next time
                logger.warning("persisted query not stored: %s", exc)
        return result

    async def execute_query(
        self,
        query: str | None,
        request_adapter: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        allowed = OperationType.from_http(request_adapter.method)
        try:
            return await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            # GraphQL over HTTP: a mutation sent with GET is 405 Method Not Allowed.
            raise HTTPException(405, "Mutations must be sent with POST, not GET.") from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if result.errors and (response.get("extensions") or {}).get("cost") is None:
            # Refused before the schema saw it (persisted queries): the budget still shows.
            response["extensions"] = {"cost": {"requested": None, "limit": self.settings.max_query_cost}}
        graphql_response = http_spec.prefers_graphql_response(request.headers.get("accept"))
        status = http_spec.shape(response, graphql_response)  # type: ignore[arg-type]
        headers = {}
        retry_after = http_spec.retry_after(response)  # type: ignore[arg-type]
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        content_type = http_spec.GRAPHQL_RESPONSE_CONTENT_TYPE if graphql_response else None
        request.scope[http_spec.HTTP_ANSWER_KEY] = (status, content_type, headers)
        return response

    async def answer(self, request: Request) -> Response:
        """A settled query on the thin path (server/thin_path.py), anything else the ordinary way."""
        return await self.thin_path.respond(self, request) or await self.run_finished(request)

    async def run_finished(self, request: Request) -> Response:
        """Strawberry's answer with the status, content type and headers `process_result` chose."""
        response = await self.run(request)
        answer = request.scope.pop(http_spec.HTTP_ANSWER_KEY, None)
        if answer is None:
            return response
        status, content_type, headers = answer
        response.status_code = status
        if content_type:
            response.headers["content-type"] = content_type
        for name, value in headers.items():
            response.headers[name] = value
        return response

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        request_id = request.scope.get("sitedesk.request_id") or uuid.uuid4().hex
        viewer = request.scope.get(VIEWER_KEY, ANONYMOUS)  # a live socket signs in with connection_init
        client = request.client.host if request.client else None
        return Context(viewer=viewer, settings=self.settings, request_id=request_id, request=request, client_ip=client)


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, counting streamed bytes too."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_multipart_bytes: int, max_query_cost: int = 50000) -> None:
        self.app = app
        self.max_query_cost = max_query_cost
        self.max_bytes = max_bytes
        self.max_multipart_bytes = max_multipart_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.max_multipart_bytes if multipart else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            refusal = JSONResponse(error_body("The request body is too large.", "PAYLOAD_TOO_LARGE"), status_code=413)
            http_spec.add_cost_to_refusal(refusal, self.max_query_cost)
            await refusal(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            refusal = JSONResponse(error_body("The request body is too large.", "PAYLOAD_TOO_LARGE"), status_code=413)
            http_spec.add_cost_to_refusal(refusal, self.max_query_cost)
            await refusal(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class RequestId:
    """Give every request an id, echoed in `X-Request-Id` and in error extensions."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope["sitedesk.request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


async def health(request: Request) -> JSONResponse:
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any database failure means "not healthy"
        logger.warning("health check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(
    settings: Settings | None = None, *, manage_database: bool = True, mail_sender: bool | None = None
) -> Starlette:
    """The Sitedesk ASGI app; `manage_database=False` when the caller opened the ORM.

    The background mail sender runs with the app when `mail_sender` says so
    (default: when the app manages the database and SITEDESK_MAIL_SENDER is on).
    """
    settings = settings or get_settings()
    run_sender = (manage_database and settings.mail_sender) if mail_sender is None else mail_sender

    @asynccontextmanager
    async def with_sender(app: Starlette) -> AsyncIterator[None]:
        if not run_sender:
            yield
            return
        sender = MailSender(settings)
        sender.start()
        app.state.mail_sender = sender
        # Webhook deliveries: the same outbox pattern, its own sender (server/webhooks.py).
        hooks = webhook_sender(settings) if settings.webhook_sender else None
        if hooks is not None:
            hooks.start()
            app.state.webhook_sender = hooks
        # Exports, their expiry and retention (resolvers/personal_data/jobs.py), safe in every process.
        jobs = PersonalDataJobs(settings)
        jobs.start()
        app.state.personal_data_jobs = jobs
        # Service-level warnings and breaches (issue 26): safe in every process (claimed rows).
        check = ServiceLevelCheck(settings.sla_check_seconds)
        check.start()
        app.state.service_level_check = check
        try:
            yield
        finally:
            await check.stop()
            await jobs.stop()
            if hooks is not None:
                await hooks.stop()
            await sender.stop()

    @asynccontextmanager
    async def with_receiver(app: Starlette) -> AsyncIterator[None]:
        """The email channel's SMTP receiver (issue 27) when SITEDESK_INBOUND_SMTP is set."""
        if not settings.inbound_smtp:
            yield
            return
        receiver = await start_receiver(settings)
        app.state.inbound_smtp = receiver
        try:
            yield
        finally:
            await stop_receiver(receiver)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            async with with_sender(app), with_receiver(app):
                yield
            return
        async with database(settings), with_sender(app), with_receiver(app):
            graphql_app.persisted.start()  # the clean-up of unused persisted queries
            # Start-up is done: what is alive now stays alive, so no collection need traverse it
            # again (server/collector.py: gc.freeze, measured thresholds, pause metric).
            tune_collector()
            try:
                yield
            finally:
                await graphql_app.persisted.stop()
                await HUB.stop()
                await SOCKETS.stop()

    graphql_app = GraphQLApp(settings)
    # A multipart request may carry up to SITEDESK_MAX_UPLOAD_MB of files on top
    # of the plain body cap; the count is enforced while the bytes stream in.
    multipart_limit = settings.max_body_bytes + settings.max_upload_bytes
    middleware = [
        Middleware(RequestId),
        Middleware(Observe),  # server/observe.py: metrics and the request log line
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            max_multipart_bytes=multipart_limit,
            max_query_cost=settings.max_query_cost,
        ),
    ]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=list(CORS_ALLOWED_HEADERS),
                expose_headers=list(CORS_EXPOSED_HEADERS),
                max_age=600,
            ),
        )
    middleware[:0] = trusted_proxies(settings)  # first: everything after sees the real client
    routes = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/files/{kind:str}/{pk:int}", download, methods=["GET"]),
        *graphiql_routes(),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    return app
