"""A ticket's priority and service level, through the API: set at creation, recomputed on a priority
change, met by the first response and the resolution, paused, restarted by a reopening."""

from __future__ import annotations

from datetime import timedelta

from models.tickets import Ticket
from tests.service_levels.conftest import (
    COMMENT,
    HISTORY,
    SET_STATE,
    SET_STATUS,
    TICKET,
    UPDATE_POLICY,
    UPDATE_TICKET,
    backdate,
    create_ticket,
    gid,
    instant,
    row,
)

CREATE_STATE = """mutation($input: CreateTicketStateInput!) { createTicketState(input: $input) {
  id name pausesServiceLevel } }"""


async def test_a_customer_user_chooses_the_priority_when_creating_and_sees_the_due_times(world, policy):
    ticket = await create_ticket(world, world.alice, priority="URGENT")
    created = (await row(ticket)).created_at
    assert ticket["priority"] == "URGENT"
    level = ticket["serviceLevel"]
    assert level["policyName"] == "Standard"
    assert instant(level["firstResponseDueAt"]) == created + timedelta(minutes=15)
    assert instant(level["resolutionDueAt"]) == created + timedelta(minutes=60)
    assert level["firstRespondedAt"] is None and level["resolvedAt"] is None and level["pausedSince"] is None
    assert level["firstResponseBreached"] is False and level["resolutionBreached"] is False
    # The default is NORMAL; a priority without a target has no service level.
    assert (await create_ticket(world, world.alice))["priority"] == "NORMAL"
    assert (await create_ticket(world, world.alice, priority="LOW"))["serviceLevel"] is None


async def test_a_customer_user_cannot_change_the_priority_afterwards(world, policy):
    ticket = await create_ticket(world, world.alice)
    body = await world.as_(world.alice)(UPDATE_TICKET, {"input": {"id": ticket["id"], "priority": "URGENT"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    found = await row(ticket)
    assert found.priority.value == "NORMAL"
    assert found.sla_first_response_due_at == instant(ticket["serviceLevel"]["firstResponseDueAt"])


async def test_an_employee_changes_the_priority_and_the_due_times_follow_from_creation(world, policy):
    ticket = await create_ticket(world, world.alice)
    await backdate(ticket, 10)
    changed = (await world.as_(world.staff).ok(UPDATE_TICKET, {"input": {"id": ticket["id"], "priority": "URGENT"}}))[
        "updateTicket"
    ]
    created = (await row(ticket)).created_at
    assert changed["priority"] == "URGENT"
    assert instant(changed["serviceLevel"]["firstResponseDueAt"]) == created + timedelta(minutes=15)
    assert instant(changed["serviceLevel"]["resolutionDueAt"]) == created + timedelta(minutes=60)
    history = (await world.as_(world.staff).ok(HISTORY, {"id": ticket["id"]}))["node"]["history"]
    assert {
        "kind": "UPDATED",
        "fromValue": "priority",
        "toValue": "URGENT",
        "actor": {"name": "Jonas Weber"},
    } in history
    # Down to a priority without a target: no service level any more.
    low = await world.as_(world.staff).ok(UPDATE_TICKET, {"input": {"id": ticket["id"], "priority": "LOW"}})
    assert low["updateTicket"]["serviceLevel"] is None


async def test_the_first_response_is_an_employee_s_first_public_comment(world, policy):
    ticket = await create_ticket(world, world.alice)
    await world.as_(world.alice).ok(COMMENT, {"t": ticket["id"], "b": "Noch da?"})
    await world.as_(world.staff).ok(COMMENT, {"t": ticket["id"], "b": "intern", "i": True})
    assert (await row(ticket)).sla_first_responded_at is None
    await world.as_(world.staff).ok(COMMENT, {"t": ticket["id"], "b": "Wir kommen heute."})
    first = (await row(ticket)).sla_first_responded_at
    assert first is not None
    await world.as_(world.admin).ok(COMMENT, {"t": ticket["id"], "b": "Nachtrag"})
    level = (await world.as_(world.alice).ok(TICKET, {"id": ticket["id"]}))["node"]["serviceLevel"]
    assert instant(level["firstRespondedAt"]) == first and level["firstResponseBreached"] is False


async def test_a_late_first_response_and_a_late_resolution_are_breaches(world, policy):
    ticket = await create_ticket(world, world.alice)
    await backdate(ticket, 300)  # NORMAL: 60 and 240 minutes
    level = (await world.as_(world.alice).ok(TICKET, {"id": ticket["id"]}))["node"]["serviceLevel"]
    assert level["firstResponseBreached"] is True and level["resolutionBreached"] is True  # overdue now
    done = (await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "DONE"}))["setTicketStatus"]
    level = done["serviceLevel"]
    assert level["firstRespondedAt"] == level["resolvedAt"]  # the move into DONE answered it too
    assert level["firstResponseBreached"] is True and level["resolutionBreached"] is True
    stored = await row(ticket)
    assert stored.sla_first_response_breached and stored.sla_resolution_breached


async def test_resolution_in_time_and_a_reopening_restarts_the_clock_keeping_a_recorded_breach(world, policy):
    ticket = await create_ticket(world, world.alice)
    progress = await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "IN_PROGRESS"})
    assert progress["setTicketStatus"]["serviceLevel"]["firstRespondedAt"] is not None
    done = (await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "DONE"}))["setTicketStatus"]
    assert done["serviceLevel"]["resolvedAt"] is not None and done["serviceLevel"]["resolutionBreached"] is False
    await Ticket.filter(id=(await row(ticket)).id).update(sla_resolution_breached=True)  # as if it had been late
    reopened = (await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "OPEN"}))["setTicketStatus"]
    level = reopened["serviceLevel"]
    stored = await row(ticket)
    assert level["resolvedAt"] is None
    assert instant(level["resolutionDueAt"]) == stored.updated_at + timedelta(minutes=240)
    assert level["resolutionBreached"] is True  # recorded before the reopening, it stays
    assert instant(level["firstResponseDueAt"]) == stored.created_at + timedelta(minutes=60)


