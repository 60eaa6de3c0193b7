"""The baseline: the best hand-written endpoint for each benchmark question (not part of the product).

A reference for what this stack can do, not a copy of the product's
bottlenecks: Starlette, raw driver tuples (`aiosqlite` on SQLite, `asyncpg`
on PostgreSQL — no ORM on the hot path), one statement per question where
SQL allows it, its own indexes (checked at start, created if the database
lacks them: `INDEXES`), orjson. It keeps what makes the answers the same:
the same token check (PyJWT with the same header, key id, algorithm and
required claims), the same account check (active, token version, kind), the
same row scoping written in SQL, the same fields and byte-identical JSON.
Each route answers one fixed question and ignores the request body.

    uvicorn --factory bench.baseline:create_app   (settings from the SITEDESK_* environment)

`GET /statements` reports how many SQL statements it has run and which
indexes it had to create (the benchmark counts statements per request with it).
"""

from __future__ import annotations

import base64
import json
import time
from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.keys import key_id, sign
from core.settings import Settings, get_settings

# What the product's tokens carry (permissions/tokens.py), checked the same way.
ISSUER = "sitedesk"
AUDIENCE = "sitedesk-api"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "kind", "ver", "typ"]

# The indexes the plans below rely on: (table, columns). Created at start
# (named `bench_baseline_…`) only when no index of the database starts with
# exactly these columns.
INDEXES = (
    ("ticket", ("created_at", "id")),  # pages walk it newest first and stop after `first` matches
    ("ticket", ("updated_at", "id")),  # the sync read walks it from the instant on
    ("ticket", ("object_id", "ticket_type_id")),  # a customer user's count: a few index ranges
    ("ticket", ("ticket_type_id",)),  # an employee's count: only the absence requests are read
    ("comment", ("ticket_id", "created_at")),
    ("attachment", ("ticket_id", "created_at")),
    ("customer_user_object", ("customer_user_id",)),
    ("customer_ticket_type", ("customer_id",)),
)


# PostgreSQL has no index hints; its estimate of a customer user's scope (a
# join of their objects and their customer's types) is far below the ~30 % it
# holds, so it would sort the whole scope. The hand-written queries know
# their best plan: walk the ordering index (sorts only where nothing else can). JIT off, as the
# product has it: the cost `enable_sort` adds to a sort that cannot be avoided (20 objects by name)
# passes `jit_above_cost`, and each run then compiled its plan (80 ms).
POSTGRES_PLANNER = {"enable_sort": "off", "jit": "off"}


def gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def cursor(settings: Settings, created_at: Any, pk: int) -> str:
    """The API's keyset cursor of a ticket in the default order (newest first), signed with the same key."""
    payload = json.dumps(["tickets:CREATED_AT:desc", {"t": iso(created_at)}, pk], separators=(",", ":"))
    message = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{message}.{sign(settings, message)}"


