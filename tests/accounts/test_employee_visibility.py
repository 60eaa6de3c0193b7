"""Staff names only where a customer meets them: `node(id: "Employee:N")` for a customer user.

A customer user may know an employee only as the assignee, creator, comment author or attachment uploader
on a ticket they can see; every other employee is `null`, exactly like an id that names nothing.
Employees know every employee.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.ids import to_global_id
from models.accounts import Employee
from tests.conftest import World
from tests.factories import Person, make_attachment, make_comment, make_employee, make_ticket

NODE = "query($id: ID!) { node(id: $id) { __typename ... on Employee { id name } } }"


@dataclass
class Staff:
    assignee: Person
    creator: Person
    commenter: Person
    uploader: Person
    internal_commenter: Person  # wrote only an internal comment on Alice's ticket
    elsewhere: Person  # assignee, commenter and uploader on customer B's ticket only
    neighbour: Person  # assignee on Bob's object (same customer as Alice, not her object)
    absent: Person  # assignee of an absence request


@pytest.fixture
async def staff(world: World, settings) -> Staff:
    people = Staff(
        assignee=await make_employee(settings, name="Anna Assignee"),
        creator=await make_employee(settings, name="Chris Creator"),
        commenter=await make_employee(settings, name="Cora Commenter"),
        uploader=await make_employee(settings, name="Ulf Uploader"),
        internal_commenter=await make_employee(settings, name="Ina Intern"),
        elsewhere=await make_employee(settings, name="Eli Elsewhere"),
        neighbour=await make_employee(settings, name="Nina Neighbour"),
        absent=await make_employee(settings, name="Abe Absent"),
    )
    mine = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice, assignee=people.assignee)
    await make_comment(mine, people.commenter, "Wir kommen morgen.")
    await make_comment(mine, people.internal_commenter, "Nur intern", internal=True)
    by_staff = await make_ticket(world.a1, world.defect, "Tür", by=people.creator)
    await make_attachment(settings, by_staff, people.uploader, "foto.txt", b"foto")
    theirs = await make_ticket(world.b1, world.defect, "Kita", by=world.carl, assignee=people.elsewhere)
    await make_comment(theirs, people.elsewhere, "Erledigt.")
    await make_attachment(settings, theirs, people.elsewhere, "kita.txt", b"kita")
    await make_ticket(world.a2, world.defect, "Bauhof", by=world.bob, assignee=people.neighbour)
    await make_ticket(world.a1, world.vacation, "Urlaub", by=people.absent, assignee=people.absent)
    return people


async def _found_by_counting(client, highest: int) -> set[str]:
    found = set()
    for pk in range(1, highest + 3):
        body = await client.ok(NODE, {"id": to_global_id("Employee", pk)})
        if body["node"] is not None:
            found.add(body["node"]["name"])
    return found


async def test_a_customer_user_counting_through_node_finds_only_the_staff_on_their_tickets(world, staff):
    highest = max(e.id for e in await Employee.all())
    found = await _found_by_counting(world.as_(world.alice), highest)
    assert found == {"Anna Assignee", "Chris Creator", "Cora Commenter", "Ulf Uploader"}


async def test_an_employee_who_worked_only_for_another_customer_is_null(world, staff):
    query = {"id": to_global_id("Employee", staff.elsewhere.pk)}
    assert await world.as_(world.alice).ok(NODE, query) == {"node": None}
    assert await world.as_(world.bob).ok(NODE, query) == {"node": None}
    assert (await world.as_(world.carl).ok(NODE, query))["node"]["name"] == "Eli Elsewhere"


async def test_staff_without_a_ticket_in_scope_are_null_like_ids_that_name_nothing(world, staff):
    for person in (world.staff, world.admin, staff.neighbour, staff.internal_commenter, staff.absent):
        assert await world.as_(world.alice).ok(NODE, {"id": to_global_id("Employee", person.pk)}) == {"node": None}
    assert await world.as_(world.alice).ok(NODE, {"id": to_global_id("Employee", 10**9)}) == {"node": None}
    # Bob sees his object's assignee, not Alice's.
    assert (await world.as_(world.bob).ok(NODE, {"id": to_global_id("Employee", staff.neighbour.pk)}))["node"]
    assert await world.as_(world.bob).ok(NODE, {"id": to_global_id("Employee", staff.assignee.pk)}) == {"node": None}


async def test_the_assignee_of_a_ticket_in_scope_is_found_with_the_id_the_ticket_gives(world, staff):
    tickets = await world.as_(world.alice).ok(
        '{ tickets(filter: {search: "Fenster"}) { edges { node { assignee { id name } } } } }'
    )
    [edge] = tickets["tickets"]["edges"]
    assignee = edge["node"]["assignee"]
    assert assignee == {"id": to_global_id("Employee", staff.assignee.pk), "name": "Anna Assignee"}
    found = await world.as_(world.alice).ok(NODE, {"id": assignee["id"]})
    assert found["node"] == {"__typename": "Employee", **assignee}


async def test_employees_still_know_every_employee(world, staff):
    everyone = {e.account.name for e in await Employee.all().select_related("account")}
    highest = max(e.id for e in await Employee.all())
    assert await _found_by_counting(world.as_(world.staff), highest) == everyone
