"""The inputs of the ticket operations: each declared once, decoded by `schema.inputs.decoded`."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.file_uploads import Upload

from models.service_levels import TicketPriority
from models.tickets import TicketStatus
from schema.inputs import CommentId, EmployeeId, SiteObjectId, TicketId, TicketTypeId
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
    RESOLUTION_DUE = strawberry.enum_value(
        "RESOLUTION_DUE",
        description="When the resolution is due (`serviceLevel.resolutionDueAt`): the dispatcher's order, "
        "ascending; tickets without a resolution target come last in either direction.",
    )
    RELEVANCE = strawberry.enum_value(
        "RELEVANCE",
        description="Best match of `filter.search` first whatever `descending` says: the ticket number itself, "
        "then a title match, then a description (file name, object name) match, then a comment match; ties "
        'newest first. Without a search: BAD_USER_INPUT (field "orderBy").',
    )


@strawberry.input(description="Narrows a list of tickets; every field given must hold (absent fields do not narrow).")
class TicketFilterInput:
    object_id: SiteObjectId | None = strawberry.field(default=None, description="Only tickets on this object.")
    status: TicketStatus | None = strawberry.field(default=None, description="Only tickets in this status.")
    ticket_type_id: TicketTypeId | None = strawberry.field(default=None, description="Only tickets of this type.")
    assignee_id: EmployeeId | None = strawberry.field(
        default=None, description="Only tickets assigned to this employee."
    )
    search: str | None = strawberry.field(
        default=None,
        description='Only tickets matching this search: words (all must match, in any field), "a phrase", '
        "prefix*, -excluded; German word forms match (Fenster = Fensters = Fenstern), case and accents are "
        'ignored; "#123" or "123" alone also matches ticket number 123. Searches the title, the '
        "description, the comments the viewer may see, file names and the object's name. Exclusions or "
        'operators only: BAD_USER_INPUT (field "filter.search"); blank: no narrowing.',
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Only tickets created at or after this instant (inclusive)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Only tickets created before this instant (exclusive)."
    )
    updated_after: datetime | None = strawberry.field(
        default=None,
        description="Only tickets changed after this instant (exclusive): the start of a sync, "
        "ordered by `UPDATED_AT` ascending.",
    )
    service_level_breached: bool | None = strawberry.field(
        default=None,
        description="True: only tickets that missed a service-level target (or are overdue now); false: only "
        "tickets with targets that missed none; absent: no narrowing.",
    )


@strawberry.input(description="A new ticket type.")
class CreateTicketTypeInput:
    name: str = strawberry.field(description="Shown to everyone who sees its tickets, e.g. Reinigungsmangel.")
    is_absence_request: bool = strawberry.field(
        default=False,
        description="Vacation or sick leave: its tickets are seen only by their creator, their assignee and "
        "employees with MANAGE_ABSENCES, never by customers.",
    )


@strawberry.input(description="A new ticket on an object the viewer may see.")
class CreateTicketInput:
    object_id: SiteObjectId = strawberry.field(description="The object the ticket is about.")
    ticket_type_id: TicketTypeId = strawberry.field(
        description="Its type; customer users may use only the types enabled for their customer."
    )
    title: str = strawberry.field(description="1 to 200 characters.")
    description: str | None = strawberry.field(default=None, description="Up to 20,000 characters.")
    due_date: date | None = strawberry.field(default=None, description="The day it should be done by.")
    assignee_id: EmployeeId | None = strawberry.field(
        default=None, description="The employee to handle it (employees only)."
    )
    attachments: list[Upload] | None = strawberry.field(
        default=None, description="Files to attach right away (a multipart request, see `Upload`)."
    )
    priority: TicketPriority | None = strawberry.field(
        default=None,
        description="How urgent it is; absent: NORMAL. Customer users may choose it here, and only here.",
    )


@strawberry.input(description="Changes to a ticket; absent fields stay as they are.")
class UpdateTicketInput:
    id: TicketId = strawberry.field(description="The ticket to change.")
    title: str | None = strawberry.field(default=None, description="A new title, 1 to 200 characters.")
    description: str | None = strawberry.field(default=None, description="A new description, up to 20,000 characters.")
    due_date: date | None = strawberry.field(default=None, description="A new due date.")
    clear_due_date: bool = strawberry.field(
        default=False, description="True removes the due date (null in `dueDate` leaves it as it is)."
    )
    priority: TicketPriority | None = strawberry.field(
        default=None,
        description="A new priority; the service-level due times are recomputed from the ticket's creation.",
    )


@strawberry.input(description="A new comment on a ticket the viewer may see.")
class AddCommentInput:
    ticket_id: TicketId = strawberry.field(description="The ticket to comment on.")
    body: str = strawberry.field(description="The text, 1 to 20,000 characters.")
    internal: bool = strawberry.field(
        default=False,
        description="True: only employees ever see it. Customer users must leave it false (else FORBIDDEN).",
    )


@strawberry.input(description="A new text for a comment (its author only).")
class EditCommentInput:
    id: CommentId = strawberry.field(description="The comment to edit.")
    body: str = strawberry.field(description="The new text, 1 to 20,000 characters; sets `editedAt`.")


@strawberry.input(description="One ticket from a legacy system; `importTickets` takes all of them or none.")
class ImportTicketInput:
    object_id: SiteObjectId = strawberry.field(description="The object it belongs to.")
    ticket_type_id: TicketTypeId = strawberry.field(description="Its type.")
    title: str = strawberry.field(description="1 to 200 characters.")
    external_ref: str = strawberry.field(
        description="Its key in the legacy system: a ticket whose key was imported before is skipped, not duplicated."
    )
    description: str | None = strawberry.field(default=None, description="Up to 20,000 characters.")
    status: TicketStatus = strawberry.field(
        default=TicketStatus.OPEN, description="Its status; DONE needs `doneAt`, other statuses must not have one."
    )
    created_at: datetime | None = strawberry.field(
        default=None, description="When it was created in the legacy system; absent: now."
    )
    done_at: datetime | None = strawberry.field(default=None, description="When it was done (DONE tickets only).")
    assignee_id: EmployeeId | None = strawberry.field(default=None, description="The employee handling it.")
