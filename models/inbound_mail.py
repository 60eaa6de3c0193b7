"""Mail received by the email channel (issue 27): each message's claim and outcome, and the per-sender count."""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class InboundOutcome(str, Enum):
    """What became of a received message; the label of `sitedesk_inbound_mail_total{outcome}`."""

    ACCEPTED = "accepted"  # a comment or a ticket was stored
    DUPLICATE = "duplicate"  # its Message-ID was handled before
    BOUNCE = "bounce"  # a delivery status notification: the failed address is marked as bouncing
    REFUSED_SENDER = "refused_sender"
    REFUSED_TOKEN = "refused_token"
    REFUSED_SCOPE = "refused_scope"
    REFUSED_AUTO = "refused_auto"
    REFUSED_LOOP = "refused_loop"
    REFUSED_RATE = "refused_rate"
    REFUSED_SIZE = "refused_size"
    REFUSED_EMPTY = "refused_empty"  # nothing left after the quote and signature were removed


class InboundMail(Model):
    """One received message, claimed by its Message-ID in the transaction that stores what it causes.

    The unique `message_key` is the claim: with several processes only one inserts it, and a
    retried delivery of a message stored before finds it (`duplicate`).
    """

    id = fields.IntField(primary_key=True)
    # SHA-256 (hex) of the Message-ID as written between the angle brackets (or of the raw bytes
    # when a message has none).
    message_key = fields.CharField(max_length=64, unique=True)
    message_id = fields.CharField(max_length=255)
    outcome = fields.CharEnumField(InboundOutcome, max_length=16)
    sender = fields.CharField(max_length=254)
    recipient = fields.CharField(max_length=254)
    # What it became (no foreign keys: the record outlives a removed ticket or comment).
    ticket_id = fields.IntField(null=True)
    comment_id = fields.IntField(null=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "inbound_mail"
        indexes = (("received_at",),)


class InboundSenderHour(Model):
    """Messages from one sender address in one clock hour, bumped by an atomic upsert (all processes)."""

    id = fields.IntField(primary_key=True)
    sender = fields.CharField(max_length=254)
    hour = fields.BigIntField()  # Unix seconds // 3600
    count = fields.IntField(default=0)

    class Meta:
        table = "inbound_sender_hour"
        unique_together = (("sender", "hour"),)
