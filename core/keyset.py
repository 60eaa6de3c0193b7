"""Keyset pages: a page starts after (or ends before) a row's (sort value, id), not at an offset.

A row written between two page requests cannot shift the next page: the
bound is a row's own key, so nothing is repeated and nothing skipped. The
connection layer (`schema.relay`) turns `first`/`after`/`last`/`before` into
a `Window` (cursors decoded and verified there); resolvers narrow their
query with the window's bounds and read one row more than the page to tell
whether another page follows.

Each paginated list is declared once, as a `Listing` next to its resolver:
its name (what its cursors carry), its sort column and direction. The
paging arguments (`schema.relay.paged`), the SQL ordering and bounds
(`Listing.page`, `Listing.pages_by_parent`, `Listing.bounds`) and the
cursor's content (`Listing.key`) all read that one declaration, so a
cursor's key and the SQL order cannot drift apart
(`tests/core/test_listings.py` walks every listing both ways).

The bound is written `col >= v AND (col > v OR id > pk)` (ascending; mirrored
descending), not as a row-value comparison: Tortoise has none, and the first
conjunct is a range the ordering index `(col, id)` seeks on, on SQLite and
PostgreSQL alike. A nullable column (a ticket's due date) places NULLs where
the database sorts them: SQLite first ascending, PostgreSQL last.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from core.database import dialect
from core.queries import windowed_values

Key = tuple[Any, int]  # (sort value, id) of a row


@dataclasses.dataclass(frozen=True)
class Window:
    """Which rows of an ordering a page holds: at most `limit`, strictly between the keys given."""

    limit: int
    backward: bool = False  # `last`: the page ends at `before` (or the end) and is read in reverse
    after: Key | None = None
    before: Key | None = None

    @property
    def bounded(self) -> bool:
        return self.after is not None or self.before is not None

    def scan_descending(self, descending: bool) -> bool:
        """The direction the rows are read in: the ordering's, reversed for `last`."""
        return descending != self.backward


def _q(lookups: dict[str, Any]) -> Q:
    return Q(**lookups)


def after_key(column: str, descending: bool, nulls_first: bool | None, key: Key) -> Q:
    """Rows strictly after `key` in the order `column` (descending or not), then id the same way.

    `nulls_first`: whether the database sorts NULL first *ascending*; None
    for a column that is never NULL.
    """
    value, pk = key
    more = "lt" if descending else "gt"
    at_least = "lte" if descending else "gte"
    bound = _q({f"{column}__{at_least}": value}) & (_q({f"{column}__{more}": value}) | _q({f"id__{more}": pk}))
    if nulls_first is None:
        return bound
    nulls_lead = nulls_first != descending  # NULLs come first in this direction
    if value is None:
        among_nulls = _q({f"{column}__isnull": True, f"id__{more}": pk})
        return among_nulls | _q({f"{column}__isnull": False}) if nulls_lead else among_nulls
    return bound if nulls_lead else bound | _q({f"{column}__isnull": True})


def bounds(column: str, descending: bool, window: Window, nulls_first: bool | None = None) -> Q | None:
    """The condition for `window`'s keys on the order (`column`, id), None without keys.

    `nulls_first` as for `after_key`: None unless `column` is nullable.
    """
    conditions = []
    if window.after is not None:
        conditions.append(after_key(column, descending, nulls_first, window.after))
    if window.before is not None:
        conditions.append(after_key(column, not descending, nulls_first, window.before))
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]


# Every declared listing by name: a cursor names its listing, so two lists cannot share a name.
LISTINGS: dict[str, Listing] = {}


@dataclasses.dataclass(frozen=True)
class Listing:
    """One paginated list: the name its cursors carry, and its order (`column`, then id, both one way).

    `nullable`: the column can be NULL (NULLs sort where the database puts
    them: SQLite first ascending, PostgreSQL last). Declaring a listing
    registers it (`LISTINGS`); a second one of the same name is refused.
    """

    name: str
    column: str
    descending: bool
    nullable: bool = False

    def __post_init__(self) -> None:
        known = LISTINGS.setdefault(self.name, self)
        if known != self:
            raise ValueError(f"two listings are named {self.name!r}: {known} and {self}")

    def key(self, row: Any) -> Key:
        """The cursor key of a row (a model instance or a values dict): its sort value and id."""
        if isinstance(row, dict):
            return row[self.column], row["id"]
        return getattr(row, self.column), row.id

    def reading(self, window: Window) -> bool:
        """Whether `window`'s rows are read descending (the listing's direction, reversed for `last`)."""
        return window.scan_descending(self.descending)

    def nulls_first(self) -> bool | None:
        """How the database sorts NULL ascending (first on SQLite), None when the column is never NULL."""
        return dialect() == "sqlite" if self.nullable else None

    def bounds(self, window: Window) -> Q | None:
        """The condition for `window`'s cursors, None without them."""
        return bounds(self.column, self.descending, window, self.nulls_first())

    def order_by(self, descending: bool) -> tuple[str, str]:
        """`QuerySet.order_by` arguments for this order, read `descending` or not."""
        prefix = "-" if descending else ""
        return f"{prefix}{self.column}", f"{prefix}id"

    def window_order(self, window: Window) -> tuple[tuple[str, bool], tuple[str, bool]]:
        """The (column, descending) pairs `core.queries.windowed_values` sorts each partition by."""
        reading = self.reading(window)
        return (self.column, reading), ("id", reading)

    async def page(self, query: QuerySet[Any], window: Window) -> tuple[list[Any], int]:
        """Up to `window.limit + 1` rows of `query`, in reading order, and the total count."""
        return await self.rows(query, window), await query.count()

    async def rows(self, query: QuerySet[Any], window: Window) -> list[Any]:
        """Up to `window.limit + 1` rows of `query`, in reading order (no count: for a page that shows none)."""
        condition = self.bounds(window)
        narrowed = query.filter(condition) if condition is not None else query
        return list(await narrowed.order_by(*self.order_by(self.reading(window))).limit(window.limit + 1))

    async def pages_by_parent(
        self,
        scope: QuerySet[Any],
        parent: str,
        parent_ids: list[int],
        fields: tuple[str, ...],
        window: Window,
    ) -> dict[int, tuple[list[dict[str, Any]], int]]:
        """A page of `scope` for each of `parent_ids` (distinct), and each one's count.

        `scope` holds the rows of every parent (already narrowed to `parent_ids`
        and to what the viewer may see); `parent` is the values alias naming a
        row's parent and must be among `fields`. One windowed statement
        (`core.queries.windowed_values`) for all parents, and behind a cursor one
        more that counts each parent's rows: the number of statements never grows
        with the page or the number of parents. Rows are values dicts in reading
        order, one more than `window.limit` when another page follows.
        """
        if not parent_ids:
            return {}
        condition = self.bounds(window)
        page = scope.filter(condition) if condition is not None else scope
        rows = await windowed_values(
            page.order_by().values(*fields), parent, self.window_order(window), window.limit + 1
        )
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(row[parent], []).append(row)
        if window.bounded:
            counted = await (
                scope.order_by().group_by(parent).annotate(window_count=Count("id")).values(parent, "window_count")
            )
            totals = {row[parent]: row["window_count"] for row in counted}
        else:
            totals = {pk: found[0]["window_total"] for pk, found in grouped.items()}
        return {pk: (grouped.get(pk, []), totals.get(pk, 0)) for pk in parent_ids}
