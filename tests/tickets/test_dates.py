"""Dates as they enter the tickets: one plausible range, at most MAX_IMPORT_TICKETS per import,
and every instant stored in UTC, so the ticket filter compares instants on both databases."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from tortoise.connection import get_connection

from core.dates import EARLIEST_DATE, LATEST_DATE
from core.ids import to_global_id
from models.tickets import Ticket, TicketEvent
from resolvers.tickets.importing import MAX_IMPORT_TICKETS

IMPORT = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount skippedCount } }"""
FILTERED = """query($f: TicketFilterInput) { tickets(first: 50, filter: $f) {
  totalCount edges { node { title createdAt } } } }"""
RANGE = {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()}


def item(world: Any, ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "externalRef": ref,
        "objectId": to_global_id("SiteObject", world.a1.id),
        "ticketTypeId": to_global_id("TicketType", world.defect.id),
        "title": f"Ticket {ref}",
        **fields,
    }


# ---------------------------------------------------------------- the plausible range


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"createdAt": "0001-01-01T00:00:00+00:00"}, "tickets.1.createdAt"),
        ({"status": "DONE", "createdAt": "2026-01-01T00:00:00Z", "doneAt": "9999-12-31T00:00:00Z"}, "tickets.1.doneAt"),
        # Beyond what Python can hold once turned into UTC: the same answer, never a 500.
        ({"createdAt": "0001-01-01T00:00:00+02:00"}, "tickets.1.createdAt"),
        ({"status": "DONE", "doneAt": "9999-12-31T23:00:00-05:00"}, "tickets.1.doneAt"),
        # The range is in UTC days: 1999-12-31 23:00 UTC is before it.
        ({"createdAt": "2000-01-01T01:00:00+02:00"}, "tickets.1.createdAt"),
        ({"createdAt": "2101-01-01T00:00:00Z"}, "tickets.1.createdAt"),
    ],
)
async def test_import_of_absurd_dates_is_refused_and_nothing_stored(world, fields, field):
    body = await world.as_(world.admin)(IMPORT, {"t": [item(world, "fine"), item(world, "absurd", **fields)]})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field, **RANGE}
    assert await Ticket.all().count() == 0
    assert await TicketEvent.all().count() == 0


async def test_import_accepts_the_edges_of_the_range(world):
    tickets = [
        item(world, "first", status="DONE", createdAt="2000-01-01T00:00:00Z", doneAt="2100-12-31T23:59:59Z"),
        item(world, "last", createdAt="2101-01-01T04:00:00+05:00"),  # 2100-12-31 23:00 UTC
    ]
    data = await world.as_(world.admin).ok(IMPORT, {"t": tickets})
    assert data["importTickets"] == {"importedCount": 2, "skippedCount": 0}


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"createdAfter": "0001-01-01T00:00:00Z"}, "filter.createdAfter"),
        ({"createdBefore": "9999-12-31T23:59:59-05:00"}, "filter.createdBefore"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "createdBefore": "2200-01-01T00:00:00Z"}, "filter.createdBefore"),
    ],
)
async def test_customer_users_filter_with_absurd_dates_is_refused(world, criteria, field):
    body = await world.as_(world.alice)(FILTERED, {"f": criteria})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field, **RANGE}


# ---------------------------------------------------------------- the row cap


async def test_import_above_the_row_cap_is_refused_and_nothing_stored(world):
    tickets = [item(world, f"r{i}") for i in range(MAX_IMPORT_TICKETS + 1)]
    body = await world.as_(world.admin)(IMPORT, {"t": tickets})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "tickets",
        "limit": MAX_IMPORT_TICKETS,
    }
    assert await Ticket.all().count() == 0


# ---------------------------------------------------------------- UTC


# 08:00, 08:30 and 09:00 UTC, sent with three offsets.
OFFSET_TICKETS = {
    "plus-two": "2026-03-01T10:00:00+02:00",
    "utc": "2026-03-01T08:30:00+00:00",
    "minus-five": "2026-03-01T04:00:00-05:00",
}
STORED_UTC = {
    "Ticket plus-two": "2026-03-01T08:00:00+00:00",
    "Ticket utc": "2026-03-01T08:30:00+00:00",
    "Ticket minus-five": "2026-03-01T09:00:00+00:00",
}


@pytest.fixture
async def offset_tickets(world) -> None:
    tickets = [item(world, ref, createdAt=at) for ref, at in OFFSET_TICKETS.items()]
    await world.as_(world.admin).ok(IMPORT, {"t": tickets})


