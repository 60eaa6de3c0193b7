"""The ticket enums as GraphQL enums, with their descriptions.

Registered before any input or type uses them (`schema.tickets.inputs` imports this
module first): Strawberry makes a plain definition of an enum it meets unregistered,
and a second, described one would clash with it.
"""

from __future__ import annotations

import strawberry

from models.tickets import CommentSource, TicketEventKind, TicketSource, TicketStatus
from schema.describe import describe_values

strawberry.enum(TicketStatus, description="Where a ticket stands.")
strawberry.enum(TicketSource, description="Where a ticket came from.")
strawberry.enum(TicketEventKind, description="What a history entry records.")
strawberry.enum(CommentSource, description="Where a comment was written.")
describe_values(
    TicketStatus,
    {
        "OPEN": "Reported, not yet worked on.",
        "IN_PROGRESS": "Someone is working on it.",
        "DONE": "Resolved; `doneAt` says when.",
    },
)
describe_values(
    TicketSource,
    {
        "BACKOFFICE": "Created by an employee.",
        "PORTAL": "Created by a customer user in the portal.",
        "FORM": "Created by a CREATE_TICKET element when an inspection form was submitted.",
        "IMPORT": "Imported from a legacy system (`importTickets`).",
        "EMAIL": "Created by a customer user's mail to the object's intake address (`SiteObject.intakeAddress`).",
    },
)
describe_values(
    CommentSource,
    {
        "APP": "Written through the API (back office, portal, app).",
        "EMAIL": "A reply to a notification mail, stored as a comment by its sender.",
    },
)
describe_values(
    TicketEventKind,
    {
        "CREATED": "The ticket was created; `toValue` is its number.",
        "UPDATED": "A field changed: `fromValue` names the field (title, description, due_date), `toValue` "
        "is its new value.",
        "STATUS_CHANGED": "The status changed from `fromValue` to `toValue` (TicketStatus values).",
        "ASSIGNEE_CHANGED": "The assignee changed; `fromValue`/`toValue` hold the employees' numbers (the "
        "number inside their `Employee` ID), null for nobody.",
        "COMMENT_ADDED": "A comment was written; `toValue` is its number.",
        "COMMENT_EDITED": "A comment was edited; `toValue` is its number.",
        "COMMENT_DELETED": "A comment was deleted; `fromValue` is its number.",
        "ATTACHMENT_ADDED": "A file was attached; `toValue` is its file name.",
        "ATTACHMENT_REMOVED": "A file was removed; `fromValue` is its file name.",
        "STATE_CHANGED": "The workflow state changed from `fromValue` to `toValue` (state names).",
        "CONFIRMED": "A customer user confirmed the resolution; `toValue` is the rating, null without one.",
        "REOPENED": "A customer user reopened the ticket; `fromValue` is the state it left, `toValue` the reason.",
    },
)
