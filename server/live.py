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
- at most `SITEDESK_LIVE_MAX_CONNECTIONS` sockets per account in this process
  (4429) and `SITEDESK_LIVE_MAX_SUBSCRIPTIONS` operations per socket
  (`TOO_MANY_SUBSCRIPTIONS`); only subscriptions run over the socket;
- JSON frames go out as text, and shutdown closes every socket with 1001.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Protocol

import jwt
import uvicorn
from graphql import GraphQLError, parse
from graphql import OperationType as GraphQLOperationType
from graphql.utilities import get_operation_ast
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, SubscribeMessage
from strawberry.types.graphql import OperationType

from core.database import database_unavailable
from permissions.tokens import TOKEN_EXPIRED
from permissions.viewer import Viewer

logger = logging.getLogger("sitedesk.live")

# Close codes (graphql-transport-ws uses 4400–4499; README and API.md list them).
CLOSE_BAD_REQUEST = 4400
CLOSE_TOKEN_EXPIRED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429
CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN = 1013

# Open sockets of this process (for the per-account cap and graceful shutdown).
HANDLERS: set[LiveTransportHandler] = set()
CONNECTIONS: Counter[int] = Counter()


class LiveView(Protocol):
    settings: Any

    async def authenticate_socket(self, authorization: str) -> tuple[Viewer | None, str | None]: ...


def token_expiry(authorization: str) -> float | None:
    """The `exp` (epoch seconds) of a bearer JWT, read without verifying (it was verified already).

    None for tokens that are not JWTs (API tokens): those live until revoked,
    which the periodic re-check notices.
    """
    _, _, token = authorization.partition(" ")
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, (int, float)) else None


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

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError):  # already closed
            await self.ws.close(code=code, reason=reason)


def is_subscription(message: SubscribeMessage, max_tokens: int) -> bool:
    """Whether the message's operation is a subscription (an unparsable one: yes, Strawberry refuses it)."""
    received: Any = message.get("payload")  # the client's JSON: maybe none, whatever the TypedDict says
    payload = received or {}
    try:
        document = parse(payload.get("query") or "", max_tokens=max_tokens)
    except GraphQLError:
        return True
    operation = get_operation_ast(document, payload.get("operationName"))
    return operation is None or operation.operation is GraphQLOperationType.SUBSCRIPTION


class SubscriptionsOnly:
    """The schema as the socket sees it: subscriptions only (queries and mutations go over HTTP)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        return await self.schema.stream(*args, allowed_operation_types=(OperationType.SUBSCRIPTION,), **kwargs)


class LiveTransportHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws with Sitedesk's authentication, re-checks and limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = SubscriptionsOnly(self.schema)  # type: ignore[assignment]
        self.account_id: int | None = None
        self.watchdog: asyncio.Task[None] | None = None
        HANDLERS.add(self)

    @property
    def live_view(self) -> LiveView:
        return self.view  # type: ignore[return-value]

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code=code, reason=reason)

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
        if CONNECTIONS[viewer.account_id] >= settings.live_max_connections:
            await self.close(
                CLOSE_TOO_MANY, f"Too many connections for this account (at most {settings.live_max_connections})"
            )
            return
        self.account_id = viewer.account_id
        CONNECTIONS[viewer.account_id] += 1
        self.context.viewer = viewer
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self.watchdog = asyncio.create_task(self.watch(authorization), name="sitedesk-live-watchdog")

    async def watch(self, authorization: str) -> None:
        """Close at the token's expiry (4401); re-check the token and reload the viewer periodically."""
        settings = self.live_view.settings
        expires = token_expiry(authorization)
        while True:
            wait = float(settings.live_recheck_seconds)
            if expires is not None:
                wait = min(wait, expires - time.time())
            await asyncio.sleep(max(wait, 0.0))
            if expires is not None and time.time() >= expires:
                await self.close(CLOSE_TOKEN_EXPIRED, "Token expired: reconnect with a fresh access token")
                return
            try:
                viewer, reason = await self.live_view.authenticate_socket(authorization)
            except Exception as exc:  # the database away: keep the socket, try again
                logger.warning("live updates: re-checking a socket's token failed: %s", exc)
                continue
            if viewer is None:
                code = CLOSE_TOKEN_EXPIRED if reason == TOKEN_EXPIRED else CLOSE_FORBIDDEN
                await self.close(code, f"Forbidden: {reason}")
                return
            self.context.viewer = viewer

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            await self.close(CLOSE_BAD_REQUEST, "A subscribe payload is an object with a query string")
            return
        limit = self.live_view.settings.live_max_subscriptions
        if self.connection_acknowledged and message["id"] not in self.operations and len(self.operations) >= limit:
            error = GraphQLError(
                f"At most {limit} subscriptions per connection.",
                extensions={"code": "TOO_MANY_SUBSCRIPTIONS", "limit": limit},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        if self.connection_acknowledged and not is_subscription(message, self.live_view.settings.max_tokens):
            error = GraphQLError(
                "Only subscriptions run over this socket: send queries and mutations over HTTP.",
                extensions={"code": "BAD_REQUEST"},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        HANDLERS.discard(self)
        if self.watchdog is not None:
            self.watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.watchdog
        if self.account_id is not None:
            CONNECTIONS[self.account_id] -= 1
            if CONNECTIONS[self.account_id] <= 0:
                del CONNECTIONS[self.account_id]
            self.account_id = None
        await super().shutdown()


async def close_all(code: int = CLOSE_GOING_AWAY, reason: str = "Server shutting down") -> None:
    """Close every live socket of this process (graceful shutdown: 1001, clients reconnect elsewhere)."""
    for handler in list(HANDLERS):
        with contextlib.suppress(Exception):
            await handler.close(code, reason)


class Server(uvicorn.Server):
    """uvicorn's server, closing live sockets with 1001 before it stops (uvicorn itself would send 1012)."""

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        await close_all()
        await super().shutdown(sockets)
