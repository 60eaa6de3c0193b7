"""A client that stops reading is cut off within a bounded time, without permessage-deflate
(issue 25): its sends stop waiting, its subscriptions end and its socket is gone, while a
reading client on the same server keeps getting its changes.

The server runs in this process with `sitedesk serve`'s WebSocket options (`server.live.
LiveWebSocketProtocol`, no compression) and a short `STALLED_SEND_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import uvicorn
from websockets.asyncio.client import connect

from core.settings import Settings
from live.hub import HUB, LiveEvent
from live.sockets import SOCKETS
from server import live
from server.app import create_app
from tests.conftest import World
from tests.factories import make_comment, make_ticket
from tests.hardening.servers import free_port
from tests.live.conftest import PROTOCOL
from tests.live.test_abandon import acked

# Every change carries the ticket's comments (about 1 MB): a client that does not read fills its buffers at once.
HEAVY = "subscription { ticketChanges { ticket { comments(first: 50) { edges { node { body } } } } } }"
LIGHT = "subscription { ticketChanges { kind } }"
# Event ids no other test publishes (the hub remembers the ids it handled).
FIRST_EVENT = 3 * 10**9


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[int]:
    app = create_app(settings, manage_database=False, mail_sender=False)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="server.live:LiveWebSocketProtocol",
        ws_per_message_deflate=False,
    )
    server = live.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task
        await HUB.stop()
        await SOCKETS.stop()


async def test_a_client_that_stops_reading_is_cut_off_within_the_bound(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "STALLED_SEND_SECONDS", 1.0)
    ticket = await make_ticket(world.a1, world.defect, "Voll", by=world.alice)
    for i in range(50):
        await make_comment(ticket, world.staff, f"{i} " + "x" * 19_000)
    async with serving(settings) as port:
        url = f"ws://127.0.0.1:{port}/graphql"
        # A tiny receive buffer and no reads: the server's sends to it stall.
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        async with (
            connect(url, subprotocols=[PROTOCOL], open_timeout=10, max_queue=1, sock=raw) as stalled,  # type: ignore[list-item]
            acked(url, world.staff.token) as reading,
        ):
            await stalled.send(
                json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {world.staff.token}"}})
            )
            await stalled.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": HEAVY}}))
            await reading.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": LIGHT}}))
            while len(HUB.subscribers) < 2:
                await asyncio.sleep(0.02)
            started = time.monotonic()
            for i in range(20):
                await HUB.publish(
                    [LiveEvent(FIRST_EVENT + i, ticket.id, world.a1.id, "UPDATED", None, None, datetime.now(UTC))]
                )
                message = json.loads(await asyncio.wait_for(reading.recv(), 5))
                assert message["type"] == "next", message
            # The stalled socket is gone within the bound: its handler, its subscription, its place.
            while len(live.HANDLERS) > 1 or len(HUB.subscribers) > 1:
                assert time.monotonic() - started < 8, (len(live.HANDLERS), len(HUB.subscribers))
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
            # The reading client was not held up by it.
            await HUB.publish(
                [LiveEvent(FIRST_EVENT + 99, ticket.id, world.a1.id, "UPDATED", None, None, datetime.now(UTC))]
            )
            assert json.loads(await asyncio.wait_for(reading.recv(), 5))["type"] == "next"
    print(f"\na client that stopped reading was cut off after {took:.1f} s")
