"""Customers: the client companies whose staff use the portal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import CustomerUser, Employee


class Customer(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Ticket evaluation in the portal: on/off, and the width of its groups in days (1–365).
    ticket_evaluation_enabled = fields.BooleanField(default=False)
    ticket_evaluation_group_size_days = fields.IntField(default=7)
    # The type of tickets its users open by mail to an object's intake address (issue 27); null: none.
    mail_ticket_type: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.TicketType", related_name="mail_customers", null=True, on_delete=fields.SET_NULL
    )
    mail_ticket_type_id: int | None

    class Meta:
        table = "customer"


class CustomerTicketType(Model):
    """A ticket type enabled for a customer's portal users."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="ticket_type_links", on_delete=fields.CASCADE
    )
    customer_id: int
    # Typed as a plain Model: models.tickets imports this module (Ticket.object), and the layer
    # test forbids the import cycle even under TYPE_CHECKING.
    ticket_type: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.TicketType", related_name="customer_links", on_delete=fields.CASCADE
    )
    ticket_type_id: int

    class Meta:
        table = "customer_ticket_type"
        unique_together = (("customer", "ticket_type"),)


class SiteObject(Model):
    """A site the company serves (Objekt): a building, a floor, a school."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="objects", on_delete=fields.RESTRICT
    )
    customer_id: int
    name = fields.CharField(max_length=200)
    address = fields.CharField(max_length=500, default="")
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The secret local part of the object's intake address "<key>@SITEDESK_INBOUND_DOMAIN" (issue 27),
    # made on first use and replaced by `rotateObjectIntakeAddress`.
    intake_key = fields.CharField(max_length=40, null=True, unique=True)

    class Meta:
        table = "site_object"
        indexes = (("customer_id", "name"),)


class CustomerUserObject(Model):
    """An object assigned to a customer user: the user's window into the portal."""

    id = fields.IntField(primary_key=True)
    customer_user: fields.ForeignKeyRelation[CustomerUser] = fields.ForeignKeyField(
        "models.CustomerUser", related_name="object_links", on_delete=fields.CASCADE
    )
    customer_user_id: int
    object: fields.ForeignKeyRelation[SiteObject] = fields.ForeignKeyField(
        "models.SiteObject", related_name="user_links", on_delete=fields.CASCADE
    )
    object_id: int

    class Meta:
        table = "customer_user_object"
        unique_together = (("customer_user", "object"),)


class ObjectResponsible(Model):
    """An employee responsible for an object: hears of unassigned tickets created on it (README)."""

    id = fields.IntField(primary_key=True)
    object: fields.ForeignKeyRelation[SiteObject] = fields.ForeignKeyField(
        "models.SiteObject", related_name="responsible_links", on_delete=fields.CASCADE
    )
    object_id: int
    employee: fields.ForeignKeyRelation[Employee] = fields.ForeignKeyField(
        "models.Employee", related_name="responsible_for_links", on_delete=fields.CASCADE
    )
    employee_id: int

    class Meta:
        table = "object_responsible"
        unique_together = (("object", "employee"),)
