"""Ticket types: creating them, and the ones a viewer may see."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from core.errors import BadUserInput
from models.tickets import TicketType
from permissions.tickets import visible_ticket_types
from permissions.viewer import Viewer
from resolvers.accounts import check_name


async def create_ticket_type(name: str, is_absence_request: bool) -> TicketType:
    name = check_name(name, max_length=100)
    if await TicketType.filter(name=name).exists():
        raise BadUserInput("A ticket type with this name exists already.", field="name")
    try:
        return await TicketType.create(name=name, is_absence_request=is_absence_request)
    except IntegrityError:
        raise BadUserInput("A ticket type with this name exists already.", field="name") from None


async def ticket_types(viewer: Viewer) -> list[TicketType]:
    """The types the viewer may see, by name."""
    return await visible_ticket_types(viewer).order_by("name")


async def find_ticket_type(viewer: Viewer, pk: int) -> TicketType | None:
    return await visible_ticket_types(viewer).filter(id=pk).first()
