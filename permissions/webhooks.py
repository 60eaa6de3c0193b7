"""Who may see and manage webhooks: system administrators, every webhook; nobody else, none."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.webhooks import Webhook, WebhookDelivery
from permissions.policy import SYSTEM_ADMINS
from permissions.viewer import Viewer


def visible_webhooks(viewer: Viewer) -> QuerySet[Webhook]:
    if not SYSTEM_ADMINS.allows(viewer):
        return Webhook.filter(id__in=[])
    return Webhook.all()


def visible_webhook_deliveries(viewer: Viewer) -> QuerySet[WebhookDelivery]:
    if not SYSTEM_ADMINS.allows(viewer):
        return WebhookDelivery.filter(id__in=[])
    return WebhookDelivery.all()
