"""Managing webhooks (system administrators): create, change, delete, list, deliveries, redeliver.

A webhook sends the events it subscribes to as its account (an employee, a customer user or a
service account) may see them; its URL is checked here (https, public address) and again at
every delivery (`webhooks.sender`). The signing secret is returned once, by `create_webhook`.

Audit hook points: `create_webhook`, `update_webhook` and `delete_webhook` are where
WEBHOOK_CREATED / WEBHOOK_UPDATED / WEBHOOK_DELETED belong (inside their transactions, with the
viewer as actor and the webhook as subject).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import BadUserInput, NotFound
from core.keyset import Listing, Window
from core.lookup import get_in_scope
from core.settings import Settings
from models.accounts import CustomerUser, Employee
from models.audit import AuditAction
from models.webhooks import Webhook, WebhookDelivery, WebhookDeliveryStatus, WebhookEvent
from permissions.viewer import Viewer
from permissions.webhooks import visible_webhook_deliveries, visible_webhooks
from resolvers.audit import record_audit
from resolvers.people import account_of_person
from webhooks.addresses import AddressRefused, check_url, url_origin
from webhooks.outbox import events_column
from webhooks.signing import new_secret

MAX_DESCRIPTION = 500
ACCOUNT_TYPES = {"Employee": Employee, "CustomerUser": CustomerUser}


def _now() -> datetime:
    return datetime.now(UTC)


async def checked_url(settings: Settings, url: str) -> str:
    try:
        await check_url(url, allow_http=settings.webhook_allow_http, allow_private=settings.webhook_allow_private)
    except AddressRefused as exc:
        raise BadUserInput(str(exc), field="url") from None
    return url.strip()


def _events(events: list[WebhookEvent]) -> str:
    if not events:
        raise BadUserInput("Subscribe to at least one event.", field="events")
    return events_column(events)


def _description(description: str | None) -> str:
    cleaned = (description or "").strip()
    if len(cleaned) > MAX_DESCRIPTION:
        raise BadUserInput(f"The description must have at most {MAX_DESCRIPTION} characters.", field="description")
    return cleaned


async def _account_id(account: tuple[str, int]) -> int:
    """The account behind an Employee or CustomerUser id; it must be active."""
    found = await account_of_person(account, "accountId")
    if not found.is_active:
        raise NotFound("No active employee or customer user with this ID.", field="accountId")
    return found.id


async def get_webhook(viewer: Viewer, pk: int, field: str = "id") -> Webhook:
    return await get_in_scope(visible_webhooks(viewer), pk, "webhook", field)


async def create_webhook(
    viewer: Viewer,
    settings: Settings,
    *,
    url: str,
    events: list[WebhookEvent],
    account: tuple[str, int],
    description: str | None = None,
    address: str | None = None,
) -> tuple[Webhook, str]:
    """A new enabled webhook and its signing secret (shown only now)."""
    column = _events(events)
    text = _description(description)
    account_id = await _account_id(account)
    url = await checked_url(settings, url)
    secret = new_secret()
    at = _now()
    async with in_transaction() as connection:
        webhook = await Webhook.create(
            url=url,
            events=column,
            account_id=account_id,
            created_by_id=viewer.account_id,
            description=text,
            secret=secret,
            created_at=at,
            updated_at=at,
            using_db=connection,
        )
        await record_audit(
            viewer, AuditAction.WEBHOOK_CREATED, "Webhook", webhook.id, f"Webhook to {url_origin(url)} created", address
        )
    return webhook, secret


async def update_webhook(
    viewer: Viewer,
    settings: Settings,
    *,
    id: int,
    url: str | None = None,
    events: list[WebhookEvent] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    address: str | None = None,
) -> Webhook:
    """Change what is given; enabling again clears the reason it was disabled (held deliveries resume)."""
    webhook = await get_webhook(viewer, id)
    changes: dict[str, Any] = {}
    if events is not None:
        changes["events"] = _events(events)
    if description is not None:
        changes["description"] = _description(description)
    if url is not None:
        changes["url"] = await checked_url(settings, url)
    if enabled is not None:
        changes["enabled"] = enabled
        if enabled:
            changes["disabled_reason"] = None
            changes["failing_since"] = None
        elif webhook.enabled:
            changes["disabled_reason"] = "Disabled by an administrator."
    if changes:
        changes["updated_at"] = _now()
        async with in_transaction() as connection:
            await Webhook.filter(id=webhook.id).using_db(connection).update(**changes)
            changed = ", ".join(sorted(name for name in changes if name != "updated_at"))
            await record_audit(
                viewer, AuditAction.WEBHOOK_UPDATED, "Webhook", webhook.id, f"Webhook changed: {changed}", address
            )
        await webhook.refresh_from_db()
    return webhook


async def delete_webhook(viewer: Viewer, id: int, address: str | None = None) -> int:
    """Delete the webhook and its deliveries (nothing more is sent)."""
    webhook = await get_webhook(viewer, id)
    async with in_transaction() as connection:
        await Webhook.filter(id=webhook.id).using_db(connection).delete()
        await record_audit(
            viewer,
            AuditAction.WEBHOOK_DELETED,
            "Webhook",
            webhook.id,
            f"Webhook to {url_origin(webhook.url)} deleted",
            address,
        )
    return webhook.id


WEBHOOKS = Listing("webhooks", "created_at", descending=True)
WEBHOOK_DELIVERIES = Listing("webhookDeliveries", "created_at", descending=True)


async def webhook_page(viewer: Viewer, window: Window) -> tuple[list[Webhook], int]:
    """Every webhook, newest first (`WEBHOOKS`)."""
    return await WEBHOOKS.page(visible_webhooks(viewer), window)


async def delivery_page(viewer: Viewer, webhook_id: int, window: Window) -> tuple[list[WebhookDelivery], int]:
    """A webhook's deliveries, newest first (`WEBHOOK_DELIVERIES`)."""
    webhook = await get_webhook(viewer, webhook_id, "webhookId")
    return await WEBHOOK_DELIVERIES.page(visible_webhook_deliveries(viewer).filter(webhook_id=webhook.id), window)


async def redeliver(viewer: Viewer, delivery_id: int) -> WebhookDelivery:
    """The same delivery (same webhook-id) due again now; its payload is built afresh when sent."""
    delivery = await get_in_scope(visible_webhook_deliveries(viewer), delivery_id, "webhook delivery", "deliveryId")
    webhook = await Webhook.get(id=delivery.webhook_id)
    if not webhook.enabled:
        raise BadUserInput("The webhook is disabled: enable it with updateWebhook first.", field="deliveryId")
    await WebhookDelivery.filter(id=delivery.id).update(
        status=WebhookDeliveryStatus.PENDING, next_attempt_at=_now(), claim_token=None
    )
    await delivery.refresh_from_db()
    return delivery


async def find_webhook(viewer: Viewer, pk: int) -> Webhook | None:
    return await visible_webhooks(viewer).filter(id=pk).first()


async def find_delivery(viewer: Viewer, pk: int) -> WebhookDelivery | None:
    return await visible_webhook_deliveries(viewer).filter(id=pk).first()
