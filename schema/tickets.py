"""Ticket types and tickets."""

from __future__ import annotations

import strawberry

from models.tickets import TicketType as TicketTypeRow
from permissions.policy import EMPLOYEES, SIGNED_IN, SYSTEM_ADMINS
from resolvers import tickets
from schema.directive import field, mutation, type_policy
from schema.relay import Node, to_global_id


@strawberry.type(directives=type_policy(SIGNED_IN), description="A kind of ticket, e.g. Reinigungsmangel.")
class TicketType(Node):
    name: str
    absence: strawberry.Private[bool]

    @field(policy=EMPLOYEES, description="Absence requests (vacation, sick leave) never reach customers.")
    def is_absence_request(self) -> bool:
        return self.absence

    @classmethod
    def from_row(cls, row: TicketTypeRow) -> TicketType:
        return cls(id=to_global_id("TicketType", row.id), name=row.name, absence=row.is_absence_request)


@strawberry.input
class CreateTicketTypeInput:
    name: str
    is_absence_request: bool = False


@strawberry.type
class TicketQueries:
    @field(policy=SIGNED_IN, description="Ticket types; customer users see only their enabled types.")
    async def ticket_types(self, info: strawberry.Info) -> list[TicketType]:
        return [TicketType.from_row(r) for r in await tickets.visible_ticket_types(info.context.viewer)]


@strawberry.type
class TicketMutations:
    @mutation(policy=SYSTEM_ADMINS)
    async def create_ticket_type(self, input: CreateTicketTypeInput) -> TicketType:
        return TicketType.from_row(await tickets.create_ticket_type(input.name, input.is_absence_request))
