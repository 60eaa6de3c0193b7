"""Execute once, send many (issue 25): subscribers who must get the same answer share one execution,
and viewers who may get different answers never do.

The refused side first: `answer_key` keeps apart every two viewers whose answers may differ
(another customer, another kind of viewer or set of permissions, another locale; for a document
with any field beyond `SHARED_FIELDS`, any other viewer), and over a real socket two employees of
one shape whose scopes differ get their own answers. Then the sharing itself, counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from websockets.asyncio.client import ClientConnection

from core.metrics import LIVE_ANSWERS
from core.settings import Settings
from execution.schema import schema
from schema.live import answer_key, only_shared_fields
from tests.conftest import GraphQLClient, World
from tests.factories import make_customer_user, make_employee, make_ticket, viewer_of
from tests.live.test_abandon import acked, in_process_server
from tests.live.test_ticket_changes import COMMENT, CREATE, gid

SHARED = "subscription { ticketChanges { kind ticketId ticket { title } comment { body internal } } }"
# The ticket's object's tickets: an absence request counts only for its author (and HR).
PER_VIEWER = "subscription { ticketChanges { kind ticket { object { tickets(first: 50) { totalCount } } } } }"


def shared(document: str) -> bool:
    parsed = parse(document)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    (root,) = operations[0].selection_set.selections
    return only_shared_fields(schema._schema, "TicketChange", root.selection_set, fragments)  # type: ignore[arg-type, attr-defined]


def test_only_row_fields_are_shared_across_viewers() -> None:
    assert shared(SHARED)
    assert shared("subscription { ticketChanges { ...C } } fragment C on TicketChange { __typename occurredAt }")
    assert shared("subscription { ticketChanges { ticket { ... on Ticket { status priority dueDate } } } }")
    for per_viewer in (
        PER_VIEWER,
        "subscription { ticketChanges { ticket { viewerCan { edit } } } }",
        "subscription { ticketChanges { comment { author { __typename } } } }",
        "subscription { ticketChanges { attachment { downloadUrl } } }",
        "subscription { ticketChanges { ticket { commentCount } } }",
        # Hidden in a fragment, or in a fragment's fragment.
        "subscription { ticketChanges { ...C } } fragment C on TicketChange { ticket { ...T } }"
        " fragment T on Ticket { title assignee { __typename } }",
        "subscription { ticketChanges { ticket { ... on Node { id } } } }",
    ):
        assert not shared(per_viewer), per_viewer


async def test_answer_keys_keep_apart_viewers_whose_answers_may_differ(world: World, settings: Settings) -> None:
    anna = await viewer_of(await make_customer_user(settings, world.a, objects=[world.a1], name="Anna"))
    alice, bob, carl = [await viewer_of(p) for p in (world.alice, world.bob, world.carl)]
    staff, petra, hr, admin = [await viewer_of(p) for p in (world.staff, world.petra, world.hr, world.admin)]
    staff2 = await viewer_of(await make_employee(settings, name="Jonas Zwei"))
    # Viewers of one kind, customer and permissions share a document of row fields...
    assert answer_key(SHARED, True, alice) == answer_key(SHARED, True, anna) == answer_key(SHARED, True, bob)
    assert answer_key(SHARED, True, staff) == answer_key(SHARED, True, staff2)
    # ...but never across customers, kinds, permissions, locales or documents.
    apart = [alice, carl, staff, petra, hr, admin, dataclasses.replace(anna, locale="en")]
    assert len({answer_key(SHARED, True, v) for v in apart}) == len(apart)
    assert answer_key(SHARED, True, alice) != answer_key(PER_VIEWER, True, alice)
    # Any other document: one answer per viewer.
    everybody = [alice, anna, bob, carl, staff, staff2, petra, hr, admin]
    assert len({answer_key(PER_VIEWER, False, v) for v in everybody}) == len(everybody)


def answers() -> dict[str, float]:
    return {how: LIVE_ANSWERS.labels(how)._value.get() for how in ("executed", "shared")}


@asynccontextmanager
async def subscribed(url: str, token: str, document: str) -> AsyncIterator[ClientConnection]:
    async with acked(url, token) as ws:
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        yield ws


async def changes(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    got = []
    for _ in range(count):
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "next" and message["id"] == "1", message
        got.append(message["payload"])
    return got


async def test_one_execution_per_kind_of_viewer_and_differing_scopes_stay_apart(
    world: World, settings: Settings
) -> None:
    anna = await make_customer_user(settings, world.a, objects=[world.a1], name="Anna")
    staff2 = await make_employee(settings, name="Jonas Zwei")  # the same permissions (none) as staff
    # Staff2's absence request on a1: in staff2's scope, not in staff's.
    await make_ticket(world.a1, world.vacation, "Urlaub", by=staff2)
    async with in_process_server(settings) as url, AsyncExitStack() as stack:
        sockets = {
            (name, document): await stack.enter_async_context(subscribed(url, person.token, document))
            for name, person in (("alice", world.alice), ("anna", anna), ("staff", world.staff), ("staff2", staff2))
            for document in (SHARED, PER_VIEWER)
        }
        carl = await stack.enter_async_context(subscribed(url, world.carl.token, SHARED))
        await asyncio.sleep(0.5)
        before = answers()
        http_url = url.replace("ws://", "http://").removesuffix("/graphql")
        async with httpx.AsyncClient(base_url=http_url, timeout=30) as http:
            created = await GraphQLClient(http, world.alice.token).ok(
                CREATE,
                {
                    "input": {
                        "objectId": gid("SiteObject", world.a1.id),
                        "ticketTypeId": gid("TicketType", world.defect.id),
                        "title": "Tür",
                    }
                },
            )
            ticket_id = created["createTicket"]["id"]
            employee = GraphQLClient(http, world.staff.token)
            await employee.ok(COMMENT, {"input": {"ticketId": ticket_id, "body": "Intern: teuer", "internal": True}})
            await employee.ok(COMMENT, {"input": {"ticketId": ticket_id, "body": "Wir kommen"}})
        got = {key: await changes(ws, 2 if key[0] in ("alice", "anna") else 3) for key, ws in sockets.items()}
        after = answers()

        # The internal comment never reached a customer user; both customer users got the same answers.
        for name in ("alice", "anna"):
            assert "Intern" not in json.dumps(got[name, SHARED]) + json.dumps(got[name, PER_VIEWER])
            assert [p["data"]["ticketChanges"]["kind"] for p in got[name, SHARED]] == ["CREATED", "COMMENT_ADDED"]
        assert got["alice", SHARED] == got["anna", SHARED]
        assert got["staff", SHARED] == got["staff2", SHARED]
        assert got["staff", SHARED][1]["data"]["ticketChanges"]["comment"] == {
            "body": "Intern: teuer",
            "internal": True,
        }
        # One shape, different scopes: staff2 counts its absence request on a1, staff does not.
        counts = {
            name: [
                p["data"]["ticketChanges"]["ticket"]["object"]["tickets"]["totalCount"] for p in got[name, PER_VIEWER]
            ]
            for name in ("staff", "staff2")
        }
        assert counts["staff2"] == [n + 1 for n in counts["staff"]], counts
        with_carl = asyncio.wait_for(carl.recv(), 1.0)
        try:
            raise AssertionError(f"another customer's change reached Carl: {await with_carl!r}")
        except TimeoutError:
            pass

    # 20 answers: SHARED executed once per kind of viewer and change (customer users: 2 changes,
    # employees: 3), PER_VIEWER once per viewer and change (2 + 2 + 3 + 3).
    delivered = sum(len(payloads) for payloads in got.values())
    assert delivered == 20
    assert after["executed"] - before["executed"] == (2 + 3) + (2 + 2 + 3 + 3)
    assert after["shared"] - before["shared"] == delivered - (after["executed"] - before["executed"])
