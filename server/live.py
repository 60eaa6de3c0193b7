"""Live updates over WebSocket: `graphql-transport-ws` on `/graphql`, authenticated and bounded.

Strawberry's transport handler speaks the protocol; this module adds what
Sitedesk needs around it (the view in `server.app` wires it in):

- the token comes in `connection_init`'s payload (`{"authorization": "Bearer …"}`)
  and goes through the one function that turns an Authorization value into a
  viewer (`server.app.viewer_from_header`, via the view): no `connection_init`
  within `SITEDESK_LIVE_INIT_TIMEOUT_SECONDS` closes 4408, a refused token 4403
  (4401 when it has expired);
- every `SITEDESK_LIVE_RECHECK_SECONDS` the token is checked and the viewer
  reloaded again (a deactivated account, a revoked session or a withdrawn
  permission takes effect within seconds: 4403); when an access token's `exp`
  passes, the socket closes with 4401 so the client reconnects with a fresh one;
- at most `SITEDESK_LIVE_MAX_CONNECTIONS` sockets per account across all server
  processes (4429; counted in the database, `live/sockets.py`) and
  `SITEDESK_LIVE_MAX_SUBSCRIPTIONS` operations per socket (`TOO_MANY_SUBSCRIPTIONS`);
  only subscriptions run over the socket;
- a malformed message closes 4400 (so does a document that does not parse), a
  document that does not validate, names no operation or is no subscription
  answers an `error` message; nothing a client sends logs a traceback;
- an operation stopped (`complete`, its socket closing) leaves the hub at once,
  whatever it was doing (`live.hub.EventHub.release`);
- JSON frames go out as text, and shutdown closes every socket with 1001.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Protocol

import orjson
import uvicorn
from graphql import GraphQLError, GraphQLSyntaxError, parse
from graphql import OperationType as GraphQLOperationType
from graphql.utilities import get_operation_ast
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from core.database import database_unavailable
from live.hub import HUB
from live.sockets import SOCKETS
from permissions.tokens import TOKEN_EXPIRED
from permissions.viewer import Viewer
from resolvers.tickets.live import SLOW_CONSUMER
from schema.errors import finish_errors, is_unexpected
from server.live_checks import CHECKS

logger = logging.getLogger("sitedesk.live")

# Close codes (graphql-transport-ws uses 4400–4499; README and API.md list them).
CLOSE_BAD_REQUEST = 4400
CLOSE_TOKEN_EXPIRED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429
CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN = 1013
CLOSE_INTERNAL_ERROR = 1011
MAX_CLOSE_REASON_BYTES = 123
MAX_OPERATION_ID = 128
# How long closing a socket waits for its operations' tasks to end (they are cancelled).
OPERATION_STOP_SECONDS = 2.0
# A client that has not read what was sent to it for this long is gone: its connection is aborted.
STALLED_SEND_SECONDS = 10.0

# Open sockets of this process (for graceful shutdown).
HANDLERS: set[LiveTransportHandler] = set()


class LiveView(Protocol):
    settings: Any

    async def authenticate_socket(self, authorization: str) -> tuple[Viewer | None, str | None]: ...


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Sends JSON as text frames (the view's encoder returns bytes); refused JSON closes 4400."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    yield self.view.decode_json(text)
                except Exception as exc:  # malformed, too deep, NUL characters
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from exc
        except KeyError as exc:
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        data = self.view.encode_json(message)
        try:
            await self.ws.send_text(data.decode() if isinstance(data, bytes) else data)
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise WebSocketDisconnected from exc

    async def send_text(self, text: str) -> None:
        try:
            await self.ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError):  # already closed
            await self.ws.close(code=code, reason=close_reason(reason))


class EncodedPayloads:
    """The `payload` of recent `next` messages, encoded once for every subscriber who shares the answer.

    Subscribers who share a change's execution (`execution.events`) get the same `data` object;
    its JSON is kept here by that object's identity (the entry holds the object, so the identity
    cannot be reused while the entry lives), for the last `size` answers.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[int, tuple[object, object, str]] = OrderedDict()

    def encoded(self, data: object, extensions: object, encode: Any) -> str:
        entry = self.entries.get(id(data))
        if entry is not None and entry[0] is data and entry[1] == extensions:
            return entry[2]
        payload: dict[str, object] = {"data": data}
        if extensions:
            payload["extensions"] = extensions
        text = encode(payload)
        text = text.decode() if isinstance(text, bytes) else text
        self.entries[id(data)] = (data, extensions, text)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return text


