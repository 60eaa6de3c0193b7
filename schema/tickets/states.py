"""The workflow in GraphQL: `TicketState`, and what `Ticket`, `TicketType` and `Ticket.viewerCan` read of it.

Every value comes through per-request loaders keyed by ticket or type id
(`ticket_workflow_by_id`, `ticket_states_by_type_id`, `ticket_transitions_by_type_id`), so a
page costs one query per loader whatever its size, and the fields do not depend on which
columns the ticket's own row was read with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from core.ids import to_global_id
from models.tickets import TicketState as TicketStateRow
from models.tickets import TicketStatus
from permissions.policy import SIGNED_IN
from permissions.tickets import CONFIRM_RESOLUTION, REOPEN, LoopFacts, TicketPolicy
from resolvers.tickets.states import allowed_targets, current_state
from schema.directive import type_policy
from schema.loaders import ticket_states_by_type_id, ticket_transitions_by_type_id, ticket_workflow_by_id
from schema.relay import Node


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="A status in the workflow of one ticket type, in one of the three categories "
    "(`category`: what filters, the evaluation and mails mean by OPEN, IN_PROGRESS, DONE).",
)
class TicketState(Node):
    name: str = strawberry.field(description="The name shown, e.g. Eingeplant.")
    category: TicketStatus = strawberry.field(description="The category; `Ticket.status` of a ticket in this state.")
    position: int = strawberry.field(description="Order among the type's states, lowest first.")
    is_default: bool = strawberry.field(
        description="The state `setTicketStatus`, new tickets and reopening use for this category "
        "(exactly one per category and type)."
    )
    color: str | None = strawberry.field(description="#RRGGBB, for the UI; null when none was chosen.")
    pk: strawberry.Private[int]
    type_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: TicketStateRow) -> TicketState:
        return cls(
            id=to_global_id("TicketState", row.id),
            name=row.name,
            category=row.category,
            position=row.position,
            is_default=row.is_default,
            color=row.color,
            pk=row.id,
            type_pk=row.ticket_type_id,
        )


async def workflow_row(info: strawberry.Info, ticket_pk: int) -> dict[str, Any]:
    row = await ticket_workflow_by_id(info).load(ticket_pk)
    if row is None:  # the ticket is the viewer's: its row exists unless deleted this instant
        raise LookupError(f"No ticket {ticket_pk}")
    return row


async def type_states(info: strawberry.Info, type_pk: int) -> list[TicketState]:
    rows = await ticket_states_by_type_id(info).load(type_pk)
    return [TicketState.from_row(r) for r in rows]


async def ticket_state(info: strawberry.Info, ticket_pk: int) -> TicketState:
    row = await workflow_row(info, ticket_pk)
    states = await ticket_states_by_type_id(info).load(row["ticket_type_id"])
    return TicketState.from_row(current_state(states, row["state_id"], row["status"]))


def facts(row: dict[str, Any]) -> LoopFacts:
    return LoopFacts(
        status=row["status"],
        done_at=row["done_at"],
        confirmed_at=row["confirmed_at"],
        customer_confirmation=row["ticket_type__customer_confirmation"],
        reopen_window_days=row["ticket_type__reopen_window_days"],
    )


async def available_states(info: strawberry.Info, ticket_pk: int) -> list[TicketState]:
    """The states the viewer may move the ticket to with `setTicketState` (none for customer users)."""
    if not TicketPolicy(info.context.viewer).change_state:
        return []
    row = await workflow_row(info, ticket_pk)
    states = await ticket_states_by_type_id(info).load(row["ticket_type_id"])
    transitions = await ticket_transitions_by_type_id(info).load(row["ticket_type_id"])
    current = current_state(states, row["state_id"], row["status"])
    return [TicketState.from_row(s) for s in allowed_targets(states, transitions, current)]


async def may_close_loop(info: strawberry.Info, ticket_pk: int, reopen: bool) -> bool:
    """Whether `confirmTicketResolution` (or `reopenTicket`) would be allowed now."""
    chosen = REOPEN if reopen else CONFIRM_RESOLUTION
    viewer = info.context.viewer
    if not chosen.allows(viewer):
        return False  # no query for employees
    row = await workflow_row(info, ticket_pk)
    return TicketPolicy(viewer).may_close_loop(chosen, facts(row), datetime.now(UTC))
