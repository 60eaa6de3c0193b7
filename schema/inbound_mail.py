"""The email channel's mutations (issue 27); its fields sit on SiteObject, Customer, Employee and CustomerUser."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.errors import NotFound
from core.ids import decode_global_id, parse_id
from permissions.inbound_mail import CLEAR_BOUNCING, CONFIGURE_CHANNEL
from resolvers.inbound_mail import administration
from schema.accounts import CustomerUser, Employee, Person
from schema.customers import Customer, SiteObject
from schema.directive import mutation


@strawberry.type
class InboundMailMutations:
    @mutation(
        policy=CONFIGURE_CHANNEL,
        description="A new secret intake address for the object; mail to the old one is refused from now on.",
    )
    async def rotate_object_intake_address(
        self, object_id: Annotated[strawberry.ID, strawberry.argument(description="The object's ID.")]
    ) -> SiteObject:
        pk = parse_id(object_id, "SiteObject", field="objectId")
        return SiteObject.from_row(await administration.rotate_intake_key(pk))

    @mutation(
        policy=CONFIGURE_CHANNEL,
        description="The type of tickets the customer's users open by mail to an object's intake address "
        "(one of the types enabled for them); null: mail to intake addresses is refused.",
    )
    async def set_customer_mail_ticket_type(
        self,
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer's ID.")],
        ticket_type_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The ticket type's ID, or null for none.")
        ] = None,
    ) -> Customer:
        pk = parse_id(customer_id, "Customer", field="customerId")
        type_pk = parse_id(ticket_type_id, "TicketType", field="ticketTypeId") if ticket_type_id else None
        return Customer.from_row(await administration.set_mail_ticket_type(pk, type_pk))

    @mutation(
        policy=CLEAR_BOUNCING,
        description="Mail the person's address again after it bounced (`mailBouncing` becomes false).",
    )
    async def clear_mail_bouncing(
        self,
        person_id: Annotated[strawberry.ID, strawberry.argument(description="The Employee's or CustomerUser's ID.")],
    ) -> Person:
        kind, pk = decode_global_id(person_id, "personId")
        if kind not in ("Employee", "CustomerUser"):
            raise NotFound("No person with this ID.", field="personId")
        row, account = await administration.clear_mail_bouncing(kind, pk)
        if kind == "Employee":
            return Employee.from_rows(row, account)  # type: ignore[arg-type]
        return CustomerUser.from_rows(row, account)  # type: ignore[arg-type]