PAYLOADS = EncodedPayloads()


def close_reason(text: str) -> str:
    """`text` cut to the 123 bytes of UTF-8 a WebSocket close reason may have."""
    data = text.encode()
    if len(data) <= MAX_CLOSE_REASON_BYTES:
        return text
    return data[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


def malformed(message: object) -> str | None:
    """Why a client message breaks graphql-transport-ws (a 4400 close), or None when it is well formed."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string type"
    if kind in ("subscribe", "complete"):
        op = message.get("id")
        if not isinstance(op, str) or not op or len(op) > MAX_OPERATION_ID:
            return f"A {kind} message needs an id: a string of 1 to {MAX_OPERATION_ID} characters"
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return "A subscribe payload is an object with a query string"
        for key, kinds in (("variables", dict), ("operationName", str), ("extensions", dict)):
            if payload.get(key) is not None and not isinstance(payload[key], kinds):
                return f"A subscribe payload's {key} must be {'an object' if kinds is dict else 'a string'}"
    return None


def operation_refusal(query: str, operation_name: str | None, max_tokens: int) -> GraphQLError | str | None:
    """What stops a subscribe before it runs: a syntax error (str, a 4400 close), a request error
    (a GraphQLError, sent as the subscription's `error` message), or None (validation is next)."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as exc:
        if "tokens" in exc.message:  # the parser's token limit, as `schema.errors.finish_errors` says it
            return GraphQLError(
                f"The query is too long (at most {max_tokens} tokens).",
                extensions={"code": "TOO_MANY_TOKENS", "limit": max_tokens},
            )
        return exc.message
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        if operation_name is not None:
            message = f"The document has no operation named {operation_name!r}."
        else:
            message = "The document has no operation, or several: name the one to run in operationName."
        return GraphQLError(message, extensions={"code": "BAD_REQUEST"})
    if operation.operation is not GraphQLOperationType.SUBSCRIPTION:
        return GraphQLError(
            "Only subscriptions run over this socket: send queries and mutations over HTTP.",
            extensions={"code": "BAD_REQUEST"},
        )
    return None


class SubscriptionsOnly:
    """The schema as the socket sees it: subscriptions only (queries and mutations go over HTTP)."""

    def __init__(self, schema: Any, max_tokens: int) -> None:
        self.schema = schema
        self.max_tokens = max_tokens

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        source = await self.schema.stream(*args, allowed_operation_types=(OperationType.SUBSCRIPTION,), **kwargs)
        return self._finished(source)

    async def _finished(self, source: Any) -> AsyncGenerator[Any, None]:
        """The results with their errors coded as over HTTP (`GRAPHQL_VALIDATION_FAILED`, ...)."""
        async with aclosing(source):
            async for result in source:
                finish_errors(result.errors, self.max_tokens)
                yield result


class LiveTransportHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws with Sitedesk's authentication, re-checks and limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = SubscriptionsOnly(self.schema, self.live_view.settings.max_tokens)  # type: ignore[assignment]
        self.socket_place: int | None = None  # this socket's `live_socket` row
        self.closing = False
        HANDLERS.add(self)

    @property
    def live_view(self) -> LiveView:
        return self.view  # type: ignore[return-value]

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code=code, reason=close_reason(reason))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        received: Any = message.get("payload")  # the client's JSON: maybe none or not an object
        payload = received or {}
        if not isinstance(payload, dict):
            await self.close(CLOSE_BAD_REQUEST, "Invalid connection_init payload")
            return
        if self.connection_init_received:
            await self.close(CLOSE_TOO_MANY, "Too many initialisation requests")
            return
        self.connection_init_received = True
        authorization = payload.get("authorization") or payload.get("Authorization")
        if not isinstance(authorization, str) or not authorization.strip():
            await self.close(CLOSE_FORBIDDEN, 'Forbidden: send {"authorization": "Bearer <token>"} in connection_init')
            return
        try:
            viewer, reason = await self.live_view.authenticate_socket(authorization)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            await self.close(CLOSE_TRY_AGAIN, "Service unavailable, try again later")
            return
        if viewer is None or viewer.account_id is None:
            if reason == TOKEN_EXPIRED:
                await self.close(CLOSE_TOKEN_EXPIRED, "Token expired: reconnect with a fresh access token")
            else:
                await self.close(CLOSE_FORBIDDEN, f"Forbidden: {reason or 'not signed in'}")
            return
        settings = self.live_view.settings
        try:  # the cap counts the account's sockets in every server process (live/sockets.py)
            place = await SOCKETS.claim(viewer.account_id, settings.live_max_connections, settings.live_recheck_seconds)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            await self.close(CLOSE_TRY_AGAIN, "Service unavailable, try again later")
            return
        if place is None:
            await self.close(
                CLOSE_TOO_MANY, f"Too many connections for this account (at most {settings.live_max_connections})"
            )
            return
        self.socket_place = place
        if self.closing:  # the socket closed while the place was claimed
            await self.release_place()
            return
        # Sockets with the same token share one viewer object and one periodic re-check.
        self.context.viewer = CHECKS.watch(self, authorization, viewer)
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def release_place(self) -> None:
        place, self.socket_place = self.socket_place, None
        if place is not None:
            await SOCKETS.release(place)

    async def handle_message(self, message: Message) -> None:
        """Check the message's shape first: anything malformed closes 4400, nothing reaches a traceback."""
        problem = malformed(message)
        if problem is not None:
            await self.close(CLOSE_BAD_REQUEST, problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # 4401 before connection_ack, 4409 for an id in use
            return
        limit = self.live_view.settings.live_max_subscriptions
        if len(self.operations) >= limit:
            error = GraphQLError(
                f"At most {limit} subscriptions per connection.",
                extensions={"code": "TOO_MANY_SUBSCRIPTIONS", "limit": limit},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        payload = message["payload"]
        refusal = operation_refusal(payload["query"], payload.get("operationName"), self.live_view.settings.max_tokens)
        if isinstance(refusal, str):  # a syntax error: the protocol's 4400
            await self.close(CLOSE_BAD_REQUEST, refusal)
            return
        if refusal is not None:
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal.formatted]})
            return
        await super().handle_subscribe(message)

    async def _send_result_stream(self, operation: Operation[Any, Any], result_source: Any) -> None:
        """Strawberry's loop over an operation's results, sending each `next` through `send_next`;
        a stream ended with `SLOW_CONSUMER` answers the protocol's `error` message (API.md), no `complete`."""
        first = True
        async for result in result_source:
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            if result.data is None and any(code_of(error) == SLOW_CONSUMER for error in result.errors or ()):
                await operation.send_initial_errors(result.errors or [])
                return
            await self.send_next(operation, result)
            first = False

    async def send_next(self, operation: Operation[Any, Any], result: ExecutionResult) -> None:
        """A `next` message; an answer without errors is encoded once for all who share it."""
        if result.errors or not isinstance(result.data, dict):
            await operation.send_next(result)
            return
        if operation.completed:
            return
        payload = PAYLOADS.encoded(result.data, result.extensions, self.view.encode_json)
        # The frame as Strawberry's `Operation.send_next` would encode it: only the id differs.
        frame = '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":' + payload + "}"
        await self.websocket.send_text(frame)  # type: ignore[attr-defined]

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):  # the socket closed while a change was being sent
            return
        # A GraphQL error that escaped the stream is a refusal, not an incident: no traceback.
        if isinstance(error, GraphQLError) and not is_unexpected(error):
            logger.info("live updates: a subscription ended with %s", error.message)
            return
        logger.error("live updates: a subscription failed", exc_info=error)

    async def cleanup_operation(self, operation_id: str) -> None:
        """Stop an operation (`complete`, the socket closing): cancelled, and out of the hub at once."""
        operation = self.operations.get(operation_id)
        await super().cleanup_operation(operation_id)
        if operation is not None and operation.task is not None:
            HUB.release(operation.task)

    async def shutdown(self) -> None:
        HANDLERS.discard(self)
        CHECKS.forget(self)
        self.closing = True
        await self.release_place()
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        tasks = [op.task for op in self.operations.values() if op.task]
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        # Strawberry awaits each task without a bound; a task that ignored its cancellation would
        # hold the socket (and a server's shutdown) for ever, so the wait is bounded.
        if tasks:
            await asyncio.wait(tasks, timeout=OPERATION_STOP_SECONDS)
        for task in tasks:
            HUB.release(task)
            if not task.done():
                logger.warning("live updates: a subscription task did not stop within %ss", OPERATION_STOP_SECONDS)
        await super().shutdown()


