"""The inputs of the ticket operations: each declared once, decoded by `schema.inputs.decoded`."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.file_uploads import Upload

from models.tickets import TicketStatus
from schema.inputs import ref
from schema.tickets import enums as _enums  # noqa: F401 (registers the ticket enums first)


@strawberry.enum(description="What `tickets` sorts by; ties are broken by the ticket's id in the same direction.")
class TicketOrder(Enum):
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the ticket was created (the default).")
    UPDATED_AT = strawberry.enum_value(
        "UPDATED_AT", description="When the ticket last changed: the order for syncing (ascending)."
    )
    DUE_DATE = strawberry.enum_value(
        "DUE_DATE", description="The due date; tickets without one come where the database sorts NULL."
    )
    NUMBER = strawberry.enum_value("NUMBER", description="The ticket number.")


@strawberry.input
class TicketFilterInput:
    object_id: ref("SiteObject") | None = None
    status: TicketStatus | None = None
    ticket_type_id: ref("TicketType") | None = None
    assignee_id: ref("Employee") | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = strawberry.field(
        default=None,
        description="Only tickets changed after this instant (exclusive): the start of a sync, "
        "ordered by `UPDATED_AT` ascending.",
    )


@strawberry.input
class CreateTicketTypeInput:
    name: str
    is_absence_request: bool = False


@strawberry.input
class CreateTicketInput:
    object_id: ref("SiteObject")
    ticket_type_id: ref("TicketType")
    title: str
    description: str | None = None
    due_date: date | None = None
    assignee_id: ref("Employee") | None = None
    attachments: list[Upload] | None = None


@strawberry.input
class UpdateTicketInput:
    id: ref("Ticket")
    title: str | None = None
    description: str | None = None
    due_date: date | None = None
    clear_due_date: bool = False


@strawberry.input
class AddCommentInput:
    ticket_id: ref("Ticket")
    body: str
    internal: bool = False


@strawberry.input
class EditCommentInput:
    id: ref("Comment")
    body: str


@strawberry.input
class ImportTicketInput:
    object_id: ref("SiteObject")
    ticket_type_id: ref("TicketType")
    title: str
    external_ref: str
    description: str | None = None
    status: TicketStatus = TicketStatus.OPEN
    created_at: datetime | None = None
    done_at: datetime | None = None
    assignee_id: ref("Employee") | None = None