async def filtered(world: Any, **criteria: str) -> set[str]:
    data = await world.as_(world.alice).ok(FILTERED, {"f": criteria})
    nodes = [edge["node"] for edge in data["tickets"]["edges"]]
    assert data["tickets"]["totalCount"] == len(nodes)
    return {node["title"].removeprefix("Ticket ") for node in nodes}


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"createdAfter": "2026-03-01T08:30:00+00:00"}, {"utc", "minus-five"}),
        ({"createdAfter": "2026-03-01T03:30:00-05:00"}, {"utc", "minus-five"}),
        ({"createdAfter": "2026-03-01T08:00:00.000001Z"}, {"utc", "minus-five"}),
        ({"createdBefore": "2026-03-01T10:45:00+02:00"}, {"plus-two", "utc"}),
        ({"createdBefore": "2026-03-01T09:00:00Z"}, {"plus-two", "utc"}),
        ({"createdAfter": "2026-03-01T08:00:00+00:00", "createdBefore": "2026-03-01T08:30:00"}, {"plus-two"}),
        ({"createdAfter": "2026-03-01T09:00:00-00:00"}, {"minus-five"}),
        ({"createdBefore": "2026-03-01T08:00:00Z"}, set()),
    ],
)
async def test_filters_compare_instants_whatever_the_offsets(world, offset_tickets, criteria, expected):
    assert await filtered(world, **criteria) == expected


async def test_instants_come_back_in_utc(world, offset_tickets):
    data = await world.as_(world.alice).ok(FILTERED)
    assert {e["node"]["title"]: e["node"]["createdAt"] for e in data["tickets"]["edges"]} == STORED_UTC


async def raw(sql: str, values: list[Any] | None = None) -> list[dict[str, Any]]:
    return await get_connection("default").execute_query_dict(sql, values or [])


async def test_migration_rewrites_rows_written_the_old_way_to_utc(world, offset_tickets):
    migration = importlib.import_module("models.migrations.0009_utc_datetimes")
    connection = get_connection("default")
    ticket = await Ticket.get(external_ref="plus-two")
    if connection.capabilities.dialect != "sqlite":
        # timestamptz holds instants: the migration has nothing to do and changes nothing.
        before = await raw("SELECT id, created_at, updated_at FROM ticket ORDER BY id")
        assert await migration.rewrite_to_utc(connection) == 0
        assert await raw("SELECT id, created_at, updated_at FROM ticket ORDER BY id") == before
        assert await filtered(world, createdAfter="2026-03-01T08:30:00Z") == {"utc", "minus-five"}
        return
    # As imports stored them before: the client's offset kept as text; and a naive and a `T` value.
    await connection.execute_query(
        "UPDATE ticket SET created_at = ?, updated_at = ? WHERE id = ?",
        ["2026-03-01 10:00:00+02:00", "2026-03-01T08:00:00", ticket.id],
    )
    minus_five = await Ticket.get(external_ref="minus-five")
    await connection.execute_query(
        "UPDATE ticket SET created_at = ? WHERE id = ?", ["2026-03-01 04:00:00.250000-05:00", minus_five.id]
    )
    await connection.execute_query(
        "UPDATE ticket_event SET created_at = ? WHERE ticket_id = ?", ["2026-03-01 10:00:00+02:00", ticket.id]
    )
    assert await filtered(world, createdAfter="2026-03-01T08:30:00Z") != {"utc", "minus-five"}  # the old bug

    assert await migration.rewrite_to_utc(connection) == 4
    rows = await raw(
        "SELECT created_at, updated_at FROM ticket WHERE id IN (?, ?) ORDER BY id", [ticket.id, minus_five.id]
    )
    assert rows == [
        {"created_at": "2026-03-01 08:00:00+00:00", "updated_at": "2026-03-01 08:00:00+00:00"},
        {"created_at": "2026-03-01 09:00:00.250000+00:00", "updated_at": "2026-03-01 09:00:00+00:00"},
    ]
    assert await raw("SELECT created_at FROM ticket_event WHERE ticket_id = ?", [ticket.id]) == [
        {"created_at": "2026-03-01 08:00:00+00:00"}
    ]
    assert await filtered(world, createdAfter="2026-03-01T08:30:00Z") == {"utc", "minus-five"}
    assert await migration.rewrite_to_utc(connection) == 0  # nothing left to do
