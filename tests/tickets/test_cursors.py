"""Keyset cursors: pages that hold under writes, `last`/`before`, `first: 0`, forged cursors, and the
`updatedAfter` sync (writes between pages: nothing missed, nothing repeated)."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

from core.ids import to_global_id
from models.tickets import Ticket
from tests.factories import make_comment, make_site_object, make_ticket

CREATE = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number } }"""
UPDATE = """mutation($id: ID!, $title: String!) { updateTicket(input: {id: $id, title: $title}) { id updatedAt } }"""

PAGE = """query($first: Int, $after: String, $last: Int, $before: String, $order: TicketOrder!, $desc: Boolean!) {
  tickets(first: $first, after: $after, last: $last, before: $before, orderBy: $order, descending: $desc) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id number } } } }"""

SYNC = """query($since: DateTime, $after: String) {
  tickets(filter: {updatedAfter: $since}, orderBy: UPDATED_AT, descending: false, first: 2, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id title updatedAt } } } }"""


async def _tickets(world, n: int, **fields) -> list[Ticket]:
    return [await make_ticket(world.a1, world.defect, f"Ticket {i}", by=world.alice, **fields) for i in range(n)]


async def _create(world, title: str) -> str:
    data = await world.as_(world.admin).ok(
        CREATE,
        {
            "input": {
                "objectId": to_global_id("SiteObject", world.a1.id),
                "ticketTypeId": to_global_id("TicketType", world.defect.id),
                "title": title,
            }
        },
    )
    return data["createTicket"]["id"]


async def _page(client, order="CREATED_AT", desc=True, **arguments):
    return (await client.ok(PAGE, {"order": order, "desc": desc, **arguments}))["tickets"]


def _numbers(page) -> list[int]:
    return [e["node"]["number"] for e in page["edges"]]


async def test_a_ticket_created_between_pages_repeats_nothing(world):
    await _tickets(world, 5)
    admin = world.as_(world.admin)
    first = await _page(admin, first=2)
    assert first["totalCount"] == 5
    await _create(world, "Neu dazwischen")  # newest: sorts before page 1 (offsets would shift page 2)
    second = await _page(admin, first=2, after=first["pageInfo"]["endCursor"])
    third = await _page(admin, first=2, after=second["pageInfo"]["endCursor"])
    seen = _numbers(first) + _numbers(second) + _numbers(third)
    assert seen == [5, 4, 3, 2, 1]
    assert third["pageInfo"]["hasNextPage"] is False and second["pageInfo"]["hasPreviousPage"] is True


async def test_last_and_before_page_backwards(world):
    await _tickets(world, 5)
    admin = world.as_(world.admin)
    tail = await _page(admin, order="NUMBER", desc=False, last=2)
    assert _numbers(tail) == [4, 5]
    assert tail["pageInfo"]["hasPreviousPage"] is True and tail["pageInfo"]["hasNextPage"] is False
    before = await _page(admin, order="NUMBER", desc=False, last=2, before=tail["pageInfo"]["startCursor"])
    assert _numbers(before) == [2, 3] and before["pageInfo"]["hasNextPage"] is True
    start = await _page(admin, order="NUMBER", desc=False, last=5, before=before["pageInfo"]["startCursor"])
    assert _numbers(start) == [1] and start["pageInfo"]["hasPreviousPage"] is False
    # Between two cursors, forward.
    middle = await _page(
        admin,
        order="NUMBER",
        desc=False,
        first=10,
        after=start["pageInfo"]["endCursor"],
        before=tail["edges"][1]["cursor"],
    )
    assert _numbers(middle) == [2, 3, 4]


async def test_first_and_last_together_is_bad_input(world):
    body = await world.as_(world.admin)(PAGE, {"order": "NUMBER", "desc": False, "first": 2, "last": 2})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "last"


async def test_first_zero_reports_the_true_total(world):
    await _tickets(world, 3)
    page = await _page(world.as_(world.alice), first=0)
    assert page["totalCount"] == 3 and page["edges"] == [] and page["pageInfo"]["hasNextPage"] is True


async def test_forged_and_foreign_cursors_are_bad_input(world):
    await _tickets(world, 3)
    admin = world.as_(world.admin)
    good = (await _page(admin, first=1))["pageInfo"]["endCursor"]
    payload, _, signature = good.partition(".")
    forged_payload = base64.urlsafe_b64encode(b'["tickets:CREATED_AT:desc",null,1]').decode().rstrip("=")
    numbered = (await _page(admin, order="NUMBER", desc=False, first=1))["pageInfo"]["endCursor"]
    for name in ("after", "before"):
        for cursor in (
            "garbage",
            base64.urlsafe_b64encode(b"offset:1").decode(),  # the old offset cursors
            f"{forged_payload}.{signature}",  # a payload of one's own with a real signature
            f"{payload}.{signature[:-1]}{'1' if signature.endswith('0') else '0'}",  # a tampered signature
            numbered,  # another ordering's
            "",
        ):
            arguments = {name: cursor, ("first" if name == "after" else "last"): 1}
            body = await admin(PAGE, {"order": "CREATED_AT", "desc": True, **arguments})
            if cursor == "":  # an empty cursor is no cursor
                assert not body.get("errors"), body
                continue
            error = body["errors"][0]
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": name}, (cursor, body)


