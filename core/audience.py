"""Scoped queries answered for many subjects (viewers) in one statement.

A live event must be authorised for every subscribed viewer. Asking
`visible_tickets(viewer).filter(id=…)` once per viewer costs one statement
per viewer; `matching_subjects` instead builds each query once with
sentinels (`core.queries.Prepared`, so the scope is still written in one
place), turns the per-subject sentinels into columns of a relation holding
every subject's ids, and asks the database which subjects' rows exist — for
several queries (one per kind of viewer) in one statement, a UNION ALL:

    PostgreSQL: SELECT 0 AS g, v0.i FROM unnest($1::bigint[], …) WITH ORDINALITY v0(c0, …, i)
                WHERE EXISTS (<the scope query, the subject's ids read from v0>) UNION ALL …
    SQLite:     WITH v0(i, c0, …) AS (VALUES (?, ?, …), …), v1 … SELECT 0 AS g, v0.i FROM v0
                WHERE EXISTS (…) UNION ALL …

All subjects of one query share its shape (the caller groups them, e.g. by
`Viewer.query_shape()`). When Tortoise inlines a value a query cannot be
prepared; its subjects are then asked one by one (the same answer, one
statement each).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.connection import get_connection

from core.queries import SENTINEL_BASES, Direct, NotPreparable, Prepared, Rows, Sentinels, ShapeDependsOnValues

# SQLite allows 32,766 parameters a statement; PostgreSQL gets each column as one array.
SQLITE_PARAMETERS_PER_STATEMENT = 30_000
_PG_PARAMETER = re.compile(r"\$(\d+)")
COLUMN, SHARED, CONSTANT = "column", "shared", "constant"


@dataclass(frozen=True)
class Ask:
    """One scoped query for a group of subjects: `build(sentinels)` with `shared` and each subject bound.

    `build` asks `sentinels.int(name)` for every input it uses, as for
    `core.queries.prepared_values`; a subject is a dict of its own inputs by name
    (the same names in each). `key` names the query's shape: the same key must
    always build the same SQL.
    """

    key: Hashable
    build: Callable[[Sentinels], Rows]
    shared: dict[str, Any]
    subjects: Sequence[dict[str, Any]]


@dataclass(frozen=True)
class Correlated:
    """A prepared query cut at its parameters: each is a column of the subjects' relation, or a value."""

    model: Any
    pieces: tuple[str, ...]  # the SQL around the parameters (one more piece than slots)
    slots: tuple[tuple[str, Any], ...]  # (COLUMN, index) | (SHARED, input name) | (CONSTANT, value)
    columns: tuple[str, ...]  # the per-subject input names the query uses, as columns c0, c1, …

    @classmethod
    def of(cls, prepared: Prepared, dialect: str, per_subject: Sequence[str]) -> Correlated:
        used = {value for named, value in prepared.slots if named}
        columns = tuple(name for name in per_subject if name in used)
        slots = tuple(
            (COLUMN, columns.index(value))
            if named and value in columns
            else (SHARED, value)
            if named
            else (CONSTANT, value)
            for named, value in prepared.slots
        )
        if dialect == "postgres":
            numbers = [int(n) for n in _PG_PARAMETER.findall(prepared.sql)]
            if numbers != list(range(1, len(slots) + 1)):  # each parameter once, in order
                raise NotPreparable(prepared.sql)
            pieces = tuple(_PG_PARAMETER.split(prepared.sql)[::2])
        else:
            pieces = tuple(prepared.sql.split("?"))
        if len(pieces) != len(slots) + 1:
            raise NotPreparable(prepared.sql)
        return cls(prepared.model, pieces, slots, columns)

    def inner(self, alias: str, shared: dict[str, Any], params: list[Any], dialect: str) -> str:
        """The query reading the subject's inputs from `alias`, its other parameters appended to `params`."""
        sql = [self.pieces[0]]
        for (kind, value), piece in zip(self.slots, self.pieces[1:], strict=True):
            if kind == COLUMN:
                sql.append(f'{alias}."c{value}"')
            else:
                params.append(shared[value] if kind == SHARED else value)
                sql.append(f"${len(params)}" if dialect == "postgres" else "?")
            sql.append(piece)
        return "".join(sql)


_cache: dict[Hashable, Correlated | None] = {}


