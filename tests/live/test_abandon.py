"""Subscriptions abandoned every way leave nothing behind (issue 24): the hub's sets, the
`sitedesk_active_subscriptions` gauge, the open sockets and their places all return to 0.

The server runs in this process (uvicorn on a 127.0.0.1 port, the real WebSocket stack) so the
test can look into the hub; the client is the `websockets` package as elsewhere in tests/live/.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.metrics import ACTIVE_SUBSCRIPTIONS
from core.settings import Settings
from live.hub import HUB, LiveEvent
from live.sockets import SOCKETS
from models.http import LiveSocket
from server import live
from server.app import create_app
from tests.conftest import World
from tests.factories import make_ticket
from tests.hardening.servers import free_port
from tests.live.conftest import PROTOCOL
from tests.live.test_connections import token_expiring_in

CHANGES = "subscription { ticketChanges { kind ticketId } }"
ROUNDS = 40  # each round abandons 6 subscriptions; the token-expiry batch adds 20
DEADLINE_SECONDS = 120


def gauge() -> float:
    return float(ACTIVE_SUBSCRIPTIONS._value.get())


def leftovers() -> dict[str, float]:
    """Everything that must be back at 0 once no socket is open."""
    return {
        "gauge": gauge(),
        "hub subscribers": len(HUB.subscribers),
        "hub owners": len(HUB.owners),
        "open sockets": len(live.HANDLERS),
        "socket places": len(SOCKETS.held),
    }


@asynccontextmanager
async def in_process_server(settings: Settings) -> AsyncIterator[str]:
    app = create_app(settings, manage_database=False, mail_sender=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
        await HUB.stop()  # the next test's hub starts afresh
        await SOCKETS.stop()


@asynccontextmanager
async def acked(url: str, token: str) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=10) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "connection_ack"}
        yield ws


async def subscribe(ws: ClientConnection, op: str) -> None:
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": {"query": CHANGES}}))


async def until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not reached within {timeout} s: {leftovers()}"
        await asyncio.sleep(0.01)


async def closed_with(ws: ClientConnection) -> int:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    except ConnectionClosed as exc:
        assert exc.rcvd is not None
        return exc.rcvd.code


async def test_subscriptions_abandoned_every_way_leave_nothing_behind(world: World, settings: Settings) -> None:
    tight = replace(settings, live_queue_size=1, live_max_connections=50, live_recheck_seconds=1)
    ticket = await make_ticket(world.a1, world.defect, "Zu viel auf einmal", by=world.alice)  # for the slow consumer
    assert leftovers() == dict.fromkeys(leftovers(), 0)
    started = time.monotonic()
    peak = 0
    async with in_process_server(tight) as url:
        for round_ in range(ROUNDS):
            # 1. An id used twice, while the first is still starting: 4409, both gone.
            async with acked(url, world.alice.token) as ws:
                await subscribe(ws, "1")
                await subscribe(ws, "1")
                assert await closed_with(ws) == 4409
            # 2. An id used twice once the first waits for events.
            async with acked(url, world.alice.token) as ws:
                await subscribe(ws, "1")
                await until(lambda: len(HUB.subscribers) >= 1)
                peak = max(peak, len(HUB.subscribers))
                await subscribe(ws, "1")
                assert await closed_with(ws) == 4409
            # 3. complete, at once and once running; the socket stays open meanwhile.
            async with acked(url, world.bob.token) as ws:
                await subscribe(ws, "a")
                await ws.send(json.dumps({"id": "a", "type": "complete"}))
                await subscribe(ws, "b")
                await until(lambda: len(HUB.subscribers) >= 1)
                await ws.send(json.dumps({"id": "b", "type": "complete"}))
                await until(lambda: len(HUB.subscribers) == 0)
            # 4. The client goes away: at once, and while its subscription waits.
            async with acked(url, world.carl.token) as ws:
                await subscribe(ws, "1")
            async with acked(url, world.carl.token) as ws:
                await subscribe(ws, "1")
                await until(lambda: len(HUB.subscribers) >= 1)
            # 5. A slow consumer: more changes at once than its queue holds (SLOW_CONSUMER).
            async with acked(url, world.staff.token) as ws:
                await subscribe(ws, "1")
                await until(lambda: len(HUB.subscribers) >= 1)
                await HUB.publish(
                    LiveEvent(10**9 + round_ * 10 + i, ticket.id, world.a1.id, "UPDATED", None, None, datetime.now(UTC))
                    for i in range(3)
                )
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                # The protocol's `error` message (API.md), which ends the subscription: no `complete`.
                assert message["type"] == "error" and message["id"] == "1", message
                assert message["payload"][0]["extensions"]["code"] == "SLOW_CONSUMER", message
                await subscribe(ws, "1")  # the id is free again, and the socket still open
                await until(lambda: len(HUB.subscribers) >= 1)
            assert time.monotonic() - started < DEADLINE_SECONDS
        # 6. The server closes on token expiry (4401), 20 sockets at once.
        expiring = token_expiring_in(tight, world.alice.account, 2)

        async def expire() -> int:
            async with acked(url, expiring) as ws:
                await subscribe(ws, "1")
                return await closed_with(ws)

        waiting = [asyncio.create_task(expire()) for _ in range(20)]
        await until(lambda: len(HUB.subscribers) == 20)
        peak = max(peak, gauge())
        assert await asyncio.gather(*waiting) == [4401] * 20
        await until(lambda: leftovers() == dict.fromkeys(leftovers(), 0))
        after = leftovers()
    print(f"\nafter {ROUNDS * 7 + 20} abandoned subscriptions in {time.monotonic() - started:.1f} s: {after}")
    assert peak >= 20  # the subscriptions did run
    assert after == dict.fromkeys(after, 0)
    assert await LiveSocket.all().count() == 0
