"""Ticket search inside the viewer's scope: the match, the relevance and the highlights.

The search narrows `visible_tickets(viewer)` (`resolvers.tickets.read.filtered_tickets`
applies `matching` to that query): a ticket outside the scope is never read.
What a viewer may match is what they may see: a customer user's query is
limited to the document parts A–C (`models.search`), so a word that stands
only in an internal comment neither matches nor excludes nor ranks for them.

Relevance is a tier, the same on both databases: 4 the ticket number itself
(`#123`), 3 every word in the title, 2 every word in the title, description,
file names or object name, 1 elsewhere (comments). Ties: newest first, then id.

Highlights are worked out in Python for the page's rows only, from the texts
the viewer may see (`highlights`), never from the index.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tortoise.connection import get_connection
from tortoise.expressions import Q, RawSQL
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core.database import dialect
from core.errors import BadUserInput
from core.keyset import Key, Listing, Window
from core.search import WORD, SearchQuery, fts5_match, parse, tsquery
from models.search import CONFIGURATION, FTS5_COLUMNS, refresh_pending
from models.tickets import Ticket
from permissions.tickets import COMMENT_INTERNALLY, visible_attachments, visible_comments
from permissions.viewer import Viewer

RELEVANCE = "relevance"
SNIPPET = 200
# Parts of the document per tier: title; title and description (with files and object).
TITLE, MAIN = "A", "AB"


# PostgreSQL: a search matching at most this many documents narrows the scope by their ids
# (found through the GIN index first); one matching more walks the scope in its order and
# checks each ticket (a common word fills a page after a few rows).
FEW = 2000


async def prepare(search: str | None, viewer: Viewer) -> list[int] | None:
    """Before a search reads; one statement, whatever the page.

    SQLite: the documents of tickets changed by writers that bypassed the
    write path are rebuilt (PostgreSQL's triggers keep it current).
    PostgreSQL: the ids of the matching documents when they are few (else
    None): the planner cannot tell a rare word's few matches from a common
    word's many by the scope's statistics, so it is asked the index.
    """
    query = parse(search) if search is not None else None
    if query is None:
        return None
    if dialect() != "postgres":
        async with in_transaction() as connection:
            await refresh_pending(connection)
        return None
    sql = f"{_ids_matching(query, viewer, '')} LIMIT {FEW + 1}"
    rows = await get_connection("default").execute_query_dict(sql)
    ids = [row["ticket_id"] for row in rows]
    return ids if len(ids) <= FEW else None


def _visible_weights(viewer: Viewer) -> str:
    # Employees match everything, internal comments included; anyone else A–C.
    return "" if COMMENT_INTERNALLY.allows(viewer) else "ABC"


def _columns(weights: str) -> tuple[str, ...]:
    return tuple(FTS5_COLUMNS["ABCD".index(w)] for w in weights) if weights else FTS5_COLUMNS


def _literal(text: str) -> str:
    # The expressions hold letters, digits and our own operators only; doubling
    # quotes keeps even a mistake from leaving the literal.
    return "'" + text.replace("'", "''") + "'"


def _ids_matching(query: SearchQuery, viewer: Viewer, weights: str) -> str:
    """SQL: the ids of tickets whose document parts `weights` ("" all visible) hold every included term."""
    visible = _visible_weights(viewer)
    included = weights or visible
    if dialect() == "postgres":
        text = tsquery(query, included, visible)
        return (
            'SELECT "ticket_id" FROM "ticket_search" '
            f'WHERE "document" @@ to_tsquery({_literal(CONFIGURATION)}, {_literal(text)})'
        )
    expression = fts5_match(query, _columns(included), _columns(visible))
    return f'SELECT rowid FROM "ticket_search" WHERE "ticket_search" MATCH {_literal(expression)}'


def matching(query: SearchQuery, viewer: Viewer, ids: list[int] | None = None) -> Q:
    """The condition on tickets that `query` matches for `viewer` (to narrow their scope with).

    `ids`: the matching documents' ids when `prepare` found them few.
    """
    found = Q(id__in=ids) if ids is not None else Q(id__in=RawSQL(f"({_ids_matching(query, viewer, '')})"))
    if query.number is not None:
        return found | Q(number=query.number)
    return found


def relevance(query: SearchQuery, viewer: Viewer) -> RawSQL:
    """SQL: each ticket's relevance tier for `query` (for tickets it matches; see the module).

    PostgreSQL: the ticket's own document is read by its key and tested against the title and
    the main parts. (`"id" IN (<the title's matches>)` made it hash every match of a common word,
    and past `work_mem` test each ticket against the whole list: 1 M tickets ran for minutes.)
    SQLite: FTS5 answers each part's matches once, as an ephemeral index.
    """
    number = f'WHEN "ticket"."number" = {int(query.number)} THEN 4 ' if query.number is not None else ""
    if dialect() == "postgres":
        visible = _visible_weights(viewer)
        tested = " ".join(
            f'WHEN s."document" @@ to_tsquery({_literal(CONFIGURATION)}, {_literal(tsquery(query, part, visible))}) '
            f"THEN {tier}"
            for part, tier in ((TITLE, 3), (MAIN, 2))
        )
        own = f'(SELECT CASE {tested} ELSE 1 END FROM "ticket_search" s WHERE s."ticket_id" = "ticket"."id")'
        return RawSQL(f"CASE {number}ELSE COALESCE({own}, 1) END" if number else f"COALESCE({own}, 1)")
    cases = [
        f'WHEN "ticket"."id" IN ({_ids_matching(query, viewer, TITLE)}) THEN 3',
        f'WHEN "ticket"."id" IN ({_ids_matching(query, viewer, MAIN)}) THEN 2',
    ]
    return RawSQL(f"CASE {number}{' '.join(cases)} ELSE 1 END")


def _after(key: Key, descending: bool) -> Q:
    (tier, created_at), pk = _relevance_key(key)
    more = "lt" if descending else "gt"
    return Q(**{f"{RELEVANCE}__{more}": tier}) | (
        Q(**{RELEVANCE: tier})
        & (Q(**{f"created_at__{more}": created_at}) | Q(**{"created_at": created_at, f"id__{more}": pk}))
    )


def _relevance_key(key: Key) -> Key:
    value, pk = key
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise BadUserInput("This cursor belongs to another ordering.", field="after")
    return (value[0], value[1]), pk


def relevance_bounds(window: Window) -> Q | None:
    """The condition for `window`'s keys on the order (relevance, createdAt, id), best first."""
    conditions = []
    if window.after is not None:
        conditions.append(_after(window.after, True))
    if window.before is not None:
        conditions.append(_after(window.before, False))
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]


