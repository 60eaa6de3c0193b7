"""Dispatching and evaluation: `serviceLevelBreached`, `RESOLUTION_DUE` pages, the evaluation's counts."""

from __future__ import annotations

import pytest

from tests.service_levels.conftest import SET_STATUS, backdate, create_ticket, gid

PAGE = """query($first: Int, $after: String, $last: Int, $before: String, $desc: Boolean, $f: TicketFilterInput) {
  tickets(first: $first, after: $after, last: $last, before: $before, orderBy: RESOLUTION_DUE,
          descending: $desc, filter: $f) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { number serviceLevel { resolutionDueAt } } } } }"""


async def numbers(world, viewer, **variables) -> list[int]:
    data = await world.as_(viewer).ok(PAGE, {"first": 50, **variables})
    return [e["node"]["number"] for e in data["tickets"]["edges"]]


async def walk(world, viewer, descending: bool, backward: bool = False) -> list[int]:
    """Every ticket, one per page, forwards with first/after or backwards with last/before."""
    seen: list[int] = []
    cursor = None
    while True:
        if backward:
            variables = {"last": 1, "before": cursor, "desc": descending, "first": None}
        else:
            variables = {"first": 1, "after": cursor, "desc": descending}
        page = (await world.as_(viewer).ok(PAGE, variables))["tickets"]
        seen += [e["node"]["number"] for e in page["edges"]]
        more = page["pageInfo"]["hasPreviousPage" if backward else "hasNextPage"]
        if not more:
            return seen[::-1] if backward else seen
        cursor = page["pageInfo"]["startCursor" if backward else "endCursor"]


@pytest.fixture
async def dispatch(world, policy):
    """Five tickets: two without a target (LOW), one overdue, two due later (URGENT soonest)."""
    made = {
        "low1": await create_ticket(world, world.alice, priority="LOW"),
        "normal": await create_ticket(world, world.alice),
        "overdue": await create_ticket(world, world.alice),
        "urgent": await create_ticket(world, world.alice, priority="URGENT"),
        "low2": await create_ticket(world, world.alice, priority="LOW"),
    }
    await backdate(made["overdue"], 300)
    return {name: t["number"] for name, t in made.items()}


async def test_resolution_due_sorts_tickets_without_a_target_last_in_both_directions(world, dispatch):
    d = dispatch
    # Ties (no target) by the ticket's id in the same direction, as every ordering breaks them.
    ascending = [d["overdue"], d["urgent"], d["normal"], d["low1"], d["low2"]]
    descending = [d["normal"], d["urgent"], d["overdue"], d["low2"], d["low1"]]
    assert await numbers(world, world.staff, desc=False) == ascending
    assert await numbers(world, world.staff, desc=True) == descending
    for desc, expected in ((False, ascending), (True, descending)):
        assert await walk(world, world.staff, desc) == expected
        assert await walk(world, world.staff, desc, backward=True) == expected
    # Customer users get the same order over what they see.
    assert await numbers(world, world.alice, desc=False) == ascending


async def test_breached_filter_narrows_both_ways(world, dispatch):
    d = dispatch
    assert await numbers(world, world.staff, desc=False, f={"serviceLevelBreached": True}) == [d["overdue"]]
    assert await numbers(world, world.staff, desc=False, f={"serviceLevelBreached": False}) == [
        d["urgent"],
        d["normal"],
    ]
    assert await numbers(world, world.alice, desc=False, f={"serviceLevelBreached": True}) == [d["overdue"]]
    assert await numbers(world, world.bob, desc=False, f={"serviceLevelBreached": True}) == []


async def test_the_evaluation_counts_met_and_breached_targets(world, policy):
    evaluation = """query($id: ID!) { node(id: $id) { ... on SiteObject { ticketEvaluation {
      total serviceLevel { ticketsWithTarget firstResponseMet firstResponseBreached resolutionMet resolutionBreached }
    } } } }"""
    await world.as_(world.admin).ok(
        "mutation($c: ID!) { setCustomerTicketEvaluation(customerId: $c, enabled: true, groupSizeDays: 1) { id } }",
        {"c": gid("Customer", world.a.id)},
    )
    in_time = await create_ticket(world, world.alice)
    late = await create_ticket(world, world.alice)
    without = await create_ticket(world, world.alice, priority="LOW")
    still_open = await create_ticket(world, world.alice)
    await backdate(late, 300)
    for ticket in (in_time, late, without):
        await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "DONE"})
    assert still_open["serviceLevel"] is not None
    for viewer in (world.staff, world.alice):
        found = (await world.as_(viewer).ok(evaluation, {"id": gid("SiteObject", world.a1.id)}))["node"]
        assert found["ticketEvaluation"]["total"] == 3
        assert found["ticketEvaluation"]["serviceLevel"] == {
            "ticketsWithTarget": 2,
            "firstResponseMet": 1,
            "firstResponseBreached": 1,
            "resolutionMet": 1,
            "resolutionBreached": 1,
        }


async def test_the_ticket_list_with_service_levels_keeps_its_statement_count(world, policy):
    from tests.statements import count_statements

    for _ in range(6):
        await create_ticket(world, world.alice)
    query = """query { tickets(first: 5, orderBy: RESOLUTION_DUE, descending: false) { totalCount
      edges { node { number priority serviceLevel { policyName firstResponseDueAt resolutionDueAt
        firstResponseBreached resolutionBreached pausedSince } } } } }"""
    for viewer in (world.staff, world.alice):
        statements, data = await count_statements(world.as_(viewer), query)
        assert len(data["tickets"]["edges"]) == 5
        assert all(e["node"]["serviceLevel"]["policyName"] == "Standard" for e in data["tickets"]["edges"])
        assert statements <= 4, statements
