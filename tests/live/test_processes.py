"""Across server processes (PostgreSQL): a write on one process reaches subscribers on another,
nothing committed is lost while a process's listener reconnects, and the per-account socket cap
holds across processes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from tortoise.connection import get_connection
from websockets.exceptions import ConnectionClosed

from core.settings import Settings
from tests.conftest import World
from tests.factories import make_customer_user
from tests.hardening.servers import running_servers, server_env
from tests.live.conftest import LIVE_ENV, acknowledged, live_socket
from tests.live.test_ticket_changes import CHANGES, comment, create_ticket, gid

pytestmark = pytest.mark.skipif(
    not os.environ.get("SITEDESK_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several server processes need PostgreSQL (SQLite means one process)",
)


async def test_a_write_on_one_process_reaches_a_customer_user_on_another(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    anna = await make_customer_user(settings, world.a, objects=[world.a1], name="Anna")
    with running_servers(server_env(settings, **LIVE_ENV), 2, tmp_path) as (a, b):
        async with live_socket(b, anna.token) as customer, live_socket(b, world.staff.token) as employee:
            await acknowledged(customer)
            await acknowledged(employee)
            await customer.subscribe(CHANGES, {"objectId": gid("SiteObject", world.a1.id)})
            await employee.subscribe(CHANGES)

            started = time.monotonic()
            ticket_id = await create_ticket(a, world.alice.token, world.a1.id, world.defect.id, "Tür klemmt")
            created = await customer.next_payload(timeout=1.0)
            assert time.monotonic() - started < 1.0
            assert created["data"]["ticketChanges"]["ticket"]["title"] == "Tür klemmt"

            await comment(a, world.staff.token, ticket_id, "Intern: teuer", internal=True)
            started = time.monotonic()
            await comment(a, world.staff.token, ticket_id, "Wir kommen morgen")
            public = await customer.next_payload(timeout=1.0)
            assert time.monotonic() - started < 1.0
            assert public["data"]["ticketChanges"]["kind"] == "COMMENT_ADDED"
            assert public["data"]["ticketChanges"]["comment"] == {"body": "Wir kommen morgen"}
            await customer.nothing_within(1.0)
            bodies = [(await employee.next_payload())["data"]["ticketChanges"]["comment"] for _ in range(3)]
            assert bodies == [None, {"body": "Intern: teuer"}, {"body": "Wir kommen morgen"}]
        logs = a.output() + b.output()
    assert "Traceback" not in logs


async def test_entries_committed_while_the_listener_reconnects_are_caught_up(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    with running_servers(server_env(settings, **LIVE_ENV), 2, tmp_path) as (a, b):
        async with live_socket(b, world.staff.token) as employee:
            await acknowledged(employee)
            await employee.subscribe(CHANGES)
            ticket_id = await create_ticket(a, world.alice.token, world.a1.id, world.defect.id, "Vorher")
            assert (await employee.next_payload())["data"]["ticketChanges"]["kind"] == "CREATED"

            # Cut the listeners' connections (as a PostgreSQL restart would), then write at once:
            # those NOTIFYs reach no listener.
            connection = get_connection("default")
            killed = await connection.execute_query_dict(
                "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN %'"
            )
            assert len(killed) == 1  # B's (a process listens once it has a subscriber)
            for i in range(3):
                await comment(a, world.staff.token, ticket_id, f"Während {i}")
            got = [(await employee.next_payload(timeout=10))["data"]["ticketChanges"]["comment"] for _ in range(3)]
            assert got == [{"body": f"Während {i}"} for i in range(3)]
            await employee.nothing_within(1.0)
            # And the listener is back for new writes.
            await comment(a, world.staff.token, ticket_id, "Danach")
            assert (await employee.next_payload(timeout=3))["data"]["ticketChanges"]["comment"] == {"body": "Danach"}
        await asyncio.sleep(0)


async def test_the_socket_cap_holds_across_processes_and_a_killed_process_frees_its_places(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    with running_servers(server_env(settings, **LIVE_ENV), 2, tmp_path) as (a, b):
        async with AsyncExitStack() as stack:
            for server in (a, b, a, b):  # SITEDESK_LIVE_MAX_CONNECTIONS=4: two on each process
                await acknowledged(await stack.enter_async_context(live_socket(server, world.alice.token)))
            for server in (a, b):
                async with live_socket(server, world.alice.token) as fifth:
                    assert await fifth.closed_with() == 4429
            async with live_socket(b, world.bob.token) as bob:  # another account is not affected
                await acknowledged(bob)
            # A crashed process cannot release its places: they stop counting once its heartbeat ends
            # (3 × SITEDESK_LIVE_RECHECK_SECONDS + 2 s = 5 s here).
            a.process.send_signal(signal.SIGKILL)
            a.process.wait(timeout=10)
            killed = time.monotonic()
            async with live_socket(b, world.alice.token) as refused:
                assert await refused.closed_with() == 4429  # right after the crash: still counted
            while True:
                async with live_socket(b, world.alice.token) as again:
                    try:
                        message = await again.receive()
                    except ConnectionClosed:
                        message = None
                if message == {"type": "connection_ack"}:
                    break
                assert time.monotonic() - killed < 15, "the killed process's places were never freed"
                await asyncio.sleep(0.5)
            freed_after = time.monotonic() - killed
        assert 3 < freed_after < 10, freed_after
