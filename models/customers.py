"""Customers: the client companies whose staff use the portal."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer"


class CustomerTicketType(Model):
    """A ticket type enabled for a customer's portal users."""

    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="ticket_type_links",
                                      on_delete=fields.CASCADE)
    ticket_type = fields.ForeignKeyField("models.TicketType", related_name="customer_links",
                                         on_delete=fields.CASCADE)

    class Meta:
        table = "customer_ticket_type"
        unique_together = (("customer", "ticket_type"),)
