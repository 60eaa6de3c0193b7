"""Documents per object: published attachments and the rules that publish them.

`setCustomerDocumentRules` returns a `Customer`, so it lives with the customer mutations.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from core.ids import to_global_id
from files.signing import signed_url
from permissions.policy import EMPLOYEES, SIGNED_IN
from resolvers.documents import Document as DocumentRow
from resolvers.documents import document_from_values
from schema.directive import field, type_policy
from schema.inputs import TicketTypeId
from schema.loaders import (
    document_rules_by_customer_id,
    ticket_type_by_id,
    visible_document_page_by_object_id,
    visible_documents_by_object_id,
    visible_ticket_by_id,
)
from schema.relay import Connection, Node, Paging, connection
from schema.tickets import Ticket, TicketType


@strawberry.type(
    directives=type_policy(SIGNED_IN), description="A file published on an object by the customer's document rules."
)
class Document(Node):
    filename: str = strawberry.field(description="The file name as uploaded.")
    content_type: str = strawberry.field(description="The content type sniffed from the file's bytes.")
    size: int = strawberry.field(description="Size in bytes.")
    created_at: datetime = strawberry.field(description="When it was attached to its ticket.")
    pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int]
    type_pk: strawberry.Private[int]

    @field(policy=SIGNED_IN, description="The type of the ticket the file came with.")
    async def ticket_type(self, info: strawberry.Info) -> TicketType:
        return TicketType.from_row(await ticket_type_by_id(info).load(self.type_pk))

    @field(
        policy=SIGNED_IN,
        description=(
            "Absolute signed URL (starting with SITEDESK_PUBLIC_URL), valid for a few minutes, "
            "no Authorization header needed."
        ),
    )
    def download_url(self, info: strawberry.Info) -> str:
        return signed_url(info.context.settings, "attachment", self.pk)

    @field(policy=EMPLOYEES, description="The ticket behind the file. Customer users never reach it.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        row = await visible_ticket_by_id(info).load(self.ticket_pk)
        return Ticket.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: DocumentRow) -> Document:
        return cls(
            id=to_global_id("Document", row.id),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            created_at=row.created_at,
            pk=row.id,
            ticket_pk=row.ticket_id,
            type_pk=row.ticket_type_id,
        )


@strawberry.type(
    directives=type_policy(EMPLOYEES),
    description="Which attachments of one ticket type a customer publishes as documents.",
)
class DocumentRule:
    content_types: list[str] = strawberry.field(
        description="Content types such as application/pdf or image/*; empty means every attachment."
    )
    type_pk: strawberry.Private[int]

    @field(policy=EMPLOYEES, description="The ticket type whose attachments the rule publishes.")
    async def ticket_type(self, info: strawberry.Info) -> TicketType:
        return TicketType.from_row(await ticket_type_by_id(info).load(self.type_pk))


@strawberry.input(description="One document rule: a ticket type and the content types it publishes.")
class DocumentRuleInput:
    ticket_type_id: TicketTypeId = strawberry.field(
        description="The ticket type whose attachments are published; not an absence type."
    )
    content_types: list[str] | None = strawberry.field(
        default=None, description="e.g. application/pdf or image/*; null or empty publishes every attachment."
    )


async def documents_of(info: strawberry.Info, object_pk: int) -> list[Document]:
    """`SiteObject.documents`: batched over the objects of the request."""
    return [Document.from_row(row) for row in await visible_documents_by_object_id(info).load(object_pk)]


async def document_rules_of(info: strawberry.Info, customer_pk: int) -> list[DocumentRule]:
    """`Customer.documentRules`: batched over the customers of the request."""
    rows = await document_rules_by_customer_id(info).load(customer_pk)
    return [DocumentRule(content_types=list(r.content_types), type_pk=r.ticket_type_id) for r in rows]


async def document_connection(info: strawberry.Info, object_pk: int, page: Paging) -> Connection[Document]:
    """`SiteObject.documentPage`: a keyset page, batched over the objects of the request (one windowed statement)."""
    rows, total = await visible_document_page_by_object_id(info).load((object_pk, (page.window, ())))
    items = [Document.from_row(document_from_values(r)) for r in rows]
    return connection(items, rows, page, total)
