"""Moving tickets through their type's workflow: employees between states, customer users closing the loop.

`setTicketState` (employees) moves to any state of the ticket's type the type's transitions
allow. `confirmTicketResolution` and `reopenTicket` are the only status changes a customer user
can make: on a DONE ticket of a confirming type they see, within the type's window after
doneAt (`permissions.tickets.TicketPolicy.loop_refusal`). Deleting a state moves its tickets to a
replacement, each move in the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import BadUserInput, Forbidden, NotFound
from models.tickets import Ticket, TicketEventKind, TicketState, TicketStatus, TicketTransition, TicketType
from permissions.policy import Policy
from permissions.tickets import CONFIRM_RESOLUTION, REOPEN, LoopFacts, TicketPolicy
from permissions.viewer import Viewer
from resolvers import notifications
from resolvers.evaluations import whole_days
from resolvers.tickets import states as ticket_states
from resolvers.tickets.read import get_ticket
from resolvers.tickets.write import check_text, move_ticket, now, record

MAX_FEEDBACK = 2000
# A reason is kept whole in the history entry (`TicketEvent.to_value`).
MAX_REASON = 200


async def set_ticket_state(viewer: Viewer, ticket_id: int, state_id: int, *, at: datetime | None = None) -> Ticket:
    ticket = await get_ticket(viewer, ticket_id)
    workflow = await ticket_states.workflow_of(ticket)
    target = next((s for s in workflow.states if s.id == state_id), None)
    if target is None:
        if await TicketState.filter(id=state_id).exists():
            raise BadUserInput("The state belongs to another ticket type.", field="stateId")
        raise NotFound("No ticket state with this ID.", field="stateId")
    if target.id == workflow.current.id:
        return ticket
    ticket_states.check_move(workflow.states, workflow.transitions, workflow.current, target, "stateId")
    return await move_ticket(viewer, ticket, workflow, target, at=at)


async def loop_facts(ticket: Ticket) -> LoopFacts:
    kind = await TicketType.get(id=ticket.ticket_type_id)
    return LoopFacts(
        status=ticket.status,
        done_at=ticket.done_at,
        confirmed_at=ticket.confirmed_at,
        customer_confirmation=kind.customer_confirmation,
        reopen_window_days=kind.reopen_window_days,
    )


async def _closable(viewer: Viewer, ticket_id: int, policy: Policy, at: datetime) -> Ticket:
    """The visible ticket (else NOT_FOUND) the viewer may confirm or reopen now (else FORBIDDEN with the reason)."""
    ticket = await get_ticket(viewer, ticket_id)
    refusal = TicketPolicy(viewer).loop_refusal(policy, await loop_facts(ticket), at)
    if refusal is not None:
        message = {
            "WINDOW_CLOSED": "The time to confirm or reopen this ticket is over.",
            "NOT_CONFIRMABLE": "This ticket cannot be confirmed or reopened (not done, confirmed already, "
            "or its type asks for no confirmation).",
        }[refusal.value]
        raise Forbidden(message, reason=refusal.value)
    return ticket


async def confirm_ticket_resolution(
    viewer: Viewer,
    ticket_id: int,
    rating: int | None = None,
    feedback: str | None = None,
    *,
    at: datetime | None = None,
) -> Ticket:
    at = at or now()
    ticket = await _closable(viewer, ticket_id, CONFIRM_RESOLUTION, at)
    if rating is not None and not 1 <= rating <= 5:
        raise BadUserInput("The rating is 1 to 5.", field="rating")
    text = check_text(feedback, "feedback") if feedback is not None else ""
    if len(text) > MAX_FEEDBACK:
        raise BadUserInput(f"The feedback must have at most {MAX_FEEDBACK} characters.", field="feedback")
    async with in_transaction() as connection:
        # Conditional on the row still being confirmable: two confirmations racing, one wins.
        updated = await (
            Ticket.filter(id=ticket.id, status=TicketStatus.DONE, confirmed_at__isnull=True)
            .using_db(connection)
            .update(rating=rating, feedback=text or None, confirmed_at=at, updated_at=at)
        )
        if not updated:
            raise Forbidden("This ticket was confirmed or reopened meanwhile.", reason="NOT_CONFIRMABLE")
        await record(connection, ticket.id, TicketEventKind.CONFIRMED, viewer.account_id, None, rating, at=at)
        ticket.rating, ticket.confirmed_at, ticket.updated_at = rating, at, at
        ticket.feedback = text or None  # type: ignore[assignment]  # a nullable TextField
        if rating is not None and rating <= notifications.LOW_RATING:
            await notifications.queue_rated_low(connection, ticket, rating, text, viewer)
    return ticket


async def reopen_ticket(viewer: Viewer, ticket_id: int, reason: str, *, at: datetime | None = None) -> Ticket:
    """Back to the type's default OPEN state (whatever the transitions say), with who and why in the history."""
    at = at or now()
    ticket = await _closable(viewer, ticket_id, REOPEN, at)
    text = check_text(reason, "reason", required=True)
    if len(text) > MAX_REASON:
        raise BadUserInput(f"The reason must have at most {MAX_REASON} characters.", field="reason")
    workflow = await ticket_states.workflow_of(ticket)
    target = ticket_states.default_of(workflow.states, TicketStatus.OPEN)
    return await move_ticket(viewer, ticket, workflow, target, at=at, reason=text)


