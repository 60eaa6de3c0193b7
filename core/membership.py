"""`column IN (subquery)`, written in the shape each database's planner serves best.

The row scopes (`permissions/`) say "this ticket's object is one of the
viewer's objects" as a subquery. Tortoise writes that as
`"object_id" IN (SELECT …)`, which PostgreSQL plans as a semi-join: it
estimates the scope from the join's statistics, far below the share it
really holds, and then reads and sorts the whole scope to find a page of 50.
Written as `"object_id" = ANY(ARRAY(SELECT …))`, the subquery runs once as an
InitPlan, its array becomes an index condition, and the page is read from
the ordering index's end and stops after 50 matches (docs/architecture/
postgresql.md has the plans). SQLite's planner does best with the plain
`IN (SELECT …)`, so that is what it gets.

`in_subquery(column, query)` is the one way the scopes write such a test;
the choice of shape is made when the SQL is rendered, from the dialect of
the connection it is rendered for.
"""

from __future__ import annotations

from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.enums import Dialects
from pypika_tortoise.terms import ContainsCriterion, Term
from pypika_tortoise.utils import format_alias_sql
from tortoise.expressions import Q, ResolveContext, Subquery
from tortoise.query_utils import QueryModifier


class AnyOfArray(ContainsCriterion):
    """`term IN (subquery)`; on PostgreSQL `term = ANY(ARRAY(subquery))` (same truth table, NULLs included).

    Negated it stays `NOT IN (subquery)` on both: PostgreSQL estimates
    `<> ALL(array of an InitPlan)` as almost nothing passing (7 rows of 6,666
    in tests/tickets/test_plans.py) and then sorts, while it estimates the
    hashed `NOT IN` as half the table and walks the ordering index.
    """

    def get_sql(self, ctx: SqlContext) -> str:
        if ctx.dialect != Dialects.POSTGRESQL or self._is_negated:
            return super().get_sql(ctx)
        term = self.term.get_sql(ctx)
        container = self.container.get_sql(ctx.copy(subquery=True))
        return format_alias_sql(f"{term} = ANY(ARRAY{container})", self.alias, ctx)


class InSubquery(Q):
    """A Q node: `column` is one of the values `subquery` selects (one column)."""

    def __init__(self, column: str, subquery: Subquery) -> None:
        super().__init__()
        self.column = column
        self.subquery = subquery

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        criteria: dict[str, Any] = {f"{self.column}__in": self.subquery}
        modifier = Q(**criteria).resolve(resolve_context)
        criterion = modifier.where_criterion
        if not isinstance(criterion, ContainsCriterion) or modifier.joins:
            raise TypeError(f"{self.column!r} is not a column of {resolve_context.model.__name__}")
        container: Term = criterion.container
        modifier.where_criterion = AnyOfArray(criterion.term, container)
        return modifier

    def __invert__(self) -> Q:
        # Q's own `~` rebuilds a plain Q from children and filters, which would drop this node.
        negated = Q(self)
        negated._is_negated = True
        return negated


def in_subquery(column: str, subquery: Subquery) -> Q:
    """`column IN (subquery)` as a filter for `.filter(...)`, in each database's best shape."""
    return InSubquery(column, subquery)
