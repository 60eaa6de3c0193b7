"""`TicketViewerCan`: what the viewer may do with one ticket, so a client shows only the buttons that work."""

from __future__ import annotations

import strawberry

from permissions.policy import SIGNED_IN
from schema.directive import field, type_policy
from schema.tickets.states import TicketState, available_states, may_close_loop


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="What the viewer may do with this ticket: show only the buttons that work.",
)
class TicketViewerCan:
    comment: bool = strawberry.field(description="Whether `addComment` would be allowed.")
    attach: bool = strawberry.field(description="Whether `addAttachment` would be allowed.")
    edit: bool = strawberry.field(description="Whether `updateTicket` would be allowed.")
    change_status: bool = strawberry.field(description="Whether `setTicketStatus` would be allowed.")
    assign: bool = strawberry.field(description="Whether `assignTicket` would be allowed.")
    ticket_pk: strawberry.Private[int] = 0

    @field(
        policy=SIGNED_IN,
        description="The states `setTicketState` accepts for this ticket now (its type's transitions "
        "allowing); empty for customer users.",
    )
    async def available_states(self, info: strawberry.Info) -> list[TicketState]:
        return await available_states(info, self.ticket_pk)

    @field(policy=SIGNED_IN, description="Whether `confirmTicketResolution` would be accepted now.")
    async def confirm_resolution(self, info: strawberry.Info) -> bool:
        return await may_close_loop(info, self.ticket_pk, reopen=False)

    @field(policy=SIGNED_IN, description="Whether `reopenTicket` would be accepted now.")
    async def reopen(self, info: strawberry.Info) -> bool:
        return await may_close_loop(info, self.ticket_pk, reopen=True)