def relevance_key(row: dict[str, Any]) -> Key:
    """A RELEVANCE row's cursor key: ([tier, createdAt], id)."""
    return [row[RELEVANCE], row["created_at"]], row["id"]


@dataclasses.dataclass(frozen=True)
class RelevanceListing(Listing):
    """Tickets by relevance tier, then newest first, then id: `TicketOrder.RELEVANCE` (one direction).

    Its rows carry the tier as `relevance` (`resolvers.tickets.read.filtered_tickets`).
    """

    def key(self, row: Any) -> Key:
        return relevance_key(row)

    def bounds(self, window: Window) -> Q | None:
        return relevance_bounds(window)

    def order_by(self, descending: bool) -> tuple[str, ...]:  # type: ignore[override]
        prefix = "-" if descending else ""
        return f"{prefix}{RELEVANCE}", f"{prefix}{self.column}", f"{prefix}id"

    def window_order(self, window: Window) -> tuple[tuple[str, bool], ...]:  # type: ignore[override]
        reading = self.reading(window)
        return (RELEVANCE, reading), (self.column, reading), ("id", reading)


RELEVANCE_LISTING = RelevanceListing("tickets:RELEVANCE", "created_at", descending=True)


def walks_tiers(window: Window, search_ids: list[int] | None) -> bool:
    """Whether a RELEVANCE page is read tier by tier (`relevance_walk`): on PostgreSQL, for a search
    matching many tickets (`prepare` found more than FEW), reading forward. (SQLite's FTS5 answers a
    tier's matches once, as an ephemeral index, and ranks them in one statement.)"""
    return dialect() == "postgres" and search_ids is None and not window.backward and window.before is None


