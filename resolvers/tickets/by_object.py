"""Tickets of many objects at once (`SiteObject.tickets` for a page of objects).

Each object's page is `read.ticket_page`'s (the same scope, filters and
order). On PostgreSQL every object's first page and count come from one
statement, each an index range (`core.queries.prepared_pages_per_key`);
otherwise one windowed statement serves them all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.keyset import Listing, Window
from core.queries import Sentinels, list_inputs, prepared_pages_per_key, prepared_windowed_values, windowed_values
from models.tickets import Ticket, TicketStatus
from permissions.viewer import Viewer
from resolvers.search import RELEVANCE, prepare
from resolvers.tickets.read import (
    ID_CRITERIA,
    built_each_time,
    filtered_tickets,
    in_page_order,
    nulls_first,
    page_values,
    ticket_listing,
    ticket_page,
)


async def tickets_by_object(
    viewer: Viewer,
    object_ids: list[int],
    *,
    window: Window,
    order_by: str = "CREATED_AT",
    descending: bool = True,
    values: tuple[str, ...],
    **criteria: Any,
) -> dict[int, tuple[list[dict[str, Any]], int]]:
    """`ticket_page` for each of `object_ids` (distinct) at once: one windowed statement for all of them.

    (ROW_NUMBER() OVER (PARTITION BY object_id ...)); behind a cursor, whose
    bound narrows the window, a second statement counts each object's tickets.
    A single object's page is `ticket_page`'s, which walks the ordering index.
    """
    criteria.pop("object_id", None)
    if order_by == "RELEVANCE":
        descending = True
    if len(object_ids) == 1:
        rows, total = await ticket_page(
            viewer,
            window=window,
            order_by=order_by,
            descending=descending,
            values=values,
            object_id=object_ids[0],
            **criteria,
        )
        return {object_ids[0]: (rows, total or 0)}
    listing = ticket_listing(order_by, descending)
    reading = listing.reading(window)
    values = page_values((*values, "object_id"), order_by, descending)  # the window partitions by the object
    totals: dict[int, int] | None = None
    if built_each_time(window, criteria):
        criteria["search_ids"] = await prepare(criteria.get("search"), viewer)
        scope = filtered_tickets(viewer, order_by=order_by, descending=reading, listing=listing, **criteria)
        scope = scope.filter(object_id__in=object_ids)
        condition = listing.bounds(window)
        page = scope.filter(condition) if condition is not None else scope
        rows = await windowed_values(
            page.order_by().values(*values, *((RELEVANCE,) if order_by == "RELEVANCE" else ())),
            "object_id",
            listing.window_order(window),
            window.limit + 1,
        )
        if window.bounded:  # the cursor's bound narrows the window: count each object's tickets apart
            counted = scope.order_by().group_by("object_id").annotate(n=Count("id")).values("object_id", "n")
            totals = {row["object_id"]: row["n"] for row in await counted}
    else:
        # First pages without text or dates: the SQL is compiled once per shape, as `ticket_page`'s.
        status = criteria.get("status")
        given = {name: criteria[name] for name in ID_CRITERIA if criteria.get(name) is not None}
        found = await _pages_per_object(viewer, object_ids, window, order_by, listing, status, given, values)
        if found is not None:
            return found

        def build(s: Sentinels) -> Any:
            of = viewer.with_sentinels(s)
            narrowed: dict[str, Any] = {name: s.int(name) for name in given}
            scope = filtered_tickets(
                of, order_by=order_by, descending=reading, listing=listing, status=status, **narrowed
            )
            return scope.filter(object_id__in=s.ints("objects", len(object_ids))).order_by().values(*values)

        rows = await prepared_windowed_values(
            (
                "tickets_by_object",
                viewer.query_shape(),
                order_by,
                reading,
                status,
                tuple(given),
                values,
                len(object_ids),
            ),
            build,
            {**viewer.query_inputs(), **given, **list_inputs("objects", object_ids)},
            "object_id",
            listing.window_order(window),
            window.limit + 1,
        )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["object_id"]].append(row)
    if totals is None:
        totals = {pk: found[0]["window_total"] for pk, found in grouped.items()}
    return {pk: (grouped.get(pk, []), totals.get(pk, 0)) for pk in object_ids}


async def _pages_per_object(
    viewer: Viewer,
    object_ids: list[int],
    window: Window,
    order_by: str,
    listing: Listing,
    status: TicketStatus | None,
    given: dict[str, int],
    values: tuple[str, ...],
) -> dict[int, tuple[list[dict[str, Any]], int]] | None:
    """Each object's first page as `ticket_page` reads one (its index range, its count), all in one
    statement (`core.queries.prepared_pages_per_key`); None where that is not possible (SQLite)."""
    reading = listing.reading(window)

    def scope(s: Sentinels) -> QuerySet[Ticket]:
        narrowed: dict[str, Any] = {name: s.int(name) for name in given}
        of = viewer.with_sentinels(s)
        query = filtered_tickets(of, order_by=order_by, descending=reading, listing=listing, status=status, **narrowed)
        return query.filter(object_id=s.int("object"))

    rows = await prepared_pages_per_key(
        ("object_pages", viewer.query_shape(), order_by, reading, status, tuple(given), values),
        # COUNT of the object column (never NULL here): PostgreSQL counts from the (object_id, …) index alone.
        lambda s: scope(s).order_by().annotate(n=Count("object_id")).values("n"),
        lambda s: scope(s).limit(s.int("limit")).values(*values),
        {**viewer.query_inputs(), **given, "limit": window.limit + 1},
        "object",
        object_ids,
    )
    if rows is None:
        return None
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["id"] is not None:  # an object without tickets in scope: its count alone
            grouped[row["object_id"]].append(row)
    pages = {}
    for pk in object_ids:
        found = in_page_order(grouped.get(pk, []), order_by, reading, nulls_first(), listing.column)
        # No row: the object has no ticket in scope (a first page is empty only then).
        pages[pk] = (found, found[0]["total_count"] if found else 0)
    return pages
