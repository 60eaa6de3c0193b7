"""Reading tickets: filtered pages, single tickets, and the comments, attachments and history of a batch.

The hot paths return plain dicts (of the ticket columns the caller names,
`COMMENT_VALUES`, `ATTACHMENT_VALUES`) from values queries compiled once per shape
(`core.queries.prepared_values`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import ConfigurationError, FieldError
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.database import dialect
from core.dates import plausible_instant
from core.errors import BadUserInput
from core.keyset import Listing, Window
from core.lookup import get_in_scope
from core.partitioned import Partitions, newest_per_partition
from core.queries import (
    Sentinels,
    list_inputs,
    prepared_values,
    prepared_windowed_values,
    windowed_values,
)
from core.search import parse
from models.tickets import Attachment, Comment, Ticket, TicketEvent, TicketStatus
from permissions.tickets import ticket_partitions, visible_attachments, visible_comments, visible_tickets
from permissions.viewer import Viewer
from resolvers.people import person_values
from resolvers.search import (
    RELEVANCE,
    RELEVANCE_LISTING,
    matching,
    prepare,
    relevance,
    relevance_walk,
    walks_tiers,
)

ORDER_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "DUE_DATE": "due_date", "NUMBER": "number"}
NULLABLE_ORDER_FIELDS = ("due_date",)

# Each ordering of tickets (`TicketOrder`, either direction) is a listing of its own: a cursor is bound to one.
TICKET_LISTINGS = {
    (order_by, descending): Listing(
        f"tickets:{order_by}:{'desc' if descending else 'asc'}",
        column,
        descending,
        nullable=column in NULLABLE_ORDER_FIELDS,
    )
    for order_by, column in ORDER_FIELDS.items()
    for descending in (True, False)
}
# RESOLUTION_DUE (issue 26) sorts by a column per direction, each holding the resolution due time or,
# for a ticket without one, a value that puts it last in that direction (never NULL, each indexed).
TICKET_LISTINGS.update(
    {
        ("RESOLUTION_DUE", descending): Listing(
            f"tickets:RESOLUTION_DUE:{'desc' if descending else 'asc'}",
            "sla_due_descending" if descending else "sla_due_ascending",
            descending,
        )
        for descending in (True, False)
    }
)
# The (`TicketOrder` value, descending) of each ticket listing.
TICKET_ORDER_OF = {listing: order for order, listing in TICKET_LISTINGS.items()}
# RELEVANCE has one direction (best first): its tier (`resolvers.search`), then newest first.
ORDER_FIELDS["RELEVANCE"] = "created_at"
TICKET_LISTINGS[("RELEVANCE", True)] = TICKET_LISTINGS[("RELEVANCE", False)] = RELEVANCE_LISTING
TICKET_ORDER_OF[RELEVANCE_LISTING] = ("RELEVANCE", True)
COMMENTS = Listing("comments", "created_at", descending=False)


def ticket_listing(order_by: str, descending: bool) -> Listing:
    """The listing of tickets ordered by `order_by` (a `TicketOrder` value), descending or not."""
    return TICKET_LISTINGS[(order_by, descending)]


# A ticket is read with its to-one relations for read-only lists and lookups:
# one joined query, plain dicts instead of model instances. Which columns (values
# paths) is the caller's to say: the GraphQL type declares what each of its
# fields reads (`schema.tickets.types.TICKET_ROW`).


@functools.cache
def check_ticket_values(values: tuple[str, ...]) -> tuple[str, ...]:
    """`values` if each is a column of the ticket or of a to-one relation (ValueError otherwise)."""
    try:
        Ticket.filter(id=0).values(*values).sql()
    except (FieldError, ConfigurationError, KeyError) as error:
        raise ValueError(f"not ticket values: {sorted(values)} ({error})") from None
    return values


# A comment with its author, for read-only lists.
COMMENT_VALUES = (
    "id",
    "ticket_id",
    "author_id",
    "body",
    "internal",
    "source",
    "created_at",
    "edited_at",
) + person_values("author__")

ATTACHMENT_VALUES = (
    "id",
    "ticket_id",
    "uploaded_by_id",
    "filename",
    "content_type",
    "size",
    "sha256",
    "storage_key",
    "created_at",
)


# ---------------------------------------------------------------- single rows


async def get_ticket(viewer: Viewer, pk: int, field: str = "id") -> Ticket:
    return await get_in_scope(visible_tickets(viewer), pk, "ticket", field)


async def get_comment(viewer: Viewer, pk: int, field: str = "id") -> Comment:
    return await get_in_scope(visible_comments(viewer), pk, "comment", field)


async def get_attachment(viewer: Viewer, pk: int, field: str = "id") -> Attachment:
    return await get_in_scope(visible_attachments(viewer), pk, "attachment", field)


async def find_comment(viewer: Viewer, pk: int) -> Comment | None:
    return await visible_comments(viewer).filter(id=pk).first()


async def find_attachment(viewer: Viewer, pk: int) -> Attachment | None:
    return await visible_attachments(viewer).filter(id=pk).first()


async def find_ticket(viewer: Viewer, ticket_id: int, values: tuple[str, ...]) -> dict[str, Any] | None:
    """One visible ticket as a dict of `values` (its to-one relations' too), None outside the scope."""
    check_ticket_values(values)
    rows = await prepared_values(
        ("ticket", viewer.query_shape(), values),
        lambda s: visible_tickets(viewer.with_sentinels(s)).filter(id=s.int("id")).limit(1).values(*values),
        {**viewer.query_inputs(), "id": ticket_id},
    )
    return rows[0] if rows else None


# ---------------------------------------------------------------- pages


def filtered_tickets(
    viewer: Viewer,
    *,
    order_by: str = "CREATED_AT",
    descending: bool = True,
    object_id: int | None = None,
    status: TicketStatus | None = None,
    ticket_type_id: int | None = None,
    assignee_id: int | None = None,
    search: str | None = None,
    search_ids: list[int] | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_after: datetime | None = None,
    service_level_breached: bool | None = None,
    listing: Listing | None = None,
) -> QuerySet[Ticket]:
    """The viewer's tickets narrowed by the criteria given (`TicketFilterInput`), in a stable order.

    `listing`: the ordering's own (a backward page reads it in reverse: RESOLUTION_DUE's column
    depends on the ordering's direction, not on the reading's). RELEVANCE needs a search (else
    BAD_USER_INPUT on "orderBy"); its rows carry their tier as `relevance`. `search_ids`: what
    `resolvers.search.prepare` found.
    """
    parsed = parse(search) if search is not None else None
    if order_by == "RELEVANCE" and parsed is None:
        raise BadUserInput("RELEVANCE orders the results of a search: give `filter.search`.", field="orderBy")
    query = visible_tickets(viewer)
    if object_id is not None:
        query = query.filter(object_id=object_id)
    if status is not None:
        query = query.filter(status=status)
    if ticket_type_id is not None:
        query = query.filter(ticket_type_id=ticket_type_id)
    if assignee_id is not None:
        query = query.filter(assignee_id=assignee_id)
    if parsed is not None:
        query = query.filter(matching(parsed, viewer, search_ids))
    if created_after is not None:
        query = query.filter(created_at__gte=plausible_instant(created_after, "filter.createdAfter"))
    if created_before is not None:
        query = query.filter(created_at__lt=plausible_instant(created_before, "filter.createdBefore"))
    if updated_after is not None:
        query = query.filter(updated_at__gt=plausible_instant(updated_after, "filter.updatedAfter"))
    if service_level_breached is not None:
        query = query.filter(service_level_condition(service_level_breached, datetime.now(UTC)))
    if order_by == "RELEVANCE" and parsed is not None:
        query = query.annotate(**{RELEVANCE: relevance(parsed, viewer)})
    return query.order_by(*(listing or ticket_listing(order_by, descending)).order_by(descending))


def service_level_condition(breached: bool, now: datetime) -> Q:
    """Tickets with targets of which one was missed (or is overdue now); `breached` false: none was."""
    missed = (
        Q(sla_first_response_breached=True)
        | Q(sla_resolution_breached=True)
        | Q(sla_first_responded_at__isnull=True, sla_first_response_due_at__lte=now)
        | Q(sla_resolved_at__isnull=True, sla_paused_since__isnull=True, sla_resolution_due_at__lte=now)
    )
    has_targets = Q(sla_first_response_due_at__isnull=False)
    return has_targets & missed if breached else has_targets & ~missed


# The orders with an (object_id, ticket_type_id, column, id) index: a customer user's page in one
# of them is read (object, type) by (object, type) on PostgreSQL (`core.partitioned`), whatever
# share of the tickets the scope holds.
PARTITIONED_COLUMNS = ("created_at",)


def _partitions(viewer: Viewer, listing: Listing) -> Partitions | None:
    if listing is RELEVANCE_LISTING or listing.column not in PARTITIONED_COLUMNS or dialect() != "postgres":
        return None
    return ticket_partitions(viewer)


def _page_values(
    query: QuerySet[Ticket],
    page: QuerySet[Ticket],
    values: tuple[str, ...],
    viewer: Viewer,
    search: str | None,
    counted: bool = True,
    partitions: Partitions | None = None,
) -> Any:
    # The page's ids are picked first, walking the ordering index through the
    # scope; only those rows are joined to their relations (the ones `values`
    # names), and the outer query neither repeats the scope nor sorts
    # (`in_page_order` does, for the page alone). The total count rides along
    # as a scalar subquery, when it is asked for (`counted`): counting a common
    # word's matches costs more than finding the page.
    # A RELEVANCE page reads each row's tier as well (for its order and cursors).
    # `partitions`: the page's ids are picked object by object (`core.partitioned`).
    if partitions is not None:
        outer = Ticket.filter(newest_per_partition(page, partitions))
    else:
        outer = Ticket.filter(id__in=Subquery(page.values("id")))
    total = ("total_count",) if counted else ()
    if counted:
        outer = outer.annotate(total_count=Subquery(query.count()))
    parsed = parse(search) if search is not None else None
    if RELEVANCE in page._annotations and parsed is not None:
        return outer.annotate(**{RELEVANCE: relevance(parsed, viewer)}).values(*values, *total, RELEVANCE)
    return outer.values(*values, *total)


def page_values(values: tuple[str, ...], order_by: str, descending: bool = True) -> tuple[str, ...]:
    """`values` with what a page always needs: the id first, and the order column (ValueError on strangers).

    In the order given (the caller's canonical one), so one selection is one compiled query shape.
    """
    column = ticket_listing(order_by, descending).column
    return check_ticket_values(tuple(dict.fromkeys(("id", *values, column))))


def in_page_order(
    rows: list[dict[str, Any]], order_by: str, descending: bool, nulls_first: bool, column: str | None = None
) -> list[dict[str, Any]]:
    """`rows` in the order `filtered_tickets` sorts them: by the order column, then id.

    `nulls_first` is how the database sorts NULL ascending (SQLite: first,
    PostgreSQL: last); only `dueDate` can be NULL. `column`: the listing's (RESOLUTION_DUE has one per direction).
    """
    column = column or ORDER_FIELDS[order_by]

    def key(row: dict[str, Any]) -> tuple[int, Any, int]:
        value = row[column]
        if value is None:
            return (0 if nulls_first else 1, 0, row["id"])
        if order_by == "RELEVANCE":
            return (row[RELEVANCE], value, row["id"])
        return (1 if nulls_first else 0, value, row["id"])

    return sorted(rows, key=key, reverse=descending)


def nulls_first() -> bool:
    return dialect() == "sqlite"


# Criteria that are ids: the compiled query binds them as parameters.
ID_CRITERIA = ("object_id", "ticket_type_id", "assignee_id")
# Criteria built into the query each time (text and dates are no sentinels).
_BUILT_CRITERIA = ("search", "created_after", "created_before", "updated_after", "service_level_breached")


def built_each_time(window: Window, criteria: dict[str, Any]) -> bool:
    if window.bounded or (criteria.get("search") or "").strip():
        return True
    return any(criteria.get(name) is not None for name in _BUILT_CRITERIA if name != "search")


async def ticket_page(
    viewer: Viewer,
    *,
    window: Window,
    order_by: str = "CREATED_AT",
    descending: bool = True,
    values: tuple[str, ...],
    counted: bool = True,
    **criteria: Any,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of `filtered_tickets(viewer, **criteria)` as dicts of `values`, and the total count
    (None when not `counted`: the caller does not show it).

    `values` names the columns the caller reads (the id and the order
    column always come along): only their columns are read and only their
    relations joined.

    The rows are those of `window` (`core.keyset`), in reading order (reversed
    for `last`), one more than `window.limit` when the page is not the last.
    One query whatever the page size (only an empty page past a cursor needs
    a second to learn the total); a first page's SQL is compiled once per
    shape, a page after a cursor and text search and date bounds are built
    each time.
    """
    if order_by == "RELEVANCE":
        descending = True  # best match first, whatever `descending` says
    if built_each_time(window, criteria):
        criteria["search_ids"] = await prepare(criteria.get("search"), viewer)
    listing = ticket_listing(order_by, descending)
    reading = listing.reading(window)
    values = page_values(values, order_by, descending)

    def query(of: Viewer, **narrowed: Any) -> QuerySet[Ticket]:
        return filtered_tickets(of, order_by=order_by, descending=reading, listing=listing, **narrowed)

    parsed = parse(criteria["search"]) if criteria.get("search") is not None else None
    if order_by == "RELEVANCE" and parsed is not None and walks_tiers(window, criteria.get("search_ids")):
        rows = await relevance_walk(lambda: filtered_tickets(viewer, **criteria), parsed, viewer, window, values)
        total = await filtered_tickets(viewer, **criteria).count() if counted else None
        return in_page_order(rows, order_by, reading, nulls_first(), listing.column), total
    if built_each_time(window, criteria):
        scope = query(viewer, **criteria)
        condition = listing.bounds(window)
        page = scope.filter(condition) if condition is not None else scope
        rows = await _page_values(
            scope,
            page.limit(window.limit + 1),
            values,
            viewer,
            criteria.get("search"),
            counted,
            _partitions(viewer, listing),
        )
    else:
        status = criteria.get("status")
        given = {name: criteria[name] for name in ID_CRITERIA if criteria.get(name) is not None}

        def build(s: Sentinels) -> Any:
            of = viewer.with_sentinels(s)
            narrowed = query(of, status=status, **{name: s.int(name) for name in given})
            limited = narrowed.limit(s.int("limit"))
            return _page_values(narrowed, limited, values, viewer, None, counted, _partitions(of, listing))

        key = ("ticket_page", viewer.query_shape(), order_by, reading, status, tuple(given), values, counted)
        rows = await prepared_values(key, build, {**viewer.query_inputs(), **given, "limit": window.limit + 1})
    total = rows[0]["total_count"] if rows and counted else None
    if rows:
        return in_page_order(rows, order_by, reading, nulls_first(), listing.column), total
    if not counted:
        return rows, None
    return rows, (await query(viewer, **criteria).count() if window.bounded else 0)


# ---------------------------------------------------------------- batches (for the per-request loaders)


async def find_tickets(viewer: Viewer, ids: list[int]) -> dict[int, Ticket]:
    """The visible ones among tickets `ids`, by id."""
    return {row.id: row for row in await visible_tickets(viewer).filter(id__in=set(ids))}


def _comments_of(viewer: Viewer, ticket_ids: list[int]) -> QuerySet[Comment]:
    return visible_comments(viewer, ticket_ids).order_by(*COMMENTS.order_by(False))


def _attachments_of(viewer: Viewer, ticket_ids: list[int]) -> QuerySet[Attachment]:
    return visible_attachments(viewer, ticket_ids).order_by("created_at", "id")


async def _values_by_ticket(
    name: str,
    query_for: Callable[[Viewer, list[int]], QuerySet[Any]],
    fields: tuple[str, ...],
    viewer: Viewer,
    ticket_ids: list[int],
) -> dict[int, list[dict[str, Any]]]:
    """Rows (dicts) of `query_for(viewer, ticket_ids)` grouped by ticket, the SQL compiled once per shape."""
    rows = await prepared_values(
        (name, viewer.query_shape(), len(ticket_ids)),
        lambda s: query_for(viewer.with_sentinels(s), s.ints("ids", len(ticket_ids))).values(*fields),
        {**viewer.query_inputs(), **list_inputs("ids", ticket_ids)},
    )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["ticket_id"]].append(row)
    return grouped


async def comment_pages(
    viewer: Viewer, ticket_ids: list[int], window: Window
) -> dict[int, tuple[list[dict[str, Any]], int]]:
    """A page (`window`, oldest first: `COMMENTS`) of the visible comments on each of `ticket_ids`, and their count.

    One windowed statement (ROW_NUMBER() OVER (PARTITION BY ticket_id ...))
    for all tickets; behind a cursor a second one counts each ticket's comments.
    Rows are in reading order, one more than the page when another follows.
    """
    order = COMMENTS.window_order(window)
    condition = COMMENTS.bounds(window)
    if condition is not None:
        page = visible_comments(viewer, ticket_ids).filter(condition)
        rows = await windowed_values(page.values(*COMMENT_VALUES), "ticket_id", order, window.limit + 1)
    else:
        # A first (or last) page: its SQL is compiled once per shape (a cursor's key is no sentinel).
        rows = await prepared_windowed_values(
            ("comment_pages", viewer.query_shape(), len(ticket_ids)),
            lambda s: visible_comments(viewer.with_sentinels(s), s.ints("ids", len(ticket_ids))).values(
                *COMMENT_VALUES
            ),
            {**viewer.query_inputs(), **list_inputs("ids", ticket_ids)},
            "ticket_id",
            order,
            window.limit + 1,
        )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["ticket_id"]].append(row)
    if window.bounded:
        totals = await comment_counts(viewer, ticket_ids)
    else:
        totals = {pk: found[0]["window_total"] for pk, found in grouped.items()}
    return {pk: (grouped.get(pk, []), totals.get(pk, 0)) for pk in ticket_ids}


async def attachments_by_ticket(viewer: Viewer, ticket_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments of each visible one of `ticket_ids` (distinct), oldest first, as `ATTACHMENT_VALUES` dicts."""
    return await _values_by_ticket("attachments", _attachments_of, ATTACHMENT_VALUES, viewer, ticket_ids)


async def comment_counts(viewer: Viewer, ticket_ids: list[int]) -> dict[int, int]:
    """How many comments the viewer can see on each of `ticket_ids` (distinct); absent means none."""
    rows = await prepared_values(
        ("comment_counts", viewer.query_shape(), len(ticket_ids)),
        lambda s: (
            _comments_of(viewer.with_sentinels(s), s.ints("ids", len(ticket_ids)))
            .order_by()
            .group_by("ticket_id")
            .annotate(n=Count("id"))
            .values("ticket_id", "n")
        ),
        {**viewer.query_inputs(), **list_inputs("ids", ticket_ids)},
    )
    return {row["ticket_id"]: row["n"] for row in rows}


async def history_by_ticket(viewer: Viewer, ticket_ids: list[int]) -> dict[int, list[TicketEvent]]:
    """History of the visible ones among `ticket_ids`, oldest first (the field policy limits it to employees)."""
    grouped: dict[int, list[TicketEvent]] = defaultdict(list)
    visible_ids = Subquery(visible_tickets(viewer).filter(id__in=ticket_ids).values("id"))
    for row in await TicketEvent.filter(ticket_id__in=visible_ids).order_by("created_at", "id"):
        grouped[row.ticket_id].append(row)
    return grouped
