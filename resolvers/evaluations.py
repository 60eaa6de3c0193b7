"""The ticket evaluation: DONE tickets grouped by resolution time in whole days.

Each batch of evaluations is one SQL query (`EVALUATION_SQL`) over the stored
`ticket.resolution_days`: per-day counts, running totals and the percentiles
come from window functions, and the database answers one row per non-empty
group. Python only fills the empty groups in between.

Percentiles are nearest-rank: the median is the smallest whole-day value d
such that at least half of the tickets took at most d days; p90 the same
with 90 %. Dates are UTC days; `to` is inclusive; both lie within the
plausible range of `core.dates`.

An evaluation has at most `MAX_EVALUATION_BUCKETS` buckets: when the slowest
ticket lies further out, the groups from the last bucket on are merged into it
(it runs from its `fromDay` to the end of the last non-empty group), so the
answer stays small whatever the group size and the tickets' dates.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.connection import get_connection

from core.dates import plausible_date
from core.errors import BadUserInput
from models.customers import Customer
from permissions.customers import visible_customers, visible_objects
from permissions.evaluations import evaluation_shown
from permissions.viewer import Viewer
from resolvers.customers import get_customer

MIN_GROUP_SIZE_DAYS = 1
MAX_GROUP_SIZE_DAYS = 365
# Buckets per evaluation; later groups are merged into the last one.
MAX_EVALUATION_BUCKETS = 500


def whole_days(created_at: datetime, done_at: datetime) -> int:
    """floor(seconds / 86400) from creation to done (`timedelta.days` floors)."""
    return (done_at - created_at).days


@dataclass(frozen=True)
class Bucket:
    from_day: int
    to_day: int
    count: int


@dataclass(frozen=True)
class ServiceLevelCounts:
    """Service-level targets over an evaluation's tickets (issue 26): how many had targets, and of those
    how many first responses and resolutions were in time or late (the ticket's recorded breach)."""

    with_target: int = 0
    first_response_met: int = 0
    first_response_breached: int = 0
    resolution_met: int = 0
    resolution_breached: int = 0


@dataclass(frozen=True)
class Evaluation:
    group_size_days: int
    total: int
    average_days: float | None
    median_days: int | None
    p90_days: int | None
    buckets: list[Bucket]
    # The customer's satisfaction (issue 18): how many of the tickets counted carry a rating,
    # how many of them per rating 1..5, and how many were moved out of DONE at least once.
    rating_counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    reopened: int = 0
    service_level: ServiceLevelCounts = ServiceLevelCounts()

    @property
    def rated_count(self) -> int:
        return sum(self.rating_counts)

    @property
    def average_rating(self) -> float | None:
        rated = self.rated_count
        if not rated:
            return None
        return sum((i + 1) * n for i, n in enumerate(self.rating_counts)) / rated


@dataclass(frozen=True)
class Period:
    """`[from, to]` in whole UTC days; either end may be open."""

    start: date | None = None
    end: date | None = None

    def check(self) -> Period:
        if self.start is not None:
            plausible_date(self.start, "from")
        if self.end is not None:
            plausible_date(self.end, "to")
        if self.start and self.end and self.start > self.end:
            raise BadUserInput("`from` must not be after `to`.", field="to")
        return self


# ---------------------------------------------------------------- settings


async def set_customer_ticket_evaluation(customer_id: int, enabled: bool, group_size_days: int) -> Customer:
    if not MIN_GROUP_SIZE_DAYS <= group_size_days <= MAX_GROUP_SIZE_DAYS:
        raise BadUserInput(
            f"The group size must be {MIN_GROUP_SIZE_DAYS}–{MAX_GROUP_SIZE_DAYS} days.", field="groupSizeDays"
        )
    customer = await get_customer(customer_id)
    customer.ticket_evaluation_enabled = enabled
    customer.ticket_evaluation_group_size_days = group_size_days
    await customer.save(update_fields=["ticket_evaluation_enabled", "ticket_evaluation_group_size_days"])
    return customer


# ---------------------------------------------------------------- the query

# {key} is the column evaluations are grouped by (the object or its customer);
# {keys} its placeholders; {period} the optional bounds on done_at.
EVALUATION_SQL = """
WITH scoped AS (
    SELECT {key} AS k, c.ticket_evaluation_group_size_days AS size, t.resolution_days AS d,
           t.rating AS r, CASE WHEN t.reopen_count > 0 THEN 1 ELSE 0 END AS reopened,
           CASE WHEN t.sla_first_response_due_at IS NULL THEN 0 ELSE 1 END AS sw,
           CASE WHEN t.sla_first_response_due_at IS NOT NULL AND NOT t.sla_first_response_breached
                THEN 1 ELSE 0 END AS fm,
           CASE WHEN t.sla_first_response_due_at IS NOT NULL AND t.sla_first_response_breached
                THEN 1 ELSE 0 END AS fb,
           CASE WHEN t.sla_resolution_due_at IS NOT NULL AND NOT t.sla_resolution_breached
                THEN 1 ELSE 0 END AS rm,
           CASE WHEN t.sla_resolution_due_at IS NOT NULL AND t.sla_resolution_breached
                THEN 1 ELSE 0 END AS rb
    FROM ticket t
    JOIN site_object o ON o.id = t.object_id
    JOIN customer c ON c.id = o.customer_id
    JOIN customer_ticket_type ctt ON ctt.customer_id = o.customer_id AND ctt.ticket_type_id = t.ticket_type_id
    JOIN ticket_type tt ON tt.id = t.ticket_type_id
    WHERE {key} IN ({keys})
      AND t.status = 'DONE'
      AND t.resolution_days IS NOT NULL
      AND NOT tt.is_absence_request
      {period}
),
days AS (
    SELECT k, size, d, COUNT(*) AS n, SUM(reopened) AS reopened,
           SUM(CASE WHEN r = 1 THEN 1 ELSE 0 END) AS r1, SUM(CASE WHEN r = 2 THEN 1 ELSE 0 END) AS r2,
           SUM(CASE WHEN r = 3 THEN 1 ELSE 0 END) AS r3, SUM(CASE WHEN r = 4 THEN 1 ELSE 0 END) AS r4,
           SUM(CASE WHEN r = 5 THEN 1 ELSE 0 END) AS r5,
           SUM(sw) AS sw, SUM(fm) AS fm, SUM(fb) AS fb, SUM(rm) AS rm, SUM(rb) AS rb
    FROM scoped GROUP BY k, size, d
),
running AS (
    SELECT k, size, d, n,
           SUM(n) OVER (PARTITION BY k ORDER BY d) AS upto,
           SUM(n) OVER (PARTITION BY k) AS total,
           SUM(d * n) OVER (PARTITION BY k) AS day_sum,
           SUM(reopened) OVER (PARTITION BY k) AS reopened,
           SUM(r1) OVER (PARTITION BY k) AS r1, SUM(r2) OVER (PARTITION BY k) AS r2,
           SUM(r3) OVER (PARTITION BY k) AS r3, SUM(r4) OVER (PARTITION BY k) AS r4,
           SUM(r5) OVER (PARTITION BY k) AS r5,
           SUM(sw) OVER (PARTITION BY k) AS sw, SUM(fm) OVER (PARTITION BY k) AS fm,
           SUM(fb) OVER (PARTITION BY k) AS fb, SUM(rm) OVER (PARTITION BY k) AS rm,
           SUM(rb) OVER (PARTITION BY k) AS rb
    FROM days
),
ranked AS (
    SELECT k, size, d, n, total, day_sum, reopened, r1, r2, r3, r4, r5, sw, fm, fb, rm, rb,
           MIN(CASE WHEN 2 * upto >= total THEN d END) OVER (PARTITION BY k) AS median,
           MIN(CASE WHEN 10 * upto >= 9 * total THEN d END) OVER (PARTITION BY k) AS p90
    FROM running
)
SELECT k, d / size AS grp, MAX(size) AS size, SUM(n) AS n, MAX(total) AS total,
       MAX(day_sum) AS day_sum, MAX(median) AS median, MAX(p90) AS p90, MAX(reopened) AS reopened,
       MAX(r1) AS r1, MAX(r2) AS r2, MAX(r3) AS r3, MAX(r4) AS r4, MAX(r5) AS r5,
       MAX(sw) AS sw, MAX(fm) AS fm, MAX(fb) AS fb, MAX(rm) AS rm, MAX(rb) AS rb
FROM ranked
GROUP BY k, d / size
ORDER BY k, grp
"""

KEY_COLUMNS = {"object": "t.object_id", "customer": "o.customer_id"}


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …`."""
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def evaluation_query(dialect: str, by: str, keys: list[int], period: Period) -> tuple[str, list[Any]]:
    """The SQL and parameters evaluating `keys` (object or customer ids) over `period`."""
    params: list[Any] = list(keys)
    bounds = []
    for value, operator in ((period.start, ">="), (period.end and period.end + timedelta(days=1), "<")):
        if value is None:
            continue
        if dialect == "sqlite":
            # Stored as ISO text with whatever offset it came with: compare instants, not strings.
            bounds.append(f"AND julianday(t.done_at) {operator} julianday(?)")
            params.append(value.isoformat())
        else:
            bounds.append(f"AND t.done_at {operator} ?")
            params.append(datetime.combine(value, time(0), tzinfo=UTC))
    sql = EVALUATION_SQL.format(key=KEY_COLUMNS[by], keys=", ".join("?" for _ in keys), period="\n      ".join(bounds))
    return (sql if dialect == "sqlite" else _numbered(sql)), params


def empty(group_size_days: int) -> Evaluation:
    return Evaluation(group_size_days, 0, None, None, None, [])


def _assemble(rows: list[dict[str, Any]], group_size_days: int) -> Evaluation:
    """One evaluation from its rows (one per non-empty group), empty groups filled in."""
    if not rows:
        return empty(group_size_days)
    counts = {int(r["grp"]): int(r["n"]) for r in rows}
    first = rows[0]
    total = int(first["total"])
    last = max(counts)
    shown = min(last + 1, MAX_EVALUATION_BUCKETS)
    buckets = [Bucket(g * group_size_days, (g + 1) * group_size_days - 1, counts.get(g, 0)) for g in range(shown)]
    if last >= shown:
        merged = sum(n for g, n in counts.items() if g >= shown - 1)
        buckets[-1] = Bucket((shown - 1) * group_size_days, (last + 1) * group_size_days - 1, merged)
    ratings = (int(first["r1"]), int(first["r2"]), int(first["r3"]), int(first["r4"]), int(first["r5"]))
    return Evaluation(
        group_size_days,
        total,
        float(first["day_sum"]) / total,
        int(first["median"]),
        int(first["p90"]),
        buckets,
        ratings,
        int(first["reopened"]),
        ServiceLevelCounts(*(int(first[name]) for name in ("sw", "fm", "fb", "rm", "rb"))),
    )


async def _evaluate(by: str, sizes: dict[int, int], period: Period) -> dict[int, Evaluation]:
    """Evaluations for the given keys (key → its customer's group size), in one query."""
    if not sizes:
        return {}
    connection = get_connection("default")
    sql, params = evaluation_query(connection.capabilities.dialect, by, sorted(sizes), period)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await connection.execute_query_dict(sql, params):
        grouped[int(row["k"])].append(row)
    return {key: _assemble(grouped.get(key, []), size) for key, size in sizes.items()}


# ---------------------------------------------------------------- scoped entry points


async def object_evaluations(viewer: Viewer, object_ids: list[int], period: Period) -> dict[int, Evaluation | None]:
    """Evaluation per object the viewer may see; None where a customer user has it switched off.

    Objects outside the viewer's scope are absent from the result.
    """
    period.check()
    rows = await (
        visible_objects(viewer)
        .filter(id__in=set(object_ids))
        .values("id", "customer__ticket_evaluation_enabled", "customer__ticket_evaluation_group_size_days")
    )
    shown = {
        r["id"]: r["customer__ticket_evaluation_group_size_days"]
        for r in rows
        if evaluation_shown(viewer, r["customer__ticket_evaluation_enabled"])
    }
    result: dict[int, Evaluation | None] = {r["id"]: None for r in rows}
    result.update(await _evaluate("object", shown, period))
    return result


async def customer_evaluations(viewer: Viewer, customer_ids: list[int], period: Period) -> dict[int, Evaluation | None]:
    """Evaluation over all objects of each customer the viewer may see (the same rules as per object)."""
    period.check()
    rows = await (
        visible_customers(viewer)
        .filter(id__in=set(customer_ids))
        .values("id", "ticket_evaluation_enabled", "ticket_evaluation_group_size_days")
    )
    shown = {
        r["id"]: r["ticket_evaluation_group_size_days"]
        for r in rows
        if evaluation_shown(viewer, r["ticket_evaluation_enabled"])
    }
    result: dict[int, Evaluation | None] = {r["id"]: None for r in rows}
    result.update(await _evaluate("customer", shown, period))
    return result
