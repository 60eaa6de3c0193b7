"""Tickets and ticket types."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models.tickets import TicketType
from permissions.viewer import Viewer
from resolvers.accounts import check_name
from resolvers.errors import BadUserInput


async def create_ticket_type(name: str, is_absence_request: bool) -> TicketType:
    name = check_name(name, max_length=100)
    if await TicketType.filter(name=name).exists():
        raise BadUserInput("A ticket type with this name exists already.", field="name")
    try:
        return await TicketType.create(name=name, is_absence_request=is_absence_request)
    except IntegrityError:
        raise BadUserInput("A ticket type with this name exists already.", field="name") from None


async def visible_ticket_types(viewer: Viewer) -> list[TicketType]:
    """Employees see every type; customer users only the types enabled for their customer."""
    query = TicketType.all().order_by("name")
    if viewer.is_customer_user:
        query = query.filter(customer_links__customer_id=viewer.customer_id, is_absence_request=False)
    return await query
