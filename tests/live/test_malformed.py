"""Malformed messages on the live socket: each gets the answer API.md promises, no traceback is logged,
and the server goes on serving (issue 24)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from core.settings import Settings
from tests.conftest import World
from tests.hardening.servers import Server, running_servers, server_env
from tests.live.conftest import LIVE_ENV, acknowledged, live_socket

CHANGES = "subscription { ticketChanges { kind ticketId } }"


async def still_serving(server: Server, token: str) -> None:
    """A fresh socket of the same account is acknowledged and may subscribe."""
    async with live_socket(server, token) as client:
        await acknowledged(client)
        await client.subscribe(CHANGES)
        await client.nothing_within(0.3)


@pytest.fixture(scope="module")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the whole module: every case must leave it serving anyway."""
    env = server_env(settings, **{**LIVE_ENV, "SITEDESK_LIVE_MAX_CONNECTIONS": "50"})
    with running_servers(env, 1, tmp_path_factory.mktemp("malformed")) as (server,):
        yield server


def no_traceback(server: Server) -> None:
    log = server.output()
    assert "Traceback" not in log and "Exception in" not in log, log[-3000:]


@pytest.mark.parametrize(
    "frame",
    [
        "[1,2,3]",
        '"text"',
        "42",
        "null",
        "true",
        "{}",
        '{"type": 5}',
        '{"type": "nope"}',
        '{"type": "connection_ack"}',  # a server's message
        '{"type": "next", "id": "1", "payload": {}}',
        "not json",
        b"\x00binary",
    ],
)
async def test_anonymous_frames_that_are_no_message_close_4400(
    world: World, live_server: Server, frame: str | bytes
) -> None:
    async with live_socket(live_server, None, init=False) as client:
        await client.ws.send(frame)
        assert await client.closed_with() == 4400
    await still_serving(live_server, world.alice.token)
    no_traceback(live_server)


@pytest.mark.parametrize(
    "message",
    [
        [1, 2, 3],
        "subscribe",
        {"type": "subscribe", "payload": {"query": CHANGES}},  # no id
        {"id": 1, "type": "subscribe", "payload": {"query": CHANGES}},
        {"id": ["1"], "type": "subscribe", "payload": {"query": CHANGES}},
        {"id": "", "type": "subscribe", "payload": {"query": CHANGES}},
        {"id": "x" * 500, "type": "subscribe", "payload": {"query": CHANGES}},
        {"id": "1", "type": "subscribe"},
        {"id": "1", "type": "subscribe", "payload": None},
        {"id": "1", "type": "subscribe", "payload": [CHANGES]},
        {"id": "1", "type": "subscribe", "payload": {"query": CHANGES, "variables": [1]}},
        {"id": "1", "type": "subscribe", "payload": {"query": CHANGES, "operationName": 7}},
        {"id": "1", "type": "subscribe", "payload": {"query": CHANGES, "extensions": "x"}},
        {"id": {"a": 1}, "type": "complete"},
        {"type": "complete"},
        {"type": None},
    ],
)
async def test_malformed_messages_of_a_signed_in_client_close_4400(
    world: World, live_server: Server, message: object
) -> None:
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.ws.send(json.dumps(message))
        assert await client.closed_with() == 4400
    await still_serving(live_server, world.alice.token)
    no_traceback(live_server)


@pytest.mark.parametrize(
    "document", ["subscription { ticketChanges { kind ", "subscription {", "}}}", "", "subscription ! { x }"]
)
async def test_a_document_that_does_not_parse_closes_4400(world: World, live_server: Server, document: str) -> None:
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.send({"id": "1", "type": "subscribe", "payload": {"query": document}})
        assert await client.closed_with() == 4400
    await still_serving(live_server, world.alice.token)
    no_traceback(live_server)


async def test_a_long_syntax_error_still_closes_cleanly(world: World, live_server: Server) -> None:
    # The close reason is cut to the 123 bytes a WebSocket close frame may carry.
    document = "subscription { ticketChanges { " + "ä" * 300 + " } }"
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.send({"id": "1", "type": "subscribe", "payload": {"query": document}})
        assert await client.closed_with() == 4400
    no_traceback(live_server)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"query": "subscription { ticketChanges { nope } }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "subscription { nothing }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "subscription S($x: Int!) { ticketChanges(objectId: $x) { kind } }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "subscription { ticketChanges(ticketId: 1, objectId: true) { kind } }"},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": CHANGES, "operationName": "Missing"}, "BAD_REQUEST"),
        (
            {"query": "subscription A { ticketChanges { kind } } subscription B { ticketChanges { kind } }"},
            "BAD_REQUEST",
        ),
        ({"query": "query { me { name } }"}, "BAD_REQUEST"),
        ({"query": "subscription { " + "a: __typename " * 1500 + "}"}, "TOO_MANY_TOKENS"),
    ],
)
async def test_a_document_that_does_not_validate_is_an_error_message(
    world: World, live_server: Server, payload: dict[str, object], code: str
) -> None:
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.send({"id": "bad", "type": "subscribe", "payload": payload})
        message = await client.receive()
        assert message["type"] == "error" and message["id"] == "bad", message
        assert [error["extensions"]["code"] for error in message["payload"]] == [code] * len(message["payload"])
        # The socket stays open and the id is free again.
        await client.send({"id": "bad", "type": "subscribe", "payload": {"query": CHANGES}})
        await client.nothing_within(0.5)
    no_traceback(live_server)


async def test_a_second_document_of_several_runs_when_named(world: World, live_server: Server) -> None:
    document = "query Q { me { name } } subscription S { ticketChanges { kind } }"
    async with live_socket(live_server, world.alice.token) as client:
        await acknowledged(client)
        await client.send({"id": "1", "type": "subscribe", "payload": {"query": document, "operationName": "S"}})
        await client.nothing_within(0.5)  # running, waiting for a change
    no_traceback(live_server)