def iso(value: Any) -> str | None:
    """DateTime/Date as the API renders them: SQLite holds `str(datetime)`, asyncpg gives objects."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.replace(" ", "T", 1)
    return value.isoformat()


class Db:
    """Raw SQL written with `?` (numbered `$n` for PostgreSQL); rows are tuples."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite")
        self.statements = 0
        self.created: list[str] = []
        self._numbered: dict[str, str] = {}
        # SQLite: `@BY table.column@` in a statement becomes `INDEXED BY "<index>"` (the planner's
        # statistics would rather sort 30 % of the table than walk the ordering index); PostgreSQL
        # plans by cost and needs no hint.
        self.hints: dict[str, str] = {}
        self._conn: Any = None
        self._pool: Any = None

    async def open(self) -> None:
        parsed = urlparse(self.url)
        if self.postgres:
            import asyncpg

            dsn = parsed._replace(scheme="postgresql", query="").geturl()
            self._pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, server_settings=POSTGRES_PLANNER)
        else:
            import aiosqlite

            path = "/" + (parsed.netloc + parsed.path).lstrip("/")
            self._conn = await aiosqlite.connect(path)
            await self._conn.execute("PRAGMA busy_timeout = 5000")
        await self._ensure_indexes()
        self.statements = 0

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._conn is not None:
            await self._conn.close()

    def _sql(self, sql: str) -> str:
        found = self._numbered.get(sql)
        if found is None:
            found = sql
            for marker, index in self.hints.items():
                found = found.replace(marker, "" if self.postgres else f'INDEXED BY "{index}"')
            found = one_of(found, self.postgres)
            if self.postgres:
                parts = found.split("?")
                found = parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], 1))
            self._numbered[sql] = found
        return found

    async def rows(self, sql: str, *params: Any) -> list[Any]:
        self.statements += 1
        if self.postgres:
            return await self._pool.fetch(self._sql(sql), *params)
        return list(await self._conn.execute_fetchall(self._sql(sql), params))

    async def _index_columns(self, table: str) -> list[tuple[str, tuple[str, ...]]]:
        if self.postgres:
            found = await self._pool.fetch(
                "SELECT i.indexrelid::regclass::text, array_agg(a.attname ORDER BY k.n) FROM pg_index i "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = $1::regclass GROUP BY i.indexrelid",
                f'"{table}"',
            )
            return [(r[0], tuple(r[1])) for r in found]
        names = await self._conn.execute_fetchall(f'PRAGMA index_list("{table}")')
        columns = []
        for row in names:
            info = await self._conn.execute_fetchall(f'PRAGMA index_info("{row[1]}")')
            columns.append((row[1], tuple(c[2] for c in sorted(info))))
        return columns

    async def _ensure_indexes(self) -> None:
        for table, wanted in INDEXES:
            have = await self._index_columns(table)
            # The narrowest index that starts with the wanted columns.
            fits = sorted((len(cols), name) for name, cols in have if cols[: len(wanted)] == wanted)
            marker = f"@BY {table}.{wanted[0]}@"
            if fits:
                self.hints.setdefault(marker, fits[0][1])
                continue
            name = f"bench_baseline_{table}_{'_'.join(wanted)}"
            self.hints.setdefault(marker, name)
            columns = ", ".join(f'"{c}"' for c in wanted)
            sql = f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})'
            if self.postgres:
                await self._pool.execute(sql)
                await self._pool.execute(f'ANALYZE "{table}"')
            else:
                await self._conn.execute(sql)
                await self._conn.execute(f'ANALYZE "{table}"')
                await self._conn.commit()
            self.created.append(name)