async def delete_ticket_state(viewer: Viewer, state_id: int, replacement_id: int) -> int:
    """Delete a state; its tickets move to `replacement_id` (a state of the same type), each move recorded.

    A default state can go only to a replacement of its category, which becomes the default.
    """
    state = await ticket_states.get_state(state_id, "id")
    replacement = await ticket_states.get_state(replacement_id, "replacementId")
    if replacement.ticket_type_id != state.ticket_type_id or replacement.id == state.id:
        raise BadUserInput("The replacement must be another state of the same ticket type.", field="replacementId")
    if state.is_default and replacement.category is not state.category:
        raise BadUserInput(
            "A default state is replaced by a state of its category, which becomes the default.",
            field="replacementId",
        )
    at = now()
    async with in_transaction() as connection:
        if state.is_default:
            await ticket_states.pin_defaults(connection, state.ticket_type_id, state.category, state.id)
        moving = await Ticket.filter(state_id=state.id).using_db(connection).values("id", "status", "created_at")
        for row in moving:
            await _move_for_deletion(connection, viewer, row, state, replacement, at)
        await _hand_transitions_over(connection, state, replacement)
        await TicketState.filter(id=state.id).using_db(connection).delete()
        if state.is_default:
            await TicketState.filter(id=replacement.id).using_db(connection).update(is_default=True)
    return state.id


async def _hand_transitions_over(connection: Any, state: TicketState, replacement: TicketState) -> None:
    """The deleted state's moves become the replacement's: deleting a state never allows a move the
    type's transitions did not (their rows would go with the state, and none left means any → any)."""
    pairs = (
        await TicketTransition.filter(ticket_type_id=state.ticket_type_id)
        .using_db(connection)
        .values_list("from_state_id", "to_state_id")
    )
    kept = {(a, b) for a, b in pairs if state.id not in (a, b)}
    handed = {
        (replacement.id if a == state.id else a, replacement.id if b == state.id else b)
        for a, b in pairs
        if state.id in (a, b)
    }
    new = [(a, b) for a, b in handed - kept if a != b]
    if new:
        await TicketTransition.bulk_create(
            [TicketTransition(ticket_type_id=state.ticket_type_id, from_state_id=a, to_state_id=b) for a, b in new],
            using_db=connection,
        )


async def _move_for_deletion(
    connection: Any, viewer: Viewer, row: dict[str, Any], state: TicketState, replacement: TicketState, at: datetime
) -> None:
    changes: dict[str, Any] = {"state_id": replacement.id, "updated_at": at}
    if replacement.category is not row["status"]:
        done = replacement.category is TicketStatus.DONE
        changes.update(
            status=replacement.category,
            done_at=at if done else None,
            resolution_days=whole_days(row["created_at"], at) if done else None,
        )
        if row["status"] is TicketStatus.DONE:
            changes.update(reopen_count=F("reopen_count") + 1, rating=None, feedback=None, confirmed_at=None)
        await record(
            connection,
            row["id"],
            TicketEventKind.STATUS_CHANGED,
            viewer.account_id,
            row["status"].value,
            replacement.category.value,
            at=at,
        )
    await Ticket.filter(id=row["id"]).using_db(connection).update(**changes)
    await record(
        connection, row["id"], TicketEventKind.STATE_CHANGED, viewer.account_id, state.name, replacement.name, at=at
    )
