"""Who may read the outbox and whose notification settings."""

from __future__ import annotations

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from models.notifications import OutboxMail
from permissions.policy import EMPLOYEES
from permissions.tickets import visible_tickets
from permissions.viewer import Viewer


def visible_notifications(viewer: Viewer) -> QuerySet[OutboxMail]:
    """Employees see the mails about the tickets they see; nobody else sees any."""
    if not EMPLOYEES.allows(viewer):
        return OutboxMail.filter(id__in=[])
    return OutboxMail.filter(ticket_id__in=Subquery(visible_tickets(viewer).values("id")))


def may_read_notification_settings(viewer: Viewer, account_id: int) -> bool:
    """Notification settings are one's own business."""
    return viewer.account_id is not None and viewer.account_id == account_id
