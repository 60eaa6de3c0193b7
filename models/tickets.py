"""Tickets and what belongs to them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TicketType(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    # Absence requests (vacation, sick leave) are HR matters: never shown to
    # customers, never in documents, evaluations or forms.
    is_absence_request = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_type"