async def close_all(code: int = CLOSE_GOING_AWAY, reason: str = "Server shutting down") -> None:
    """Close every live socket of this process (graceful shutdown: 1001, clients reconnect elsewhere).

    All at once and bounded: a client that stopped reading cannot hold the others' close frames
    (or the shutdown) behind its own.
    """

    async def close(handler: LiveTransportHandler) -> None:
        with contextlib.suppress(Exception):
            await handler.close(code, reason)

    closing = [asyncio.ensure_future(close(handler)) for handler in list(HANDLERS)]
    if closing:
        _, late = await asyncio.wait(closing, timeout=OPERATION_STOP_SECONDS)
        for task in late:
            task.cancel()


def code_of(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol with a bounded wait for a client that stopped reading.

    uvicorn's `send` waits without bound for the transport's buffer to drain (a close frame
    too), and closing the transport waits for the buffer to flush: a client that stops reading
    would hold its socket, its subscriptions' sends and the server's shutdown for ever (and
    without permessage-deflate its buffer fills quickly). Here a send waits at most
    `STALLED_SEND_SECONDS`, then the connection is aborted (no close handshake is possible
    with a peer that does not read); shutdown and a keepalive timeout abort such a connection at once.
    """

    async def send(self, message: Any) -> None:
        if not self.writable.is_set():
            try:
                async with asyncio.timeout(STALLED_SEND_SECONDS):
                    await self.writable.wait()
            except TimeoutError:
                self.abort_stalled()
                raise ClientDisconnected from None
        await super().send(message)

    def abort_stalled(self) -> None:
        if not self.disconnected:
            logger.info("live updates: a client stopped reading; its connection is aborted")
            self.transport.abort()

    def shutdown(self) -> None:
        if not self.writable.is_set():
            self.abort_stalled()
            return
        super().shutdown()

    def keepalive_timeout(self) -> None:
        if not self.writable.is_set():
            self.pong_timer = None
            self.abort_stalled()
            return
        super().keepalive_timeout()


class Server(uvicorn.Server):
    """uvicorn's server, closing live sockets with 1001 before it stops (uvicorn itself would send 1012).

    Clients that stopped reading cannot receive a close frame: their connections are aborted first.
    """

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        for connection in list(self.server_state.connections):
            if isinstance(connection, LiveWebSocketProtocol) and not connection.writable.is_set():
                connection.abort_stalled()
        await close_all()
        await super().shutdown(sockets)
