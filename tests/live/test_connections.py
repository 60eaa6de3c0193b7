"""The live socket's door: tokens, close codes, limits, origins, shutdown."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from core.settings import Settings
from models.accounts import Account
from permissions.tokens import issue_access_token
from tests.conftest import World
from tests.hardening.servers import Server, running_servers, server_env
from tests.live.conftest import LIVE_ENV, PROTOCOL, acknowledged, live_socket, ws_url

CHANGES = "subscription { ticketChanges { kind ticketId } }"


def token_expiring_in(settings: Settings, account: Account, seconds: float) -> str:
    issued = datetime.now(UTC) - timedelta(minutes=settings.access_token_minutes) + timedelta(seconds=seconds)
    return issue_access_token(settings, account.id, account.kind, account.token_version, now=issued)


async def test_a_bad_token_closes_4403(world: World, live_server: Server) -> None:
    for token in ("not-a-token", world.alice.token[:-4] + "AAAA", None):
        async with live_socket(live_server, token) as client:
            assert await client.closed_with() == 4403


async def test_no_connection_init_closes_4408(live_server: Server) -> None:
    async with live_socket(live_server, None, init=False) as client:
        assert await client.closed_with(timeout=5) == 4408


async def test_subscribing_before_connection_init_is_refused(world: World, live_server: Server) -> None:
    async with live_socket(live_server, None, init=False) as client:
        await client.send({"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        assert await client.closed_with() == 4401


@pytest.mark.parametrize("payload", [[], {"query": 1}, {"variables": {}}, "subscription { x }"])
async def test_a_malformed_subscribe_closes_4400(world: World, live_server: Server, payload: object) -> None:
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.send({"id": "1", "type": "subscribe", "payload": payload})
        assert await client.closed_with() == 4400


async def test_the_token_expiring_closes_4401(world: World, settings: Settings, live_server: Server) -> None:
    token = token_expiring_in(settings, world.alice.account, 2)
    async with live_socket(live_server, token) as client:
        await acknowledged(client)
        await client.subscribe(CHANGES)
        started = asyncio.get_running_loop().time()
        assert await client.closed_with(timeout=6) == 4401
        assert asyncio.get_running_loop().time() - started < 4
    # Already expired at connection_init: 4401 too, so the client refreshes and reconnects.
    async with live_socket(live_server, token_expiring_in(settings, world.alice.account, -5)) as client:
        assert await client.closed_with() == 4401


async def test_a_deactivated_account_is_disconnected_within_seconds(world: World, live_server: Server) -> None:
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.subscribe(CHANGES)
        await Account.filter(id=world.alice.account.id).update(is_active=False)
        assert await client.closed_with(timeout=5) == 4403


async def test_subscriptions_per_connection_are_capped(world: World, live_server: Server) -> None:
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        for _ in range(3):  # SITEDESK_LIVE_MAX_SUBSCRIPTIONS=3
            await client.subscribe(CHANGES)
        op = await client.subscribe(CHANGES)
        message = await client.receive()
        assert message["type"] == "error" and message["id"] == op
        assert message["payload"][0]["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": 3}


async def test_connections_per_account_are_capped(world: World, live_server: Server) -> None:
    sockets = [live_socket(live_server, world.alice.token) for _ in range(4)]  # SITEDESK_LIVE_MAX_CONNECTIONS=4
    opened = [await s.__aenter__() for s in sockets]
    try:
        for client in opened:
            await acknowledged(client)
        async with live_socket(live_server, world.alice.token) as fifth:
            assert await fifth.closed_with() == 4429
        # Another account is not affected.
        async with live_socket(live_server, world.bob.token) as bob:
            await acknowledged(bob)
    finally:
        for s in sockets:
            await s.__aexit__(None, None, None)
    await asyncio.sleep(0.5)
    async with live_socket(live_server, world.alice.token) as again:  # freed when they closed
        await acknowledged(again)


async def test_browser_origins_are_checked(world: World, live_server: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            ws_url(live_server), subprotocols=[PROTOCOL], additional_headers={"Origin": "https://evil.example"}
        ):
            pass
    assert refused.value.response.status_code == 403
    async with live_socket(live_server, world.alice.token, origin="https://portal.example") as client:
        await acknowledged(client)


async def test_only_graphql_transport_ws_is_spoken(live_server: Server) -> None:
    # The legacy `graphql-ws` protocol is off: no subprotocol is agreed and the socket closes 4406.
    async with connect(ws_url(live_server), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_query_limits_apply_to_subscription_documents(world: World, live_server: Server) -> None:
    nested = "object { tickets { edges { node { " * 3
    deep = "subscription { ticketChanges { ticket { " + nested + "id" + " } } } }" * 3 + " } } }"
    costly = (
        "subscription { ticketChanges { ticket { object { tickets(first: 100) { edges { node { "
        "comments(first: 100) { edges { node { body author { name } createdAt editedAt } } } } } } } } } }"
    )
    async with live_socket(live_server, world.staff.token) as client:
        await acknowledged(client)
        codes = []
        for document in (deep, costly, "{ me { name } }"):
            await client.subscribe(document)
            message = await client.receive()
            assert message["type"] in ("error", "next"), message
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            codes.append((errors[0].get("extensions") or {}).get("code") or errors[0]["message"])
        # Queries and mutations go over HTTP; the socket runs subscriptions only.
        assert codes == ["QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX", "BAD_REQUEST"], codes


async def test_shutdown_closes_sockets_with_1001(world: World, settings: Settings, tmp_path: Path) -> None:
    with running_servers(server_env(settings, **LIVE_ENV), 1, tmp_path) as (server,):
        async with live_socket(server, world.alice.token) as client:
            await acknowledged(client)
            await client.subscribe(CHANGES)
            server.process.send_signal(signal.SIGTERM)
            assert await client.closed_with(timeout=10) == 1001
        server.process.wait(timeout=20)
        assert "Traceback" not in server.output()