def one_of(sql: str, postgres: bool) -> str:
    """`@IN@(SELECT …)` as each planner serves it best: `= ANY(ARRAY(SELECT …))` on PostgreSQL (the
    subquery runs once and its array filters an index; `IN` is planned as a semi-join that
    misjudges a customer's share: a count of 274,780 tickets took 280 ms that way, 60 ms so), and
    `IN (SELECT …)` on SQLite."""
    while (start := sql.find("@IN@(")) >= 0:
        depth, end = 0, start + 4
        for end in range(start + 4, len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            if depth == 0:
                break
        inner = sql[start + 4 : end + 1]
        sql = sql[:start] + (f"= ANY(ARRAY{inner})" if postgres else f"IN {inner}") + sql[end + 1 :]
    return sql


def respond(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def unauthenticated() -> Response:
    return respond({"data": None, "errors": [{"message": "Sign in", "extensions": {"code": "UNAUTHENTICATED"}}]})


class Signer:
    """Download URLs as `files.signing.signed_url` builds them (the key prepared once)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seconds = settings.download_url_minutes * 60

    def path(self, kind: str, pk: int) -> str:
        expires = int(time.time() + self.seconds)
        signature = sign(self.settings, f"{kind}:{pk}:{expires}")
        return f"{self.settings.public_url}/files/{kind}/{pk}?expires={expires}&signature={signature}"


VIEWER_SQL = (
    'SELECT a."id", a."kind", e."id", cu."id", cu."customer_id", g."permissions" FROM "account" a '
    'LEFT JOIN "employee" e ON e."account_id" = a."id" '
    'LEFT JOIN "customer_user" cu ON cu."account_id" = a."id" '
    'LEFT JOIN "employee_permission_group" eg ON eg."employee_id" = e."id" '
    'LEFT JOIN "permission_group" g ON g."id" = eg."permissiongroup_id" '
    'WHERE a."id" = ? AND a."is_active" = TRUE AND a."token_version" = ?'
)


async def viewer(request: Request) -> dict[str, Any] | None:
    """The bearer's account, employee or customer user and permissions (one statement), or None."""
    state = request.app.state
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        header = jwt.get_unverified_header(token)
        key = state.keys.get(header.get("kid"))
        if header.get("alg") != ALGORITHM or key is None:
            return None
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER, options={"require": REQUIRED_CLAIMS}
        )
        if claims["typ"] != "access":
            return None
        account_id, version = int(claims["sub"]), int(claims["ver"])
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None
    rows = await state.db.rows(VIEWER_SQL, account_id, version)
    if not rows or rows[0][1] != claims["kind"]:
        return None
    permissions: set[str] = set()
    for row in rows:
        if row[5] is not None:
            permissions.update(json.loads(row[5]) if isinstance(row[5], str) else row[5])
    first = rows[0]
    return {
        "id": first[0],
        "employee_id": first[2] if first[1] == "employee" else None,
        "customer_user_id": first[3] if first[1] == "customer_user" else None,
        "customer_id": first[4],
        "permissions": permissions,
    }


# A customer user's scope: tickets on objects assigned to them (of their
# customer) whose type is enabled for the customer and no absence request.
def customer_scope_sql(t: str) -> str:
    return (
        f'{t}."object_id" @IN@(SELECT uo."object_id" FROM "customer_user_object" uo '
        'JOIN "site_object" so ON so."id" = uo."object_id" WHERE uo."customer_user_id" = ? AND so."customer_id" = ?) '
        f'AND {t}."ticket_type_id" @IN@(SELECT ct."ticket_type_id" FROM "customer_ticket_type" ct '
        'JOIN "ticket_type" x ON x."id" = ct."ticket_type_id" '
        'WHERE ct."customer_id" = ? AND x."is_absence_request" = FALSE)'
    )


CUSTOMER_COUNT = f'(SELECT COUNT(*) FROM "ticket" n WHERE {customer_scope_sql("n")})'
# An employee without MANAGE_ABSENCES: everything but other people's absence
# requests; the count is every ticket minus those (an index range on the type).
EMPLOYEE_SCOPE = (
    '(t."ticket_type_id" NOT IN (SELECT "id" FROM "ticket_type" WHERE "is_absence_request" = TRUE) '
    'OR t."created_by_id" = ? OR t."assignee_id" = ?)'
)
EMPLOYEE_COUNT = (
    '((SELECT COUNT(*) FROM "ticket") - (SELECT COUNT(*) FROM "ticket" h @BY ticket.ticket_type_id@ '
    'WHERE h."ticket_type_id" IN '
    '(SELECT "id" FROM "ticket_type" WHERE "is_absence_request" = TRUE) '
    'AND h."created_by_id" <> ? AND (h."assignee_id" IS NULL OR h."assignee_id" <> ?)))'
)
EVERY_COUNT = '(SELECT COUNT(*) FROM "ticket")'

# The page is found by walking the (created_at, id) index; only its rows
# are joined to their relations; the total rides along (evaluated once).
PROBE_COLUMNS = (
    't."id", t."number", t."title", t."status", t."created_at", t."due_date", t."object_id", o."name", '
    't."ticket_type_id", tt."name", aa."name"'
)
PROBE_FROM = (
    'FROM "ticket" t @BY ticket.created_at@ JOIN "site_object" o ON o."id" = t."object_id" '
    'JOIN "ticket_type" tt ON tt."id" = t."ticket_type_id" '
    'LEFT JOIN "employee" e ON e."id" = t."assignee_id" LEFT JOIN "account" aa ON aa."id" = e."account_id" '
)
ORDER = 'ORDER BY t."created_at" DESC, t."id" DESC LIMIT ?'


def customer_scope(me: dict[str, Any]) -> tuple[int, int, int]:
    return me["customer_user_id"], me["customer_id"], me["customer_id"]


async def _customer_page(db: Db, me: dict[str, Any], columns: str, first: int) -> tuple[list[Any], int]:
    scope = customer_scope(me)
    sql = f"SELECT {columns}, {CUSTOMER_COUNT} {PROBE_FROM}WHERE {customer_scope_sql('t')} {ORDER}"
    rows = await db.rows(sql, *scope, *scope, first)
    if rows:
        return rows, rows[0][-1]
    return rows, (await db.rows(f"SELECT {CUSTOMER_COUNT}", *scope))[0][0]


def probe_node(r: Any) -> dict[str, Any]:
    return {
        "id": gid("Ticket", r[0]),
        "number": r[1],
        "title": r[2],
        "status": r[3],
        "createdAt": iso(r[4]),
        "dueDate": iso(r[5]),
        "object": {"id": gid("SiteObject", r[6]), "name": r[7]},
        "ticketType": {"id": gid("TicketType", r[8]), "name": r[9]},
        "assignee": {"name": r[10]} if r[10] is not None else None,
    }


def connection(total: int, nodes: list[dict[str, Any]]) -> Response:
    return respond({"data": {"tickets": {"totalCount": total, "edges": [{"node": n} for n in nodes]}}})


async def probe(request: Request) -> Response:
    """The issue's probe: a customer user's `tickets(first: 50)` with ids, dates, object, type and assignee."""
    me = await viewer(request)
    if me is None or me["customer_user_id"] is None:
        return unauthenticated()
    first = int(request.query_params.get("first", "50"))
    rows, total = await _customer_page(request.app.state.db, me, PROBE_COLUMNS, first)
    return connection(total, [probe_node(r) for r in rows])


async def employee_list(request: Request) -> Response:
    """The probe's fields for an employee's newest tickets (absence requests scoped unless MANAGE_ABSENCES)."""
    me = await viewer(request)
    if me is None or me["employee_id"] is None:
        return unauthenticated()
    db: Db = request.app.state.db
    first = int(request.query_params.get("first", "50"))
    if "MANAGE_ABSENCES" in me["permissions"]:
        rows = await db.rows(f"SELECT {PROBE_COLUMNS}, {EVERY_COUNT} {PROBE_FROM}{ORDER}", first)
        count_sql, params = f"SELECT {EVERY_COUNT}", ()
    else:
        params = (me["id"], me["employee_id"])
        rows = await db.rows(
            f"SELECT {PROBE_COLUMNS}, {EMPLOYEE_COUNT} {PROBE_FROM}WHERE {EMPLOYEE_SCOPE} {ORDER}",
            *params,
            *params,
            first,
        )
        count_sql = f"SELECT {EMPLOYEE_COUNT}"
    total = rows[0][-1] if rows else (await db.rows(count_sql, *params))[0][0]
    return connection(total, [probe_node(r) for r in rows])


# The sync read: the employee's scope, changed after an instant, oldest change first (the
# (updated_at, id) index); no count (a sync client does not show one).
SYNC_AFTER = datetime(2026, 6, 1, tzinfo=UTC)


async def sync_read(request: Request) -> Response:
    """An employee's `tickets(first: 50, orderBy: UPDATED_AT, descending: false, filter: {updatedAfter})`."""
    me = await viewer(request)
    if me is None or me["employee_id"] is None:
        return unauthenticated()
    db: Db = request.app.state.db
    first = int(request.query_params.get("first", "50"))
    after: Any = SYNC_AFTER if db.postgres else str(SYNC_AFTER)
    columns = 't."id", t."number", t."title", t."status", t."updated_at"'
    if "MANAGE_ABSENCES" in me["permissions"]:
        scope, params = "TRUE", ()
    else:
        scope, params = EMPLOYEE_SCOPE, (me["id"], me["employee_id"])
    rows = await db.rows(
        f'SELECT {columns} FROM "ticket" t @BY ticket.updated_at@ WHERE t."updated_at" > ? AND {scope} '
        'ORDER BY t."updated_at", t."id" LIMIT ?',
        after,
        *params,
        first + 1,
    )
    nodes = [
        {"id": gid("Ticket", r[0]), "number": r[1], "title": r[2], "status": r[3], "updatedAt": iso(r[4])}
        for r in rows[:first]
    ]
    edges = [{"node": n} for n in nodes]
    return respond({"data": {"tickets": {"edges": edges, "pageInfo": {"hasNextPage": len(rows) > first}}}})


LIST_COLUMNS = (
    't."id", t."number", t."title", t."status", t."created_at", o."name", tt."name", aa."name", '
    '(SELECT COUNT(*) FROM "comment" c WHERE c."ticket_id" = t."id" AND c."internal" = FALSE)'
)


def attachments_sql(n: int) -> str:
    marks = ", ".join("?" for _ in range(n))
    return (
        'SELECT "id", "ticket_id", "filename", "content_type", "size", "created_at" FROM "attachment" '
        f'WHERE "ticket_id" IN ({marks})'
    )


async def ticket_list(request: Request) -> Response:
    """A customer user's newest tickets with comment counts and attachments, as the LIST scenario asks."""
    me = await viewer(request)
    if me is None or me["customer_user_id"] is None:
        return unauthenticated()
    db: Db = request.app.state.db
    signer: Signer = request.app.state.signer
    first = int(request.query_params.get("first", "50"))
    rows, total = await _customer_page(db, me, LIST_COLUMNS, first)
    files: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        # A few dozen rows: ordered here (created, id) rather than by a sort the planner may not pick.
        found = await db.rows(attachments_sql(len(rows)), *[r[0] for r in rows])
        for a in sorted(found, key=lambda a: (a[5], a[0])):
            files[a[1]].append(
                {"filename": a[2], "contentType": a[3], "size": a[4], "downloadUrl": signer.path("attachment", a[0])}
            )
    edges = [
        {
            "node": {
                "id": gid("Ticket", r[0]),
                "number": r[1],
                "title": r[2],
                "status": r[3],
                "createdAt": iso(r[4]),
                "object": {"name": r[5]},
                "ticketType": {"name": r[6]},
                "assignee": {"name": r[7]} if r[7] is not None else None,
                "commentCount": r[8],
                "attachments": files.get(r[0], []),
            }
        }
        for r in rows
    ]
    last = rows[-1] if rows else None
    page_info = {
        "hasNextPage": len(rows) < total,
        "endCursor": cursor(signer.settings, last[4], last[0]) if last else None,
    }
    return respond({"data": {"tickets": {"totalCount": total, "pageInfo": page_info, "edges": edges}}})


DETAIL_SQL = (
    'SELECT t."id", t."number", t."title", t."description", t."status", t."created_at", t."updated_at", '
    't."due_date", o."name", cu."name", tt."name", aa."name", ca."name" '
    'FROM "ticket" t JOIN "site_object" o ON o."id" = t."object_id" '
    'JOIN "customer" cu ON cu."id" = o."customer_id" JOIN "ticket_type" tt ON tt."id" = t."ticket_type_id" '
    'LEFT JOIN "employee" e ON e."id" = t."assignee_id" LEFT JOIN "account" aa ON aa."id" = e."account_id" '
    'LEFT JOIN "account" ca ON ca."id" = t."created_by_id" '
    'WHERE t."id" = ?'
)
COMMENTS_SQL = (
    'SELECT c."id", c."body", c."internal", c."created_at", a."name" FROM "comment" c '
    'LEFT JOIN "account" a ON a."id" = c."author_id" WHERE c."ticket_id" = ? ORDER BY c."created_at", c."id"'
)
ATTACHMENTS_SQL = 'SELECT "id", "filename", "size" FROM "attachment" WHERE "ticket_id" = ? ORDER BY "created_at", "id"'


def _named(name: Any) -> dict[str, Any] | None:
    return {"name": name} if name is not None else None


async def ticket_detail(request: Request) -> Response:
    """One ticket for an employee with its first 20 comments, as the DETAIL scenario asks."""
    me = await viewer(request)
    if me is None or me["employee_id"] is None:
        return unauthenticated()
    db: Db = request.app.state.db
    signer: Signer = request.app.state.signer
    pk = int(request.query_params["id"])
    if "MANAGE_ABSENCES" in me["permissions"]:
        found = await db.rows(DETAIL_SQL, pk)
    else:
        found = await db.rows(f"{DETAIL_SQL} AND {EMPLOYEE_SCOPE}", pk, me["id"], me["employee_id"])
    if not found:
        return respond({"data": {"node": None}})
    t = found[0]
    comments = await db.rows(COMMENTS_SQL, pk)
    attachments = await db.rows(ATTACHMENTS_SQL, pk)
    node = {
        "id": gid("Ticket", t[0]),
        "number": t[1],
        "title": t[2],
        "description": t[3],
        "status": t[4],
        "createdAt": iso(t[5]),
        "updatedAt": iso(t[6]),
        "dueDate": iso(t[7]),
        "object": {"name": t[8], "customer": {"name": t[9]}},
        "ticketType": {"name": t[10]},
        "assignee": _named(t[11]),
        "createdBy": _named(t[12]),
        "attachments": [
            {"filename": a[1], "size": a[2], "downloadUrl": signer.path("attachment", a[0])} for a in attachments
        ],
        "comments": {
            "totalCount": len(comments),
            "edges": [
                {
                    "node": {
                        "id": gid("Comment", c[0]),
                        "body": c[1],
                        "internal": bool(c[2]),
                        "createdAt": iso(c[3]),
                        "author": {"name": c[4]},
                    }
                }
                for c in comments[:20]
            ],
        },
    }
    return respond({"data": {"node": node}})


# Issue 25: 20 objects by name, each with its newest tickets in the viewer's scope and their count.
OBJECTS_SQL = 'SELECT o."id", o."name" FROM "site_object" o '
CUSTOMER_OBJECTS = (
    'WHERE o."customer_id" = ? AND o."id" IN (SELECT uo."object_id" FROM "customer_user_object" uo '
    'JOIN "site_object" so ON so."id" = uo."object_id" WHERE uo."customer_user_id" = ? AND so."customer_id" = ?) '
)
OBJECTS_ORDER = 'ORDER BY o."name", o."id" LIMIT ?'
OBJECT_TICKET_COLUMNS = 't."id", t."number", t."title", t."status", t."created_at"'


def object_tickets_sql(postgres: bool, scope: str, objects: int, count: str | None = None) -> str:
    """Each object's newest tickets (`first` of them, the limit is the last parameter) and its count.

    PostgreSQL: per object, its count and its page by a LATERAL walk of (object_id, …, created_at);
    SQLite has no LATERAL: one window over the objects' tickets. `count`: the count's own expression
    for one object `o."id"` (its parameters first), else it counts `scope`.
    """
    if postgres:
        counted = count or f'(SELECT COUNT(*) FROM "ticket" t WHERE t."object_id" = o."id" AND {scope})'
        return (
            # OFFSET 0: the count stays a subquery run once per object, not one per row of its page.
            f'SELECT o."id", c."n", x.* FROM unnest(?::int[]) AS o("id") '
            f'CROSS JOIN LATERAL (SELECT {counted} AS "n" OFFSET 0) c '
            f'LEFT JOIN LATERAL (SELECT {OBJECT_TICKET_COLUMNS} FROM "ticket" t WHERE t."object_id" = o."id" '
            f'AND {scope} ORDER BY t."created_at" DESC, t."id" DESC LIMIT ?) x ON TRUE'
        )
    marks = ", ".join("?" for _ in range(objects))
    return (
        f'SELECT "object_id", "n", "id", "number", "title", "status", "created_at" FROM (SELECT t."object_id", '
        f'{OBJECT_TICKET_COLUMNS}, COUNT(*) OVER (PARTITION BY t."object_id") AS "n", ROW_NUMBER() OVER '
        f'(PARTITION BY t."object_id" ORDER BY t."created_at" DESC, t."id" DESC) AS "r" FROM "ticket" t '
        f'WHERE t."object_id" IN ({marks}) AND {scope}) WHERE "r" <= ?'
    )


# An employee's count on one object: all its tickets (an index-only range) minus other people's
# absence requests (a range of (object_id, ticket_type_id, …)), as EMPLOYEE_COUNT does for all.
EMPLOYEE_OBJECT_COUNT = (
    '((SELECT COUNT(*) FROM "ticket" a WHERE a."object_id" = o."id") - (SELECT COUNT(*) FROM "ticket" h '
    'WHERE h."object_id" = o."id" AND h."ticket_type_id" IN '
    '(SELECT "id" FROM "ticket_type" WHERE "is_absence_request" = TRUE) '
    'AND h."created_by_id" <> ? AND (h."assignee_id" IS NULL OR h."assignee_id" <> ?)))'
)


async def object_tickets(request: Request) -> Response:
    """`objects(first: 20)` with each object's `tickets(first: N)` (id, number, title, status, createdAt, count)."""
    me = await viewer(request)
    if me is None:
        return unauthenticated()
    db: Db = request.app.state.db
    first = int(request.query_params.get("first", "5"))
    if me["customer_user_id"] is not None:
        scope, scope_params = customer_scope_sql("t"), customer_scope(me)
        objects = await db.rows(
            OBJECTS_SQL + CUSTOMER_OBJECTS + OBJECTS_ORDER, me["customer_id"], *customer_scope(me)[:2], 20
        )
    elif me["employee_id"] is not None:
        if "MANAGE_ABSENCES" in me["permissions"]:
            scope, scope_params = "TRUE", ()
        else:
            scope, scope_params = EMPLOYEE_SCOPE, (me["id"], me["employee_id"])
        objects = await db.rows(OBJECTS_SQL + OBJECTS_ORDER, 20)
    else:
        return unauthenticated()
    ids = [o[0] for o in objects]
    tickets: dict[int, list[Any]] = defaultdict(list)
    counts: dict[int, int] = {}
    if ids:
        if db.postgres and scope == EMPLOYEE_SCOPE:
            sql = object_tickets_sql(True, scope, len(ids), EMPLOYEE_OBJECT_COUNT)
            rows = await db.rows(sql, ids, *scope_params, *scope_params, first)
        elif db.postgres:  # the scope appears twice: in the count and in the page
            rows = await db.rows(object_tickets_sql(True, scope, len(ids)), ids, *scope_params, *scope_params, first)
        else:
            sql = object_tickets_sql(False, scope, len(ids))
            rows = await db.rows(sql, *ids, *scope_params, first)
        for r in rows:
            counts[r[0]] = r[1]
            if r[2] is not None:
                tickets[r[0]].append(r[2:])
    nodes = [
        {
            "id": gid("SiteObject", pk),
            "name": name,
            "tickets": {
                "totalCount": counts.get(pk, 0),
                "edges": [
                    {
                        "node": {
                            "id": gid("Ticket", t[0]),
                            "number": t[1],
                            "title": t[2],
                            "status": t[3],
                            "createdAt": iso(t[4]),
                        }
                    }
                    for t in sorted(tickets.get(pk, []), key=lambda t: (t[4], t[0]), reverse=True)
                ],
            },
        }
        for pk, name in objects
    ]
    return respond({"data": {"objects": {"edges": [{"node": n} for n in nodes]}}})


async def statements(request: Request) -> Response:
    db: Db = request.app.state.db
    return respond({"statements": db.statements, "createdIndexes": db.created})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        db = Db(settings.database_url)
        await db.open()
        app.state.db = db
        try:
            yield
        finally:
            await db.close()

    app = Starlette(
        routes=[
            Route("/list", ticket_list, methods=["POST"]),
            Route("/probe", probe, methods=["POST"]),
            Route("/employee-list", employee_list, methods=["POST"]),
            Route("/detail", ticket_detail, methods=["POST"]),
            Route("/sync", sync_read, methods=["POST"]),
            Route("/object-tickets", object_tickets, methods=["POST"]),
            Route("/statements", statements, methods=["GET"]),
            Route("/health", lambda r: Response("ok"), methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = {key_id(k): k for k in settings.secret_keys}
    app.state.signer = Signer(settings)
    return app
