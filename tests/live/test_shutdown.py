"""SIGTERM with live sockets in every state: the server process exits within seconds and every
socket that can still hear it gets 1001 (issue 24: leaked subscriptions used to hold it for ever)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from contextlib import AsyncExitStack
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.settings import Settings
from tests.conftest import World
from tests.hardening.servers import running_servers, server_env
from tests.live.conftest import LIVE_ENV, PROTOCOL, ws_url
from tests.live.test_ticket_changes import comment, create_ticket

CHANGES = "subscription { ticketChanges { kind ticketId } }"
# Every change carries the ticket's comments: a client that stops reading soon holds the server's sends.
HEAVY = "subscription { ticketChanges { ticket { comments(first: 100) { edges { node { body } } } } } }"
EXIT_SECONDS = 5.0


async def opened(url: str, token: str | None, *, reading: bool = True) -> ClientConnection:
    """A socket after `connection_ack` (or, without a token, before `connection_init`)."""
    sock = None
    if not reading:  # a tiny receive buffer and no reads: the server's sends to it stall
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0])))
    ws = await connect(url, subprotocols=[PROTOCOL], open_timeout=10, max_queue=1, sock=sock)  # type: ignore[list-item]
    if token is not None:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "connection_ack"}
    return ws


async def close_code(ws: ClientConnection) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else None


async def test_sigterm_with_subscriptions_in_every_state_exits_within_seconds(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    env = server_env(settings, **{**LIVE_ENV, "SITEDESK_LIVE_MAX_CONNECTIONS": "50"})
    with running_servers(env, 1, tmp_path) as (server,):
        url = ws_url(server)
        async with AsyncExitStack() as stack:
            # Abandoned the way that used to leak: an id used twice (4409), 20 times.
            for _ in range(20):
                ws = await opened(url, world.alice.token)
                for _ in range(2):
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CHANGES}}))
                assert await close_code(ws) == 4409
            acknowledged = await opened(url, world.bob.token)
            waiting_for_events = [await opened(url, world.staff.token) for _ in range(3)]
            for ws in waiting_for_events:
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CHANGES}}))
            # A client that stopped reading while big changes keep coming: the server is sending.
            stalled = await opened(url, world.staff.token, reading=False)
            await stalled.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": HEAVY}}))
            await asyncio.sleep(0.5)
            ticket_id = await create_ticket(server, world.alice.token, world.a1.id, world.defect.id, "Voll")
            for i in range(40):
                await comment(server, world.staff.token, ticket_id, f"{i} " + "x" * 19_000)
            # Just opened (no connection_init yet), and just subscribed: still starting when the signal comes.
            waiting_for_init = await opened(url, None)
            starting = await opened(url, world.carl.token)
            await starting.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CHANGES}}))
            for ws in (waiting_for_init, acknowledged, *waiting_for_events, stalled, starting):
                stack.push_async_callback(ws.close)

            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            codes = await asyncio.gather(
                *(close_code(ws) for ws in (waiting_for_init, acknowledged, *waiting_for_events, starting))
            )
            await asyncio.to_thread(server.process.wait, 20)
            took = time.monotonic() - started
        print(f"\nSIGTERM to exit with sockets open in every state: {took:.2f} s; close codes {codes}")
        assert codes == [1001] * len(codes)
        assert took < EXIT_SECONDS
        log = server.output()
        assert "Traceback" not in log, log[-3000:]
