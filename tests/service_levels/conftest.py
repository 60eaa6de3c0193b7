"""Service-level fixtures: calendars and policies made through the API by the system administrator,
tickets made through `createTicket` by whoever the test names, and the GraphQL text they share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.ids import to_global_id
from models.tickets import Ticket
from tests.conftest import World
from tests.factories import Person

ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
OFFICE = [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(1, 6)]

CREATE_CALENDAR = """mutation($input: CreateBusinessCalendarInput!) { createBusinessCalendar(input: $input) {
  id name timeZone hours { weekday start end } holidays holidayRegion } }"""
UPDATE_CALENDAR = """mutation($input: UpdateBusinessCalendarInput!) { updateBusinessCalendar(input: $input) {
  id name timeZone hours { weekday start end } holidays holidayRegion } }"""
POLICY_FIELDS = """id name warnAtPercent calendar { id name } customer { id name } ticketTypes { id name }
  targets { priority firstResponseMinutes resolutionMinutes }"""
CREATE_POLICY = f"""mutation($input: CreateServiceLevelPolicyInput!) {{
  createServiceLevelPolicy(input: $input) {{ {POLICY_FIELDS} }} }}"""
UPDATE_POLICY = f"""mutation($input: UpdateServiceLevelPolicyInput!) {{
  updateServiceLevelPolicy(input: $input) {{ {POLICY_FIELDS} }} }}"""
DELETE_POLICY = "mutation($id: ID!) { deleteServiceLevelPolicy(id: $id) }"
POLICIES = f"query {{ serviceLevelPolicies {{ {POLICY_FIELDS} }} }}"
CALENDARS = "query { businessCalendars { id name timeZone holidayRegion } }"
SERVICE_LEVEL = """serviceLevel { policyName firstResponseDueAt firstRespondedAt firstResponseBreached
  resolutionDueAt resolvedAt resolutionBreached pausedSince }"""
TICKET_FIELDS = f"id number priority status {SERVICE_LEVEL}"
CREATE_TICKET = f"""mutation($input: CreateTicketInput!) {{ createTicket(input: $input) {{ {TICKET_FIELDS} }} }}"""
UPDATE_TICKET = f"""mutation($input: UpdateTicketInput!) {{ updateTicket(input: $input) {{ {TICKET_FIELDS} }} }}"""
TICKET = f"query($id: ID!) {{ node(id: $id) {{ ... on Ticket {{ {TICKET_FIELDS} }} }} }}"
SET_STATUS = f"mutation($id: ID!, $s: TicketStatus!) {{ setTicketStatus(id: $id, status: $s) {{ {TICKET_FIELDS} }} }}"
SET_STATE = f"mutation($id: ID!, $s: ID!) {{ setTicketState(id: $id, stateId: $s) {{ {TICKET_FIELDS} }} }}"
COMMENT = (
    "mutation($t: ID!, $b: String!, $i: Boolean) { addComment(input: {ticketId: $t, body: $b, internal: $i}) { id } }"
)
HISTORY = "query($id: ID!) { node(id: $id) { ... on Ticket { history { kind fromValue toValue actor { name } } } } }"


def gid(kind: str, pk: int) -> str:
    return str(to_global_id(kind, pk))


def instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def make_calendar(world: World, hours: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    variables = {"name": "Rund um die Uhr", "timeZone": "Europe/Berlin", "hours": hours or ALWAYS, **fields}
    return (await world.as_(world.admin).ok(CREATE_CALENDAR, {"input": variables}))["createBusinessCalendar"]


async def make_policy(
    world: World,
    calendar: dict[str, Any],
    targets: list[tuple[str, int, int]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    variables = {
        "name": "Standard",
        "calendarId": calendar["id"],
        "targets": [
            {"priority": p, "firstResponseMinutes": f, "resolutionMinutes": r}
            for p, f, r in (targets or [("NORMAL", 60, 240), ("URGENT", 15, 60)])
        ],
        "warnAtPercent": 50,
        **fields,
    }
    return (await world.as_(world.admin).ok(CREATE_POLICY, {"input": variables}))["createServiceLevelPolicy"]


async def create_ticket(world: World, by: Person, site: Any = None, kind: Any = None, **fields: Any) -> dict[str, Any]:
    variables = {
        "objectId": gid("SiteObject", (site or world.a1).id),
        "ticketTypeId": gid("TicketType", (kind or world.defect).id),
        "title": "Wasserschaden im Keller",
        **fields,
    }
    return (await world.as_(by).ok(CREATE_TICKET, {"input": variables}))["createTicket"]


async def row(ticket: dict[str, Any]) -> Ticket:
    from core.ids import decode_global_id

    return await Ticket.get(id=decode_global_id(ticket["id"], "id")[1])


async def backdate(ticket: dict[str, Any], minutes: float) -> None:
    """Move the ticket's whole clock `minutes` into the past (as if created that long ago)."""
    from datetime import timedelta

    shift = timedelta(minutes=minutes)
    found = await row(ticket)
    changes = {
        name: getattr(found, name) - shift
        for name in (
            "created_at",
            "updated_at",
            "sla_first_response_due_at",
            "sla_first_response_warn_at",
            "sla_resolution_started_at",
            "sla_resolution_due_at",
            "sla_resolution_warn_at",
            "sla_next_check_at",
            "sla_due_ascending",
            "sla_due_descending",
        )
        if getattr(found, name) is not None and (not name.startswith("sla_due_") or found.sla_resolution_due_at)
    }
    await Ticket.filter(id=found.id).update(**changes)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def policy(world: World) -> dict[str, Any]:
    """Around the clock in Berlin: NORMAL 60/240 minutes, URGENT 15/60, warning at 50 %, for anyone."""
    return await make_policy(world, await make_calendar(world))