async def test_due_date_pages_place_nulls_as_the_database_sorts_them(world):
    tickets = await _tickets(world, 3) + await _tickets(world, 3, due_date=date(2026, 3, 1))
    await Ticket.filter(id=tickets[3].id).update(due_date=date(2026, 2, 1))
    admin = world.as_(world.admin)
    for desc in (True, False):
        whole = _numbers(await _page(admin, order="DUE_DATE", desc=desc, first=50))
        walked, after = [], None
        while True:
            page = await _page(admin, order="DUE_DATE", desc=desc, first=1, after=after)
            walked += _numbers(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert walked == whole and len(whole) == 6
        backwards, before = [], None
        while True:
            page = await _page(admin, order="DUE_DATE", desc=desc, last=1, before=before)
            backwards = _numbers(page) + backwards
            if not page["pageInfo"]["hasPreviousPage"]:
                break
            before = page["pageInfo"]["startCursor"]
        assert backwards == whole


async def test_sync_by_updated_at_misses_and_repeats_nothing_with_writes_between_pages(world):
    since = datetime.now(UTC) - timedelta(seconds=1)
    created = [await _create(world, f"Start {i}") for i in range(5)]
    partner = world.as_(world.admin)
    seen: list[tuple[str, str]] = []  # (id, updatedAt) of every row received
    after = None
    writes = iter(
        [
            lambda: partner.ok(UPDATE, {"id": created[4], "title": "noch nicht gesehen, geändert"}),
            lambda: _create(world, "Neu 1"),
            lambda: partner.ok(UPDATE, {"id": created[0], "title": "schon gesehen, geändert"}),
            lambda: _create(world, "Neu 2"),
        ]
    )
    cursor_at_end = None
    for _ in range(20):
        page = (await partner.ok(SYNC, {"since": since.isoformat(), "after": after}))["tickets"]
        seen += [(e["node"]["id"], e["node"]["updatedAt"]) for e in page["edges"]]
        cursor_at_end = page["pageInfo"]["endCursor"] or cursor_at_end
        write = next(writes, None)
        if write is not None:
            await write()  # a write between two page requests
        elif not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"] or after
    assert len(seen) == len(set(seen)), seen  # no row version twice
    current = (await partner.ok("{ tickets(first: 100) { edges { node { id updatedAt } } } }"))["tickets"]["edges"]
    latest: dict[str, str] = {}
    for pk, updated in seen:
        latest[pk] = updated
    # Every ticket arrived, each in its latest version, and in the order of the changes.
    assert latest == {e["node"]["id"]: e["node"]["updatedAt"] for e in current}
    assert len(latest) == 7
    assert [u for _, u in seen] == sorted(u for _, u in seen)
    # Later: one more change; resuming from the stored cursor brings exactly that one.
    await partner.ok(UPDATE, {"id": created[2], "title": "später"})
    resumed = (await partner.ok(SYNC, {"since": since.isoformat(), "after": cursor_at_end}))["tickets"]
    assert [e["node"]["title"] for e in resumed["edges"]] == ["später"]


async def test_comment_pages_hold_under_writes_and_page_backwards(world):
    ticket = (await _tickets(world, 1))[0]
    for i in range(5):
        await make_comment(ticket, world.alice, f"K{i}")
    query = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { node(id: $id) {
      ... on Ticket { comments(first: $first, after: $after, last: $last, before: $before) { totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { body } } } } } }"""
    alice = world.as_(world.alice)
    gid = to_global_id("Ticket", ticket.id)

    async def page(**arguments):
        return (await alice.ok(query, {"id": gid, **arguments}))["node"]["comments"]

    first = await page(first=2)
    assert [e["node"]["body"] for e in first["edges"]] == ["K0", "K1"] and first["totalCount"] == 5
    await make_comment(ticket, world.alice, "K5")
    second = await page(first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["body"] for e in second["edges"]] == ["K2", "K3"] and second["totalCount"] == 6
    tail = await page(last=2)
    assert [e["node"]["body"] for e in tail["edges"]] == ["K4", "K5"] and tail["pageInfo"]["hasPreviousPage"]
    assert (await page(first=0))["totalCount"] == 6


async def test_objects_and_customers_page_by_keyset(world):
    admin = world.as_(world.admin)
    query = """query($after: String, $last: Int, $before: String) {
      objects(first: 1, after: $after) { pageInfo { endCursor } edges { node { name } } }
      customers(last: $last, before: $before) { pageInfo { hasPreviousPage startCursor } edges { node { name } } } }"""
    page = await admin.ok(query, {"last": 1})
    assert [e["node"]["name"] for e in page["objects"]["edges"]] == ["Bauhof"]
    assert [e["node"]["name"] for e in page["customers"]["edges"]] == ["Stadtwerke"]
    await make_site_object(world.a, "Altbau")  # sorts first: offsets would repeat "Bauhof"
    page = await admin.ok(
        query,
        {
            "after": page["objects"]["pageInfo"]["endCursor"],
            "last": 1,
            "before": page["customers"]["pageInfo"]["startCursor"],
        },
    )
    assert [e["node"]["name"] for e in page["objects"]["edges"]] == ["Kita Nord"]
    assert [e["node"]["name"] for e in page["customers"]["edges"]] == ["Kita"]
    assert page["customers"]["pageInfo"]["hasPreviousPage"] is False
