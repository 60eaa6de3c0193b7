"""Shared pieces of the workflow tests: a confirming type on customer A's portal, a ticket created by
Alice in the portal and handled by Jonas, and the operations as GraphQL text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.ids import to_global_id
from models.customers import CustomerTicketType
from models.tickets import Ticket, TicketType
from tests.conftest import World
from tests.factories import Person, make_customer_user, make_ticket

TICKET_FIELDS = """id status doneAt reopenCount rating confirmedAt state { id name category isDefault }
  viewerCan { changeStatus confirmResolution reopen availableStates { name } }"""
SET_STATUS = f"mutation($id: ID!, $s: TicketStatus!) {{ setTicketStatus(id: $id, status: $s) {{ {TICKET_FIELDS} }} }}"
SET_STATE = f"mutation($id: ID!, $s: ID!) {{ setTicketState(id: $id, stateId: $s) {{ {TICKET_FIELDS} }} }}"
CONFIRM = f"""mutation($id: ID!, $rating: Int, $feedback: String) {{
  confirmTicketResolution(id: $id, rating: $rating, feedback: $feedback) {{ {TICKET_FIELDS} }} }}"""
REOPEN = f"mutation($id: ID!, $reason: String!) {{ reopenTicket(id: $id, reason: $reason) {{ {TICKET_FIELDS} }} }}"
TICKET = f"query($id: ID!) {{ node(id: $id) {{ ... on Ticket {{ {TICKET_FIELDS} }} }} }}"
UPDATE_TYPE = """mutation($input: UpdateTicketTypeInput!) { updateTicketType(input: $input) {
  id name customerConfirmation reopenWindowDays states { id name category isDefault position } } }"""


def gid(kind: str, pk: int) -> str:
    return str(to_global_id(kind, pk))


@dataclass
class Loop:
    world: World
    kind: TicketType  # "Grundreinigung": confirming, 7-day window, enabled for customer A
    ticket: Ticket  # created by Alice on a1, assigned to Jonas
    neighbour: Person  # another customer user of A on a1 (sees Alice's ticket)

    @property
    def id(self) -> str:
        return gid("Ticket", self.ticket.id)

    async def done(self, days_ago: float = 0) -> None:
        """Jonas sets the ticket DONE (through the API), then its doneAt is moved into the past."""
        await self.world.as_(self.world.staff).ok(SET_STATUS, {"id": self.id, "s": "DONE"})
        if days_ago:
            done_at = datetime.now(UTC) - timedelta(days=days_ago)
            await Ticket.filter(id=self.ticket.id).update(done_at=done_at)

    async def row(self) -> Ticket:
        return await Ticket.get(id=self.ticket.id)


@pytest.fixture
async def loop(world: World, settings: Any) -> Loop:
    kind = await TicketType.create(name="Grundreinigung", customer_confirmation=True, reopen_window_days=7)
    await CustomerTicketType.create(customer=world.a, ticket_type=kind)
    ticket = await make_ticket(world.a1, kind, "Treppenhaus nicht gereinigt", by=world.alice, assignee=world.staff)
    neighbour = await make_customer_user(settings, world.a, objects=[world.a1], name="Nachbarin")
    return Loop(world, kind, ticket, neighbour)
