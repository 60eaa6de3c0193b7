"""Service levels (issue 26): priorities, business calendars, policies and the terms tickets keep."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.customers import Customer


class TicketPriority(str, Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


class BusinessCalendar(Model):
    """Working hours in a time zone, with holidays: what business minutes are counted in."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    time_zone = fields.CharField(max_length=64)
    # [{"weekday": 1..7, "start": "HH:MM", "end": "HH:MM"}], sorted; several per day allowed.
    hours: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    # ["YYYY-MM-DD", …], sorted and distinct.
    holidays: fields.JSONField[list[str]] = fields.JSONField()
    # A region of the `holidays` package whose public holidays count too ("DE-NW").
    holiday_region = fields.CharField(max_length=20, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "business_calendar"


class ServiceLevelTerms(Model):
    """A policy with its calendar as they were at one moment: what a ticket created then keeps.

    Written whenever a policy is saved or its calendar changed; never changed or deleted
    afterwards, so a ticket's due times do not move when the configuration does.
    """

    id = fields.IntField(primary_key=True)
    policy_id = fields.IntField(null=True)  # no foreign key: the terms outlive a deleted policy
    policy_name = fields.CharField(max_length=100)
    # {"time_zone", "hours", "holidays", "holiday_region"} as in BusinessCalendar.
    calendar: fields.JSONField[dict[str, Any]] = fields.JSONField()
    # [{"priority", "first_response_minutes", "resolution_minutes"}]
    targets: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    warn_at_percent = fields.SmallIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "service_level_terms"


class ServiceLevelPolicy(Model):
    """Targets per priority for a customer (or any) and some ticket types (or any)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    calendar: fields.ForeignKeyRelation[BusinessCalendar] = fields.ForeignKeyField(
        "models.BusinessCalendar", related_name="policies", on_delete=fields.RESTRICT
    )
    calendar_id: int
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="service_level_policies", null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    # Ticket type ids, sorted; empty: every type.
    ticket_type_ids: fields.JSONField[list[int]] = fields.JSONField()
    # [{"priority", "first_response_minutes", "resolution_minutes"}] in priority order.
    targets: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    warn_at_percent = fields.SmallIntField()
    # The terms new tickets get (the newest snapshot of this policy and its calendar).
    terms: fields.ForeignKeyRelation[ServiceLevelTerms] = fields.ForeignKeyField(
        "models.ServiceLevelTerms", related_name="current_of", on_delete=fields.RESTRICT
    )
    terms_id: int
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "service_level_policy"
        indexes = (("customer_id",),)
