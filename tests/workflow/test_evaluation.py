"""The evaluation shows the customers' ratings and the reopenings, computed in SQL."""

from __future__ import annotations

from models.customers import Customer
from models.tickets import Ticket
from tests.factories import make_ticket
from tests.workflow.conftest import CONFIRM, REOPEN, SET_STATUS, Loop, gid

EVALUATION = """query($id: ID!) { node(id: $id) { ... on SiteObject { ticketEvaluation {
  total ratedCount averageRating ratingBuckets { rating count } reopenedCount } } } }"""


async def test_ratings_and_reopenings_in_the_evaluation(loop: Loop):
    world = loop.world
    await Customer.filter(id=world.a.id).update(ticket_evaluation_enabled=True)
    staff, alice = world.as_(world.staff), world.as_(world.alice)
    # Reopened by the customer, then done again and rated 5; a second ticket rated 2; a third unrated.
    await loop.done()
    await alice.ok(REOPEN, {"id": loop.id, "reason": "Nicht sauber."})
    await staff.ok(SET_STATUS, {"id": loop.id, "s": "DONE"})
    await alice.ok(CONFIRM, {"id": loop.id, "rating": 5})
    for title, rating in (("Zwei", 2), ("Drei", None)):
        ticket = await make_ticket(world.a1, loop.kind, title, by=world.alice, assignee=world.staff)
        await staff.ok(SET_STATUS, {"id": gid("Ticket", ticket.id), "s": "DONE"})
        if rating:
            await alice.ok(CONFIRM, {"id": gid("Ticket", ticket.id), "rating": rating})
    # An open ticket (not counted) that was reopened by an employee: not in the evaluation.
    open_one = await make_ticket(world.a1, loop.kind, "Vier", by=world.alice)
    await staff.ok(SET_STATUS, {"id": gid("Ticket", open_one.id), "s": "DONE"})
    await staff.ok(SET_STATUS, {"id": gid("Ticket", open_one.id), "s": "IN_PROGRESS"})
    assert (await Ticket.get(id=open_one.id)).reopen_count == 1

    for person in (world.alice, world.admin):
        data = await world.as_(person).ok(EVALUATION, {"id": gid("SiteObject", world.a1.id)})
        evaluation = data["node"]["ticketEvaluation"]
        assert evaluation["total"] == 3
        assert evaluation["ratedCount"] == 2
        assert evaluation["averageRating"] == 3.5
        assert evaluation["ratingBuckets"] == [
            {"rating": 1, "count": 0},
            {"rating": 2, "count": 1},
            {"rating": 3, "count": 0},
            {"rating": 4, "count": 0},
            {"rating": 5, "count": 1},
        ]
        assert evaluation["reopenedCount"] == 1
