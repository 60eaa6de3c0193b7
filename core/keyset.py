"""Keyset pages: a page starts after (or ends before) a row's (sort value, id), not at an offset.

A row written between two page requests cannot shift the next page: the
bound is a row's own key, so nothing is repeated and nothing skipped. The
connection layer (`schema.relay`) turns `first`/`after`/`last`/`before` into
a `Window` (cursors decoded and verified there); resolvers narrow their
query with `bounds` and read one row more than the page to tell whether
another page follows (`page_of` for plain querysets).

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


def ordered(query: QuerySet[Any], column: str, descending: bool) -> QuerySet[Any]:
    prefix = "-" if descending else ""
    return query.order_by(f"{prefix}{column}", f"{prefix}id")


async def page_of(query: QuerySet[Any], column: str, descending: bool, window: Window) -> tuple[list[Any], int]:
    """Up to `window.limit + 1` rows of `query` ordered by (`column`, id), in reading order, and the total count.

    `column` must not be nullable (`bounds` takes one that is).
    """
    narrowed = query
    condition = bounds(column, descending, window)
    if condition is not None:
        narrowed = narrowed.filter(condition)
    rows = await ordered(narrowed, column, window.scan_descending(descending)).limit(window.limit + 1)
    return list(rows), await query.count()


async def pages_by_parent(
    scope: QuerySet[Any],
    parent: str,
    parent_ids: list[int],
    fields: tuple[str, ...],
    column: str,
    descending: bool,
    window: Window,
) -> dict[int, tuple[list[dict[str, Any]], int]]:
    """A page of `scope` for each of `parent_ids` (distinct), ordered by (`column`, id), and each one's count.

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
    reading = window.scan_descending(descending)
    condition = bounds(column, descending, window)
    page = scope.filter(condition) if condition is not None else scope
    rows = await windowed_values(
        page.order_by().values(*fields), parent, ((column, reading), ("id", reading)), window.limit + 1
    )
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row[parent], []).append(row)
    if window.bounded:
        counted = (
            await scope.order_by().group_by(parent).annotate(window_count=Count("id")).values(parent, "window_count")
        )
        totals = {row[parent]: row["window_count"] for row in counted}
    else:
        totals = {pk: found[0]["window_total"] for pk, found in grouped.items()}
    return {pk: (grouped.get(pk, []), totals.get(pk, 0)) for pk in parent_ids}