async def relevance_walk(
    matches: Callable[[], QuerySet[Ticket]], query: SearchQuery, viewer: Viewer, window: Window, values: tuple[str, ...]
) -> list[dict[str, Any]]:
    """A RELEVANCE page of a common word's matches, best tier first, each tier newest first.

    Ranking every match of a common word costs one probe of its document per
    match (a million tickets: seconds) before the first row is known. The page
    instead asks each tier in turn for its newest rows (`matches()` ordered by
    date, walking the ordering index and probing each ticket's document), and
    stops once it holds `window.limit + 1` rows: a word common in titles fills
    the first page from the first tier. Tiers above the cursor's are skipped,
    the cursor's own is read past the cursor's date and id. One statement per
    tier it reads: a page that crosses tiers takes one more for each.
    """
    tiers = ([4] if query.number is not None else []) + [3, 2, 1]
    after = _relevance_key(window.after) if window.after is not None else None
    rows: list[dict[str, Any]] = []
    async with in_transaction() as connection:
        # The planner multiplies the scope's, the match's and the tier's selectivities into a
        # handful of rows and would collect and sort them all (a customer user's common word:
        # 1.3 s at 1 M tickets); the walk is what stops early, as the baseline's `enable_sort`.
        await connection.execute_script("SET LOCAL enable_sort = off")
        for tier in tiers:
            if after is not None and tier > after[0][0]:
                continue
            tiered = matches().annotate(**{RELEVANCE: relevance(query, viewer)}).filter(**{RELEVANCE: tier})
            if after is not None and tier == after[0][0]:
                (_, created_at), pk = after
                tiered = tiered.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
            wanted = window.limit + 1 - len(rows)
            rows += await tiered.limit(wanted).using_db(connection).values(*values, RELEVANCE)
            if len(rows) > window.limit:
                break
    return rows


# ---------------------------------------------------------------- highlights


def snippet(query: SearchQuery, text: str) -> str | None:
    """At most `SNIPPET` characters of `text` around its first match, matched words in « », or None.

    "…" marks text left out before or after; neither it nor the marks count.
    """
    spans = [m.span() for m in WORD.finditer(text) if query.matches_word(m.group())]
    if not spans:
        return None
    first_start = spans[0][0]
    start = max(0, first_start - SNIPPET // 4)
    # Start at a word boundary when cutting inside the text.
    if start > 0:
        blank = text.rfind(" ", 0, start + 1)
        start = blank + 1 if blank >= 0 and first_start - blank - 1 < SNIPPET // 2 else start
    end = min(len(text), start + SNIPPET)
    if end < len(text):
        blank = text.rfind(" ", start, end)
        if blank > spans[0][1]:
            end = blank
    shown = []
    position = start
    for begin, finish in spans:
        if begin < start or finish > end:
            continue
        shown.append(text[position:begin])
        shown.append("«" + text[begin:finish] + "»")
        position = finish
    shown.append(text[position:end])
    body = "".join(shown).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


async def highlights(viewer: Viewer, query: SearchQuery, rows: list[dict[str, Any]]) -> dict[int, list[dict[str, str]]]:
    """For each ticket row of a page (`id`, `number`, `title`, `description`, `object__name`), where it matches.

    At most one highlight per field, in the order number, title, description,
    comment, attachment, object. Comments and attachments are read for the
    page's tickets at once through the viewer's scope (two statements a page).
    """
    if not rows:
        return {}
    ids = [row["id"] for row in rows]
    comments: dict[int, list[str]] = defaultdict(list)
    for row in await visible_comments(viewer, ids).order_by("id").values("ticket_id", "body"):
        comments[row["ticket_id"]].append(row["body"])
    files: dict[int, list[str]] = defaultdict(list)
    for row in await visible_attachments(viewer, ids).order_by("id").values("ticket_id", "filename"):
        files[row["ticket_id"]].append(row["filename"])
    found: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        marks: list[dict[str, str]] = []
        if query.number is not None and row.get("number") == query.number:
            marks.append({"field": "number", "snippet": f"«{query.number}»"})
        fields: list[tuple[str, list[str]]] = [
            ("title", [row.get("title") or ""]),
            ("description", [row.get("description") or ""]),
            ("comment", comments[row["id"]]),
            ("attachment", files[row["id"]]),
            ("object", [row.get("object__name") or ""]),
        ]
        for field, texts in fields:
            for text in texts:
                shown = snippet(query, text)
                if shown is not None:
                    marks.append({"field": field, "snippet": shown})
                    break
        found[row["id"]] = marks
    return found