def _correlate(ask: Ask, dialect: str) -> Correlated | None:
    per_subject = tuple(ask.subjects[0])
    full_key = (dialect, ask.key, per_subject)
    if full_key not in _cache:
        try:
            first, second = (Prepared.of(ask.build(s), s) for s in (Sentinels(base) for base in SENTINEL_BASES))
            if first.sql != second.sql or first.slots != second.slots:
                raise ShapeDependsOnValues(f"{ask.key!r} builds different SQL for different ids")
            if len(_cache) > 1024:
                _cache.clear()
            _cache[full_key] = Correlated.of(first, dialect, per_subject)
        except NotPreparable:
            _cache[full_key] = None
    return _cache[full_key]


async def _one_by_one(ask: Ask) -> set[int]:
    found = set()
    for index, subject in enumerate(ask.subjects):
        if await ask.build(Direct({**ask.shared, **subject})):
            found.add(index)
    return found


async def matching_subjects(asks: Sequence[Ask]) -> list[set[int]]:
    """For each ask, the indexes (from 0) of its subjects for whom its query finds a row.

    Every preparable ask goes into one statement (on SQLite, more once the
    parameters would exceed its limit).
    """
    answers: list[set[int]] = [set() for _ in asks]
    dialect = get_connection("default").capabilities.dialect
    batch: list[tuple[int, Correlated]] = []
    for index, ask in enumerate(asks):
        if not ask.subjects:
            continue
        correlated = _correlate(ask, dialect)
        if correlated is None:
            answers[index] = await _one_by_one(ask)
        else:
            batch.append((index, correlated))
    start = 0
    while start < len(batch):
        end, sql, params = _statement(asks, batch, start, dialect)
        db = batch[start][1].model._choose_db(False)
        for row in await db.execute_query_dict(sql, params):
            index, correlated = batch[int(row["g"])]
            if correlated.columns:
                answers[index].add(int(row["i"]) - 1)
            else:  # the query ignores every per-subject input: one answer for all
                answers[index].update(range(len(asks[index].subjects)))
        start = end
    return answers


def _statement(
    asks: Sequence[Ask], batch: list[tuple[int, Correlated]], start: int, dialect: str
) -> tuple[int, str, list[Any]]:
    """One UNION ALL over `batch[start:end]`: (end, SQL, parameters); `g` is the position in `batch`."""
    relations: list[str] = []  # SQLite: the subjects' VALUES, ahead of the selects that use them
    selects: list[tuple[int, str, str, Correlated, Ask, str]] = []
    params: list[Any] = []
    end = start
    while end < len(batch):
        index, correlated = batch[end]
        ask = asks[index]
        width = len(correlated.columns)
        if (
            dialect != "postgres"
            and end > start
            and len(params) + len(ask.subjects) * (width + 1) > (SQLITE_PARAMETERS_PER_STATEMENT)
        ):
            break
        alias = f"v{end}"
        names = ", ".join(f'"c{n}"' for n in range(width))
        if not width:
            source = ""
        elif dialect == "postgres":
            arrays = []
            for name in correlated.columns:
                params.append([subject[name] for subject in ask.subjects])
                arrays.append(f"${len(params)}::bigint[]")
            source = f' FROM unnest({", ".join(arrays)}) WITH ORDINALITY AS {alias}({names}, "i")'
        else:
            row = "(" + ", ".join("?" * (width + 1)) + ")"
            relations.append(f'{alias}("i", {names}) AS (VALUES {", ".join([row] * len(ask.subjects))})')
            params.extend(x for i, s in enumerate(ask.subjects, 1) for x in (i, *(s[n] for n in correlated.columns)))
            source = f" FROM {alias}"
        selected = f'{alias}."i"' if width else "1"
        selects.append((end, selected, source, correlated, ask, alias))  # `end`: the tag g, the position in batch
        end += 1
    parts = []
    for position, selected, source, correlated, ask, alias in selects:
        inner = correlated.inner(alias, ask.shared, params, dialect)
        parts.append(f'SELECT {position} AS "g", {selected} AS "i"{source} WHERE EXISTS ({inner})')
    sql = " UNION ALL ".join(parts)
    if relations:
        sql = f"WITH {', '.join(relations)} {sql}"
    return end, sql, params
