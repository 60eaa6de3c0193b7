"""A customer user's pages read (object, type) by (object, type) (`core.partitioned`, PostgreSQL):
the same tickets, in the same order, as the scope read whole — forwards, backwards, across ties of
`createdAt`, with filters — and nothing outside the scope (another customer's object, an object of
the customer not assigned to the viewer, a type not enabled, an absence request)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.connection import get_connection
from tortoise.expressions import Subquery

from core.partitioned import each_of, newest_per_partition
from models.customers import CustomerUserObject
from models.tickets import Ticket
from permissions.tickets import ticket_partitions, visible_tickets
from tests.conftest import World
from tests.factories import make_site_object, make_ticket, viewer_of
from tests.statements import recording_statements

PAGE = """query($first: Int, $after: String, $last: Int, $before: String, $status: TicketStatus) {
  tickets(first: $first, after: $after, last: $last, before: $before, filter: {status: $status}) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id title } } } }"""


async def carls_world(world: World) -> tuple[list[Ticket], set[str]]:
    """Carl (customer B) holds b1 and b2; b3 is B's but not his, a1 is A's. 48 tickets spread over
    those objects and three types; many share a `created_at` (the order's tie-break is the id)."""
    b2 = await make_site_object(world.b, "Kita Süd")
    b3 = await make_site_object(world.b, "Kita West")
    await CustomerUserObject.create(customer_user_id=world.carl.pk, object=b2)
    sites, kinds = (world.b1, b2, b3, world.a1), (world.defect, world.damage, world.vacation)
    made = []
    for i in range(48):
        made.append(await make_ticket(sites[i % 4], kinds[(i // 4) % 3], f"T{i}", by=world.admin))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i, ticket in enumerate(made):
        # Three tickets per instant, and the instants not in id order.
        at = start + timedelta(minutes=(i // 3) * 7 % 16)
        await Ticket.filter(id=ticket.id).update(created_at=at, status=("OPEN", "DONE")[i % 2])
    fresh = await Ticket.filter(id__in=[t.id for t in made])
    visible = {
        t.title
        for t in fresh
        if t.object_id in (world.b1.id, b2.id) and t.ticket_type_id in (world.defect.id, world.damage.id)
    }
    return sorted(fresh, key=lambda t: (t.created_at, t.id), reverse=True), visible


async def test_carls_pages_forwards_and_backwards_are_his_scope_in_order(world: World) -> None:
    newest_first, visible = await carls_world(world)
    expected = [t.title for t in newest_first if t.title in visible]
    carl = world.as_(world.carl)
    for size in (1, 5, 7, len(expected), len(expected) + 3):
        seen, cursor = [], None
        while True:
            page = (await carl.ok(PAGE, {"first": size, "after": cursor}))["tickets"]
            assert page["totalCount"] == len(expected)
            seen += [edge["node"]["title"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            cursor = page["pageInfo"]["endCursor"]
        assert seen == expected, size
        seen, cursor = [], None
        while True:
            page = (await carl.ok(PAGE, {"last": size, "before": cursor}))["tickets"]
            seen = [edge["node"]["title"] for edge in page["edges"]] + seen
            if not page["pageInfo"]["hasPreviousPage"]:
                break
            cursor = page["pageInfo"]["startCursor"]
        assert seen == expected, size


async def test_a_filtered_page_is_the_filtered_scope(world: World) -> None:
    newest_first, visible = await carls_world(world)
    done = {t.title for t in newest_first if t.status.value == "DONE"}
    expected = [t.title for t in newest_first if t.title in visible and t.title in done]
    with recording_statements() as recorder:
        page = (await world.as_(world.carl).ok(PAGE, {"first": 4, "status": "DONE"}))["tickets"]
    assert [edge["node"]["title"] for edge in page["edges"]] == expected[:4]
    assert page["totalCount"] == len(expected)
    # On PostgreSQL the page was read pair by pair; SQLite reads the scope whole.
    lateral = any("CROSS JOIN LATERAL" in sql for sql, _ in recorder.statements)
    assert lateral is (get_connection("default").capabilities.dialect == "postgres")


async def test_the_partitions_are_the_scopes_and_find_nothing_outside_it(world: World) -> None:
    if get_connection("default").capabilities.dialect != "postgres":
        pytest.skip("PostgreSQL's pages only (LATERAL and arrays); SQLite reads the scope whole")
    newest_first, visible = await carls_world(world)
    viewer = await viewer_of(world.carl)
    assert ticket_partitions(await viewer_of(world.staff)) is None
    partitions = ticket_partitions(viewer)
    assert partitions is not None
    page = visible_tickets(viewer).order_by("-created_at", "-id").limit(10)
    with recording_statements() as recorder:
        found = await Ticket.filter(newest_per_partition(page, partitions)).values_list("title", flat=True)
    plain = await Ticket.filter(id__in=Subquery(page.values("id"))).values_list("title", flat=True)
    assert sorted(found) == sorted(plain) == sorted([t.title for t in newest_first if t.title in visible][:10])
    (sql, _), *_ = recorder.statements
    assert "CROSS JOIN LATERAL" in sql


async def test_a_few_tickets_are_checked_one_by_one_and_only_those_in_scope_pass(world: World) -> None:
    newest_first, visible = await carls_world(world)
    viewer = await viewer_of(world.carl)
    among = [t.id for t in newest_first[:12]]
    with recording_statements() as recorder:
        found = await Ticket.filter(id__in=each_of(visible_tickets(viewer), "id", among)).values_list(
            "title", flat=True
        )
    assert sorted(found) == sorted(t.title for t in newest_first[:12] if t.title in visible)
    assert await Ticket.filter(id__in=each_of(visible_tickets(viewer), "id", [])).count() == 0
    (sql, _), *_ = recorder.statements
    # PostgreSQL looks each one up by its key; SQLite's planner does that with `IN` already.
    assert ("CROSS JOIN LATERAL" in sql) is (get_connection("default").capabilities.dialect == "postgres")
