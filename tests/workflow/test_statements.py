"""The workflow fields of a page of tickets cost a fixed number of statements, whatever the page size."""

from __future__ import annotations

from tests.conftest import World
from tests.factories import make_ticket
from tests.statements import count_statements

PAGE = """query($n: Int) { tickets(first: $n) { edges { node { status state { name } rating confirmedAt reopenCount
  ticketType { states { name } customerConfirmation reopenWindowDays }
  viewerCan { availableStates { name } confirmResolution reopen } } } } }"""
PLAIN = "query($n: Int) { tickets(first: $n) { edges { node { status } } } }"


async def test_workflow_fields_of_a_page_stay_constant(world: World):
    for i in range(12):
        await make_ticket(world.a1, world.defect if i % 2 else world.damage, f"T{i}", by=world.staff)
    await make_ticket(world.b1, world.damage, "B", by=world.staff)
    counts = {}
    for person in (world.staff, world.alice):
        client = world.as_(person)
        small, _ = await count_statements(client, PAGE, {"n": 2})
        large, data = await count_statements(client, PAGE, {"n": 12})
        plain, _ = await count_statements(client, PLAIN, {"n": 12})
        assert len(data["tickets"]["edges"]) == (12 if person is world.staff else 6)
        assert small == large, (person, small, large)
        counts[person.account.name] = (plain, large)
    print("statements (plain page, page with workflow fields):", counts)
    # Employees: the ticket loader, the states, the transitions and the types' row; customer users
    # need no transitions (no available states) — measured, not guessed.
    assert counts["Jonas Weber"][1] - counts["Jonas Weber"][0] <= 4, counts
    assert counts["Alice"][1] - counts["Alice"][0] <= 4, counts
