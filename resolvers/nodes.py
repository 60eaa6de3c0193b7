"""`node(id:)` lookups for the ticket and form domains: one row through the viewer's scope, or None.

The other domains keep their `find_<singular>` next to their other resolvers
(`resolvers.customers.find_object`, `resolvers.accounts.find_employee`, …).
"""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet

from models.forms import FormSubmission, FormTemplate
from models.tickets import Attachment, Comment, TicketType
from permissions.forms import visible_submissions, visible_templates
from permissions.tickets import enabled_type_ids, visible_attachments, visible_comments
from permissions.viewer import Viewer
from resolvers.tickets import visible_ticket_values


def _visible_ticket_types(viewer: Viewer) -> QuerySet[TicketType]:
    # The scope `resolvers.tickets.visible_ticket_types` applies (customer users: the types enabled for
    # their customer; everyone else: every type), as a query narrowed to one row.
    if viewer.is_customer_user:
        return TicketType.filter(id__in=enabled_type_ids(viewer.customer_id or 0))
    return TicketType.all()


async def find_ticket(viewer: Viewer, ticket_id: int) -> dict[str, Any] | None:
    """The ticket as a `TICKET_VALUES` row (its to-one relations included)."""
    return await visible_ticket_values(viewer, ticket_id)


async def find_comment(viewer: Viewer, comment_id: int) -> Comment | None:
    return await visible_comments(viewer).filter(id=comment_id).first()


async def find_attachment(viewer: Viewer, attachment_id: int) -> Attachment | None:
    return await visible_attachments(viewer).filter(id=attachment_id).first()


async def find_ticket_type(viewer: Viewer, type_id: int) -> TicketType | None:
    return await _visible_ticket_types(viewer).filter(id=type_id).first()


async def find_template(viewer: Viewer, template_id: int) -> FormTemplate | None:
    return await visible_templates(viewer).filter(id=template_id).first()


async def find_submission(viewer: Viewer, submission_id: int) -> FormSubmission | None:
    return await visible_submissions(viewer).filter(id=submission_id).first()
