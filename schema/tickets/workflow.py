"""The workflow operations (issue 18): states and transitions per ticket type (system administrators),
moving a ticket between states (employees), and the customer closing the loop (customer users)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.ids import parse_id, to_global_id
from models.tickets import TicketStatus
from permissions import tickets as ticket_policy
from resolvers import tickets
from schema.directive import mutation
from schema.inputs import TicketStateId, TicketTypeId, decoded, decoded_list
from schema.tickets.states import TicketState
from schema.tickets.types import Ticket, TicketType


@strawberry.input(description="A new state for a ticket type's workflow.")
class CreateTicketStateInput:
    ticket_type_id: TicketTypeId = strawberry.field(description="The type the state belongs to.")
    name: str = strawberry.field(description="Unique within the type, at most 100 characters.")
    category: TicketStatus = strawberry.field(description="What the state counts as (Ticket.status).")
    position: int | None = strawberry.field(default=None, description="0–10000; absent: after the last state.")
    color: str | None = strawberry.field(default=None, description="#RRGGBB, or null.")
    is_default: bool = strawberry.field(
        default=False,
        description="Make it its category's default (tickets in the old default keep their state).",
    )


@strawberry.input(description="Changes to a state; absent fields stay as they are.")
class UpdateTicketStateInput:
    id: TicketStateId = strawberry.field(description="The state to change.")
    name: str | None = strawberry.field(default=None, description="The new name, unique within the type.")
    position: int | None = strawberry.field(default=None, description="The new position, 0–10000.")
    color: str | None = strawberry.field(default=None, description="#RRGGBB; an empty string removes it.")
    is_default: bool | None = strawberry.field(
        default=None, description="true: make it its category's default. false is refused on the default."
    )


@strawberry.input(description="One allowed move of a ticket type's workflow.")
class TransitionInput:
    from_state_id: TicketStateId = strawberry.field(description="The state a ticket is in.")
    to_state_id: TicketStateId = strawberry.field(description="A state it may move to.")


@strawberry.input(description="Changes to a ticket type; absent fields stay as they are.")
class UpdateTicketTypeInput:
    id: TicketTypeId = strawberry.field(description="The type to change.")
    name: str | None = strawberry.field(default=None, description="The new name, unique.")
    customer_confirmation: bool | None = strawberry.field(
        default=None, description="Customer users confirm (and rate) or reopen DONE tickets of this type."
    )
    reopen_window_days: int | None = strawberry.field(
        default=None, description="1–365 days after doneAt during which they may."
    )


@strawberry.type
class WorkflowMutations:
    @mutation(policy=ticket_policy.MANAGE_WORKFLOW, description="Add a state to a ticket type.")
    async def create_ticket_state(
        self,
        input: Annotated[
            CreateTicketStateInput,
            strawberry.argument(description="The type, name, category and place of the new state."),
        ],
    ) -> TicketState:
        return TicketState.from_row(await tickets.create_ticket_state(**decoded(input)))

    @mutation(policy=ticket_policy.MANAGE_WORKFLOW, description="Rename, reorder, recolor a state or make it default.")
    async def update_ticket_state(
        self,
        input: Annotated[
            UpdateTicketStateInput,
            strawberry.argument(description="The state and what to change; fields left out stay."),
        ],
    ) -> TicketState:
        fields = decoded(input)
        return TicketState.from_row(await tickets.update_ticket_state(fields.pop("id"), **fields))

    @mutation(
        policy=ticket_policy.MANAGE_WORKFLOW,
        description="Delete a state; its tickets move to `replacementId` (same type; for a default state, "
        "same category, and it becomes the default), each move in the history. Returns the deleted id.",
    )
    async def delete_ticket_state(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The state to delete.")],
        replacement_id: Annotated[strawberry.ID, strawberry.argument(description="Where the state's tickets go.")],
    ) -> strawberry.ID:
        pk = await tickets.delete_ticket_state(
            info.context.viewer,
            parse_id(id, "TicketState", "id"),
            parse_id(replacement_id, "TicketState", "replacementId"),
        )
        return strawberry.ID(str(to_global_id("TicketState", pk)))

    @mutation(
        policy=ticket_policy.MANAGE_WORKFLOW,
        description="Replace the type's allowed moves; an empty list allows every move.",
    )
    async def set_ticket_type_transitions(
        self,
        ticket_type_id: Annotated[
            strawberry.ID, strawberry.argument(description="The ticket type whose moves to set.")
        ],
        transitions: Annotated[list[TransitionInput], strawberry.argument(description="Every allowed move.")],
    ) -> TicketType:
        row = await tickets.set_ticket_type_transitions(
            parse_id(ticket_type_id, "TicketType", "ticketTypeId"), decoded_list(transitions, "transitions")
        )
        return TicketType.from_row(row)

    @mutation(policy=ticket_policy.MANAGE_WORKFLOW, description="Rename a type or set its customer confirmation.")
    async def update_ticket_type(
        self,
        input: Annotated[
            UpdateTicketTypeInput, strawberry.argument(description="The type and what to change; fields left out stay.")
        ],
    ) -> TicketType:
        fields = decoded(input)
        return TicketType.from_row(await tickets.update_ticket_type(fields.pop("id"), **fields))

    @mutation(
        policy=ticket_policy.CHANGE_STATE,
        description="Move a ticket to a state of its type. A move the type's transitions forbid: "
        "BAD_USER_INPUT with `extensions.allowedStateIds`; a state of another type: BAD_USER_INPUT.",
    )
    async def set_ticket_state(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket to move.")],
        state_id: Annotated[strawberry.ID, strawberry.argument(description="The state to move to.")],
    ) -> Ticket:
        row = await tickets.set_ticket_state(
            info.context.viewer, parse_id(id, "Ticket", "id"), parse_id(state_id, "TicketState", "stateId")
        )
        return Ticket.from_row(row)

    @mutation(
        policy=ticket_policy.CONFIRM_RESOLUTION,
        description="A customer user confirms that a DONE ticket of a confirming type is resolved, "
        "within the type's window after doneAt, optionally rating it 1–5 with feedback. Refused: "
        "FORBIDDEN with `extensions.reason` WINDOW_CLOSED or NOT_CONFIRMABLE.",
    )
    async def confirm_ticket_resolution(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The DONE ticket to confirm.")],
        rating: Annotated[int | None, strawberry.argument(description="1 (poor) to 5 (very good).")] = None,
        feedback: Annotated[str | None, strawberry.argument(description="Read by employees only.")] = None,
    ) -> Ticket:
        row = await tickets.confirm_ticket_resolution(
            info.context.viewer, parse_id(id, "Ticket", "id"), rating, feedback
        )
        return Ticket.from_row(row)

    @mutation(
        policy=ticket_policy.REOPEN,
        description="A customer user reopens a DONE ticket of a confirming type within the window: it "
        "goes to the type's default OPEN state, the reason (at most 200 characters) in its history, "
        "and its assignee is mailed. Refused as `confirmTicketResolution`.",
    )
    async def reopen_ticket(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The DONE ticket to reopen.")],
        reason: Annotated[str, strawberry.argument(description="Why the work is not done.")],
    ) -> Ticket:
        row = await tickets.reopen_ticket(info.context.viewer, parse_id(id, "Ticket", "id"), reason)
        return Ticket.from_row(row)
