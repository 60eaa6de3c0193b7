"""Live-update tests: a real `sitedesk serve` on a 127.0.0.1 port and a real graphql-transport-ws client.

`LiveClient` speaks the protocol over the `websockets` library, as a partner's
client would (subprotocol `graphql-transport-ws`, token in `connection_init`).
Writes go over HTTP to a server process, so the events travel the real way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.settings import Settings
from tests.conftest import GraphQLClient
from tests.hardening.servers import Server, running_servers, server_env

PROTOCOL = "graphql-transport-ws"
# Short re-check and init timeout so the tests see them within seconds.
LIVE_ENV = {
    "SITEDESK_LIVE_RECHECK_SECONDS": "1",
    "SITEDESK_LIVE_INIT_TIMEOUT_SECONDS": "2",
    "SITEDESK_LIVE_MAX_SUBSCRIPTIONS": "3",
    "SITEDESK_LIVE_MAX_CONNECTIONS": "4",
    "SITEDESK_CORS_ORIGINS": "https://portal.example",
    "SITEDESK_MAIL_SENDER": "false",
}


def ws_url(server: Server) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql"


class LiveClient:
    """One graphql-transport-ws connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.counter = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            assert isinstance(frame, str), "graphql-transport-ws messages are text frames"
            message = json.loads(frame)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self.counter += 1
        op = str(self.counter)
        await self.send({"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        # The protocol has no acknowledgement of a subscription: let the server register it.
        await asyncio.sleep(0.5)
        return op

    async def next_payload(self, timeout: float = 5.0) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        return message["payload"]

    async def nothing_within(self, seconds: float) -> None:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")

    async def closed_with(self, timeout: float = 10.0) -> int:
        """Wait until the server closes the socket; its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None, "the server closed without a close frame"
            return exc.rcvd.code


@asynccontextmanager
async def live_socket(
    server: Server, token: str | None, *, init: bool = True, origin: str | None = None
) -> AsyncIterator[LiveClient]:
    """A connected socket; with `init`, after `connection_init` (acknowledged or not)."""
    headers = {"Origin": origin} if origin else None
    async with connect(ws_url(server), subprotocols=[PROTOCOL], additional_headers=headers, open_timeout=10) as ws:  # type: ignore[list-item]
        client = LiveClient(ws)
        if init:
            payload = {"authorization": f"Bearer {token}"} if token else {}
            await client.send({"type": "connection_init", "payload": payload})
        yield client


async def acknowledged(client: LiveClient) -> LiveClient:
    message = await client.receive()
    assert message == {"type": "connection_ack"}, message
    return client


@pytest.fixture
def live_servers(settings: Settings, tmp_path: Path) -> Iterator[list[Server]]:
    """One server process; `live_servers_two` gives two (PostgreSQL only)."""
    with running_servers(server_env(settings, **LIVE_ENV), 1, tmp_path) as servers:
        yield servers


@pytest.fixture
def live_server(live_servers: list[Server]) -> Server:
    return live_servers[0]


@asynccontextmanager
async def http_to(server: Server, token: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield GraphQLClient(http, token)
