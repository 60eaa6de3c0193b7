"""The mail outbox: every notification, written with the change that caused it."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Account
    from models.tickets import Ticket


class NotificationKind(str, Enum):
    TICKET_CREATED = "TICKET_CREATED"
    ASSIGNED = "ASSIGNED"
    COMMENT_ADDED = "COMMENT_ADDED"
    STATUS_CHANGED = "STATUS_CHANGED"
    WEBHOOK_DISABLED = "WEBHOOK_DISABLED"  # to the admin who created it; no ticket
    REOPENED = "REOPENED"
    RATED_LOW = "RATED_LOW"
    MAIL_TOO_LARGE = "MAIL_TOO_LARGE"  # to a reply's sender: the reply was too large and not stored


class Audience(str, Enum):
    EMPLOYEE = "EMPLOYEE"
    CUSTOMER_USER = "CUSTOMER_USER"


class DeliveryStatus(str, Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class OutboxMail(Model):
    """One mail to one recipient, delivered by the background sender.

    `context` holds what the mail says, chosen for its audience when queued
    and rendered when sent. A sender claims a row by setting `claim_token`
    and pushing `next_attempt_at` forward (a lease), so a sender that dies
    mid-send leaves it due again later.
    """

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    ticket_id: int | None
    recipient: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    recipient_id: int | None
    audience = fields.CharEnumField(Audience, max_length=16)
    kind = fields.CharEnumField(NotificationKind, max_length=24)
    # Snapshots taken when queued: the mail says what was true at that moment.
    to_address = fields.CharField(max_length=254)
    to_name = fields.CharField(max_length=200)
    locale = fields.CharField(max_length=5)
    subject = fields.CharField(max_length=300)
    context: fields.JSONField[dict[str, Any]] = fields.JSONField()
    # The stable part of the Message-ID: a retried mail keeps its id.
    mail_key = fields.CharField(max_length=36, unique=True)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claim_token = fields.CharField(max_length=36, null=True)
    last_error = fields.TextField(null=True)
    note = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_mail"
        indexes = (("status", "next_attempt_at"), ("ticket_id", "created_at"))