async def test_a_pausing_state_stops_the_resolution_clock(world, policy):
    state = (
        await world.as_(world.admin).ok(
            CREATE_STATE,
            {
                "input": {
                    "ticketTypeId": gid("TicketType", world.defect.id),
                    "name": "Wartet auf Kunde",
                    "category": "IN_PROGRESS",
                    "pausesServiceLevel": True,
                }
            },
        )
    )["createTicketState"]
    assert state["pausesServiceLevel"] is True
    ticket = await create_ticket(world, world.alice)
    due = instant(ticket["serviceLevel"]["resolutionDueAt"])
    paused = (await world.as_(world.staff).ok(SET_STATE, {"id": ticket["id"], "s": state["id"]}))["setTicketState"]
    assert paused["serviceLevel"]["pausedSince"] is not None
    # Paused for 30 minutes (moved into the past), then back to work: due 30 minutes later.
    since = (await row(ticket)).sla_paused_since - timedelta(minutes=30)
    await Ticket.filter(id=(await row(ticket)).id).update(sla_paused_since=since)
    resumed = (await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "OPEN"}))["setTicketStatus"]
    level = resumed["serviceLevel"]
    assert level["pausedSince"] is None
    moved = instant(level["resolutionDueAt"]) - due
    assert timedelta(minutes=30) <= moved < timedelta(minutes=31)
    # A DONE state cannot pause.
    body = await world.as_(world.admin)(
        CREATE_STATE,
        {
            "input": {
                "ticketTypeId": gid("TicketType", world.defect.id),
                "name": "Fertig",
                "category": "DONE",
                "pausesServiceLevel": True,
            }
        },
    )
    assert body["errors"][0]["extensions"]["field"] == "pausesServiceLevel"


async def test_tickets_keep_their_terms_when_the_policy_changes_or_goes(world, policy):
    before = await create_ticket(world, world.alice)
    targets = [{"priority": "NORMAL", "firstResponseMinutes": 5, "resolutionMinutes": 10}]
    await world.as_(world.admin).ok(UPDATE_POLICY, {"input": {"id": policy["id"], "targets": targets, "name": "Neu"}})
    after = await create_ticket(world, world.alice)
    assert after["serviceLevel"]["policyName"] == "Neu"
    created = (await row(after)).created_at
    assert instant(after["serviceLevel"]["firstResponseDueAt"]) == created + timedelta(minutes=5)
    kept = (await world.as_(world.alice).ok(TICKET, {"id": before["id"]}))["node"]["serviceLevel"]
    assert kept == before["serviceLevel"]
    await world.as_(world.admin).ok("mutation($id: ID!) { deleteServiceLevelPolicy(id: $id) }", {"id": policy["id"]})
    assert (await world.as_(world.alice).ok(TICKET, {"id": before["id"]}))["node"]["serviceLevel"] == kept
    assert (await create_ticket(world, world.alice))["serviceLevel"] is None


async def test_a_calendar_change_applies_to_later_tickets_only(world):
    from tests.service_levels.conftest import OFFICE, UPDATE_CALENDAR, make_calendar, make_policy

    calendar = await make_calendar(world)
    await make_policy(world, calendar)
    before = await create_ticket(world, world.alice)
    await world.as_(world.admin).ok(UPDATE_CALENDAR, {"input": {"id": calendar["id"], "hours": OFFICE}})
    kept = (await world.as_(world.alice).ok(TICKET, {"id": before["id"]}))["node"]["serviceLevel"]
    assert kept == before["serviceLevel"]
    after = await create_ticket(world, world.alice)
    assert (await row(after)).sla_terms_id != (await row(before)).sla_terms_id


async def test_importing_counts_from_the_legacy_creation(world, policy):
    imported = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount } }"""
    created = "2026-01-05T08:00:00+00:00"
    await world.as_(world.admin).ok(
        imported,
        {
            "t": [
                {
                    "objectId": gid("SiteObject", world.a1.id),
                    "ticketTypeId": gid("TicketType", world.defect.id),
                    "title": "Alt",
                    "externalRef": "L-1",
                    "createdAt": created,
                    "status": "DONE",
                    "doneAt": "2026-01-05T09:00:00+00:00",
                }
            ]
        },
    )
    stored = await Ticket.get(external_ref="L-1")
    assert stored.sla_first_response_due_at == instant(created) + timedelta(minutes=60)
    assert stored.sla_resolved_at == instant("2026-01-05T09:00:00+00:00")
    assert not stored.sla_resolution_breached and stored.sla_next_check_at is None
