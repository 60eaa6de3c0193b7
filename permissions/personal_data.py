"""Whose records go into a person's data export (resolvers/personal_data/export.py).

An employee's export holds what they created or wrote anywhere. A customer user's export is
bounded by their customer: records on another customer's objects never enter it (a user moved
between customers, or a ticket moved to another customer's object, leaves them behind), nor do
absence requests or internal comments, which customer users never see.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.personal_data import PersonExport
from permissions.tickets import absence_type_ids
from permissions.viewer import Viewer


def export_ticket_scope(customer_id: int | None) -> Q:
    """The tickets (as a filter on Ticket) a person of this customer (None: an employee) may get."""
    if customer_id is None:
        return Q()
    return Q(object__customer_id=customer_id) & ~Q(ticket_type_id__in=absence_type_ids())


def export_related_scope(customer_id: int | None, prefix: str = "ticket__") -> Q:
    """The same bound, for rows that belong to a ticket (comments, attachments) at `prefix`."""
    if customer_id is None:
        return Q()
    same_customer: dict[str, Any] = {f"{prefix}object__customer_id": customer_id}
    absence: dict[str, Any] = {f"{prefix}ticket_type_id__in": absence_type_ids()}
    return Q(**same_customer) & ~Q(**absence)


def export_submission_scope(customer_id: int | None) -> Q:
    """Form submissions: on an object of the customer, or on no object (public forms)."""
    if customer_id is None:
        return Q()
    return Q(object__customer_id=customer_id) | Q(object_id=None)


def visible_exports(viewer: Viewer) -> QuerySet[PersonExport]:
    """Exports hold everything about a person: system administrators only."""
    if viewer.is_system_admin:
        return PersonExport.all()
    return PersonExport.filter(id__in=[])
