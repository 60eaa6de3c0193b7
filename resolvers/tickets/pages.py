"""Pages of a ticket's growing lists (attachments, history) for many tickets at once.

The connection fields `Ticket.attachmentPage` and `Ticket.historyPage` load
through these: one windowed statement for every ticket of a request that asks
the same page (`core.keyset.pages_by_parent`), so a page of tickets with their
attachment pages costs the same number of statements at 5 tickets as at 100.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Subquery

from core.keyset import Listing, Window
from models.tickets import TicketEvent
from permissions.tickets import visible_attachments, visible_tickets
from permissions.viewer import Viewer
from resolvers.tickets.read import ATTACHMENT_VALUES

Page = tuple[list[dict[str, Any]], int]

HISTORY_VALUES = ("id", "ticket_id", "kind", "actor_id", "from_value", "to_value", "created_at")


ATTACHMENTS = Listing("attachments", "created_at", descending=False)
HISTORY = Listing("history", "created_at", descending=False)


async def attachment_pages(viewer: Viewer, ticket_ids: list[int], window: Window) -> dict[int, Page]:
    """A page (oldest first, `ATTACHMENTS`) of the attachments on each visible one of `ticket_ids`, and their count."""
    scope = visible_attachments(viewer, ticket_ids)
    return await ATTACHMENTS.pages_by_parent(scope, "ticket_id", ticket_ids, ATTACHMENT_VALUES, window)


async def history_pages(viewer: Viewer, ticket_ids: list[int], window: Window) -> dict[int, Page]:
    """A page (oldest first, `HISTORY`) of the history of each visible one of `ticket_ids`, and its length.

    The field's policy limits it to employees; the scope still goes through `visible_tickets`.
    """
    visible_ids = Subquery(visible_tickets(viewer).filter(id__in=ticket_ids).values("id"))
    scope = TicketEvent.filter(ticket_id__in=visible_ids)
    return await HISTORY.pages_by_parent(scope, "ticket_id", ticket_ids, HISTORY_VALUES, window)
