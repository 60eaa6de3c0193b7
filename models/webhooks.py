"""Webhooks: the partner endpoints, and the outbox of their deliveries (written with the change)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Account


class WebhookEvent(str, Enum):
    TICKET_CREATED = "TICKET_CREATED"
    TICKET_UPDATED = "TICKET_UPDATED"
    TICKET_STATUS_CHANGED = "TICKET_STATUS_CHANGED"
    TICKET_ASSIGNED = "TICKET_ASSIGNED"
    COMMENT_ADDED = "COMMENT_ADDED"
    COMMENT_EDITED = "COMMENT_EDITED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    ATTACHMENT_REMOVED = "ATTACHMENT_REMOVED"
    FORM_SUBMITTED = "FORM_SUBMITTED"
    TICKET_SLA_WARNING = "TICKET_SLA_WARNING"
    TICKET_SLA_BREACHED = "TICKET_SLA_BREACHED"


class WebhookDeliveryStatus(str, Enum):
    PENDING = "PENDING"  # not tried yet (or sent again on request)
    DELIVERED = "DELIVERED"  # the endpoint answered 2xx
    RETRYING = "RETRYING"  # failed at least once, tried again at next_attempt_at
    FAILED = "FAILED"  # given up (attempts used up, 410 Gone)
    SKIPPED = "SKIPPED"  # the webhook's account may not see the event (any more): nothing sent


class Webhook(Model):
    """A partner endpoint receiving the events it subscribed to, as `account` may see them.

    `events` is the subscribed event names wrapped in commas (",TICKET_CREATED,COMMENT_ADDED,"),
    so a write finds its webhooks with one LIKE on either database. `secret` is the signing
    key as handed out ("whsec_" + base64); it must be readable to sign, so it is not hashed.
    """

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    events = fields.CharField(max_length=400)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="webhooks", on_delete=fields.CASCADE
    )
    account_id: int
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="created_webhooks", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    description = fields.CharField(max_length=500, default="")
    secret = fields.CharField(max_length=100)
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=300, null=True)
    # Set by the first failed attempt after a success; a hook failing for days is disabled.
    failing_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "webhook"
        indexes = (("enabled", "id"),)


class WebhookDelivery(Model):
    """One event for one webhook: queued in the transaction of the change, sent by the sender.

    The payload is built when sent, as the webhook's account sees the ticket then; the row keeps
    only what the event is about. `message_id` is the `webhook-id` header, the same on every try.
    """

    id = fields.IntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook_id: int
    event = fields.CharEnumField(WebhookEvent, max_length=32)
    message_id = fields.CharField(max_length=64, unique=True)
    # What the event is about (plain ids: the payload looks them up, through the account's scope).
    ticket_id = fields.IntField(null=True)
    comment_id = fields.IntField(null=True)
    attachment_id = fields.IntField(null=True)
    submission_id = fields.IntField(null=True)
    detail = fields.CharField(max_length=200, null=True)  # e.g. a removed attachment's filename
    occurred_at = fields.DatetimeField()
    status = fields.CharEnumField(WebhookDeliveryStatus, max_length=16, default=WebhookDeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claim_token = fields.CharField(max_length=36, null=True)
    http_status = fields.IntField(null=True)
    duration_ms = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("webhook_id", "created_at"))
