"""Documents per object: which attachments of which ticket types a customer publishes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.customers import Customer
    from models.tickets import TicketType


class DocumentRule(Model):
    """Attachments of one ticket type that a customer's users see as documents on their objects."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="document_rules", on_delete=fields.CASCADE
    )
    customer_id: int
    ticket_type: fields.ForeignKeyRelation[TicketType] = fields.ForeignKeyField(
        "models.TicketType", related_name="document_rules", on_delete=fields.CASCADE
    )
    ticket_type_id: int
    # Lower-case content types such as "application/pdf" or "image/*"; empty means every attachment.
    content_types: fields.JSONField[list[str]] = fields.JSONField(default=list)

    class Meta:
        table = "document_rule"
        unique_together = (("customer", "ticket_type"),)
