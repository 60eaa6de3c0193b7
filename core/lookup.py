"""Fetching one row through a viewer's scope: outside the scope a row does not exist."""

from __future__ import annotations

from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from core.errors import NotFound

RowT = TypeVar("RowT", bound=Model)


async def get_in_scope(scope: QuerySet[RowT], pk: int, what: str, field: str | None = "id") -> RowT:
    """Row `pk` of `scope` (e.g. `visible_tickets(viewer)`), or `NOT_FOUND` at `field`."""
    row = await scope.filter(id=pk).first()
    if row is None:
        raise NotFound(f"No {what} with this ID.", **({"field": field} if field else {}))
    return row
