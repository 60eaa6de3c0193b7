"""One viewer cannot make the evaluation huge or crash it: `from`/`to` lie within the plausible
range, and an evaluation has at most MAX_EVALUATION_BUCKETS buckets (later groups merged)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core.dates import EARLIEST_DATE, LATEST_DATE
from core.ids import to_global_id
from resolvers.evaluations import MAX_EVALUATION_BUCKETS

IMPORT = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount } }"""
SET_EVALUATION = """mutation($c: ID!, $n: Int!) {
  setCustomerTicketEvaluation(customerId: $c, enabled: true, groupSizeDays: $n) { id } }"""
EVALUATION = """query($id: ID!, $from: Date, $to: Date) { node(id: $id) { ... on SiteObject { name
  ticketEvaluation(from: $from, to: $to) { groupSizeDays total medianDays buckets { fromDay toDay count } } } } }"""
CUSTOMER_EVALUATION = """query($id: ID!, $from: Date, $to: Date) { node(id: $id) { ... on Customer { name
  ticketEvaluation(from: $from, to: $to) { total } } } }"""
RANGE = {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()}
LONGEST = (LATEST_DATE - EARLIEST_DATE).days  # 36890 - 1 whole days


def done(world: Any, ref: str, created: str, done_at: str) -> dict[str, Any]:
    return {
        "externalRef": ref,
        "objectId": to_global_id("SiteObject", world.a1.id),
        "ticketTypeId": to_global_id("TicketType", world.defect.id),
        "title": ref,
        "status": "DONE",
        "createdAt": created,
        "doneAt": done_at,
    }


@pytest.fixture
async def daily(world) -> None:
    """A1's tickets: done the same day, after 600 days, and the longest the range allows; groups of one day."""
    tickets = [
        done(world, "quick", "2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z"),
        done(world, "slow", "2024-01-01T00:00:00Z", "2025-08-23T00:00:00Z"),
        done(world, "longest", "2000-01-01T00:00:00Z", "2100-12-31T00:00:00Z"),
    ]
    admin = world.as_(world.admin)
    assert (await admin.ok(IMPORT, {"t": tickets}))["importTickets"]["importedCount"] == 3
    await admin.ok(SET_EVALUATION, {"c": to_global_id("Customer", world.a.id), "n": 1})


async def test_the_longest_resolution_is_at_most_the_bucket_cap_for_a_customer_user(world, daily):
    data = await world.as_(world.alice).ok(EVALUATION, {"id": to_global_id("SiteObject", world.a1.id)})
    result = data["node"]["ticketEvaluation"]
    buckets = result["buckets"]
    assert len(buckets) == MAX_EVALUATION_BUCKETS
    assert result["total"] == 3 and sum(b["count"] for b in buckets) == 3
    assert buckets[0] == {"fromDay": 0, "toDay": 0, "count": 1}
    assert all(b["count"] == 0 and b["fromDay"] == b["toDay"] for b in buckets[1:-1])
    slow = (date(2025, 8, 23) - date(2024, 1, 1)).days
    assert slow >= MAX_EVALUATION_BUCKETS
    # The last bucket holds every later group: the 600-day ticket and the longest one.
    assert buckets[-1] == {"fromDay": MAX_EVALUATION_BUCKETS - 1, "toDay": LONGEST, "count": 2}
    assert result["medianDays"] == slow  # statistics still count the true days


async def test_a_short_tail_is_not_merged(world):
    tickets = [done(world, f"d{n}", "2026-01-01T00:00:00Z", f"2026-01-{1 + n:02d}T00:00:00Z") for n in (0, 3)]
    admin = world.as_(world.admin)
    await admin.ok(IMPORT, {"t": tickets})
    await admin.ok(SET_EVALUATION, {"c": to_global_id("Customer", world.a.id), "n": 2})
    data = await world.as_(world.alice).ok(EVALUATION, {"id": to_global_id("SiteObject", world.a1.id)})
    assert data["node"]["ticketEvaluation"]["buckets"] == [
        {"fromDay": 0, "toDay": 1, "count": 1},
        {"fromDay": 2, "toDay": 3, "count": 1},
    ]


@pytest.mark.parametrize(
    ("bounds", "field"),
    [
        ({"to": "9999-12-31"}, "to"),  # was INTERNAL_SERVER_ERROR (date overflow)
        ({"from": "0001-01-01"}, "from"),
        ({"from": "2026-01-01", "to": "2101-01-01"}, "to"),
        ({"from": "1999-12-31"}, "from"),
    ],
)
async def test_customer_users_evaluation_bounds_outside_the_range_are_refused(world, daily, bounds, field):
    # The object's evaluation as its customer user; the customer's (employees only) as the admin.
    asked = (
        (world.alice, EVALUATION, ("SiteObject", world.a1.id)),
        (world.admin, CUSTOMER_EVALUATION, ("Customer", world.a.id)),
    )
    for person, query, node in asked:
        body = await world.as_(person)(query, {"id": to_global_id(*node), **bounds})
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field, **RANGE}
        assert error["path"] == ["node", "ticketEvaluation"]
        assert body["data"]["node"]["ticketEvaluation"] is None and body["data"]["node"]["name"]


async def test_the_edges_of_the_range_are_accepted(world, daily):
    data = await world.as_(world.alice).ok(
        EVALUATION, {"id": to_global_id("SiteObject", world.a1.id), "from": "2000-01-01", "to": "2100-12-31"}
    )
    assert data["node"]["ticketEvaluation"]["total"] == 3
