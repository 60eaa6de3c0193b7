"""The baseline: a hand-written Starlette + SQL endpoint (not part of the product).

It answers the benchmark's questions for the same viewers as the GraphQL API
— same token check, same row scoping, same fields — and returns
byte-identical JSON, so the ratio measures what GraphQL, the ORM and our
policy layer cost on top of the SQL a careful person would write by hand.
It ignores the request body: each route answers one fixed question.

    uvicorn --factory bench.baseline:create_app   (settings from the SITEDESK_* environment)
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.connection import get_connection

from core.database import database
from core.settings import Settings, get_settings
from files.signing import signed_path
from permissions.tokens import InvalidToken, read_access_token
from schema.relay import encode_cursor


def gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def cursor(settings: Settings, row: dict[str, Any]) -> str:
    """The API's keyset cursor of a ticket in the default order (newest first)."""
    created = row["created_at"]
    if not isinstance(created, datetime):
        created = datetime.fromisoformat(str(created))
    return encode_cursor(settings, "tickets:CREATED_AT:desc", (created.astimezone(UTC), row["id"]))


def iso(value: Any) -> str | None:
    """DateTime/Date as the API renders them (ISO 8601 with offset)."""
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    return (date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)).isoformat()


class Db:
    """Raw SQL written with `?`; numbered for PostgreSQL."""

    def __init__(self) -> None:
        self.connection = get_connection("default")
        self.postgres = self.connection.capabilities.dialect == "postgres"
        self._cache: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        if not self.postgres:
            return sql
        found = self._cache.get(sql)
        if found is None:
            parts = sql.split("?")
            found = parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], 1))
            found = found.replace("= 0", "= false").replace("= 1", "= true")
            self._cache[sql] = found
        return found

    async def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return await self.connection.execute_query_dict(self._sql(sql), list(params))


def respond(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def unauthenticated() -> Response:
    return respond({"data": None, "errors": [{"message": "Sign in", "extensions": {"code": "UNAUTHENTICATED"}}]})


async def viewer(db: Db, settings: Settings, request: Request) -> dict[str, Any] | None:
    """Account, role ids and permissions of the bearer, in one query."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        claims = read_access_token(settings, token.strip())
    except InvalidToken:
        return None
    rows = await db.rows(
        'SELECT a."id", a."kind", e."id" AS employee_id, cu."id" AS customer_user_id, '
        'cu."customer_id", g."permissions" FROM "account" a '
        'LEFT JOIN "employee" e ON e."account_id" = a."id" '
        'LEFT JOIN "customer_user" cu ON cu."account_id" = a."id" '
        'LEFT JOIN "employee_permission_group" eg ON eg."employee_id" = e."id" '
        'LEFT JOIN "permission_group" g ON g."id" = eg."permissiongroup_id" '
        'WHERE a."id" = ? AND a."is_active" = 1 AND a."token_version" = ?',
        claims.account_id,
        claims.token_version,
    )
    if not rows or rows[0]["kind"] != claims.kind.value:
        return None
    permissions: set[str] = set()
    for row in rows:
        if row["permissions"] is not None:
            value = row["permissions"]
            permissions.update(json.loads(value) if isinstance(value, str) else value)
    return {**rows[0], "permissions": permissions}


SCOPE = (
    'FROM "ticket" t2 JOIN "site_object" o2 ON o2."id" = t2."object_id" '
    'WHERE t2."object_id" IN (SELECT "object_id" FROM "customer_user_object" WHERE "customer_user_id" = ?) '
    'AND o2."customer_id" = ? AND t2."ticket_type_id" IN (SELECT ct."ticket_type_id" FROM "customer_ticket_type" ct '
    'JOIN "ticket_type" x ON x."id" = ct."ticket_type_id" WHERE ct."customer_id" = ? AND x."is_absence_request" = 0)'
)
# The page's ids first (sorted and limited inside the scope), then the joins
# for those rows only; the total rides along as a scalar subquery.
LIST_SQL = (
    'SELECT t."id", t."number", t."title", t."status", t."created_at", o."name" AS object_name, '
    'tt."name" AS type_name, aa."name" AS assignee_name, '
    '(SELECT COUNT(*) FROM "comment" c WHERE c."ticket_id" = t."id" AND c."internal" = 0) AS comment_count, '
    f"(SELECT COUNT(*) {SCOPE}) AS total "
    'FROM "ticket" t JOIN "site_object" o ON o."id" = t."object_id" '
    'JOIN "ticket_type" tt ON tt."id" = t."ticket_type_id" '
    'LEFT JOIN "employee" e ON e."id" = t."assignee_id" LEFT JOIN "account" aa ON aa."id" = e."account_id" '
    f'WHERE t."id" IN (SELECT t2."id" {SCOPE} ORDER BY t2."created_at" DESC, t2."id" DESC LIMIT ?) '
    'ORDER BY t."created_at" DESC, t."id" DESC'
)


def attachments_sql(n: int) -> str:
    marks = ", ".join("?" for _ in range(n))
    return (
        'SELECT "id", "ticket_id", "filename", "content_type", "size" FROM "attachment" '
        f'WHERE "ticket_id" IN ({marks}) ORDER BY "created_at", "id"'
    )


async def ticket_list(request: Request) -> Response:
    """A customer user's newest tickets (`first` from the query string) as the LIST scenario asks."""
    db: Db = request.app.state.db
    settings: Settings = request.app.state.settings
    me = await viewer(db, settings, request)
    if me is None or me["customer_user_id"] is None:
        return unauthenticated()
    first = int(request.query_params.get("first", "50"))
    scope = (me["customer_user_id"], me["customer_id"], me["customer_id"])
    rows = await db.rows(LIST_SQL, *scope, *scope, first + 0)
    total = rows[0]["total"] if rows else (await db.rows(f"SELECT COUNT(*) AS n {SCOPE}", *scope))[0]["n"]
    files: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        ids = [r["id"] for r in rows]
        for a in await db.rows(attachments_sql(len(ids)), *ids):
            files[a["ticket_id"]].append(
                {
                    "filename": a["filename"],
                    "contentType": a["content_type"],
                    "size": a["size"],
                    "downloadUrl": signed_path(settings, "attachment", a["id"]),
                }
            )
    edges = [
        {
            "node": {
                "id": gid("Ticket", r["id"]),
                "number": r["number"],
                "title": r["title"],
                "status": r["status"],
                "createdAt": iso(r["created_at"]),
                "object": {"name": r["object_name"]},
                "ticketType": {"name": r["type_name"]},
                "assignee": {"name": r["assignee_name"]} if r["assignee_name"] is not None else None,
                "commentCount": r["comment_count"],
                "attachments": files.get(r["id"], []),
            }
        }
        for r in rows
    ]
    return respond(
        {
            "data": {
                "tickets": {
                    "totalCount": total,
                    "pageInfo": {
                        "hasNextPage": len(rows) < total,
                        "endCursor": cursor(settings, rows[-1]) if rows else None,
                    },
                    "edges": edges,
                }
            }
        }
    )


async def ticket_detail(request: Request) -> Response:
    """One ticket for an employee with its first 20 comments, as the DETAIL scenario asks."""
    db: Db = request.app.state.db
    settings: Settings = request.app.state.settings
    me = await viewer(db, settings, request)
    if me is None or me["employee_id"] is None:
        return unauthenticated()
    pk = int(request.query_params["id"])
    scope, params = "", [pk]
    if "MANAGE_ABSENCES" not in me["permissions"]:
        scope = (
            ' AND (t."ticket_type_id" NOT IN (SELECT "id" FROM "ticket_type" WHERE "is_absence_request" = 1)'
            ' OR t."created_by_id" = ? OR t."assignee_id" = ?)'
        )
        params += [me["id"], me["employee_id"]]
    found = await db.rows(
        'SELECT t."id", t."number", t."title", t."description", t."status", t."created_at", t."updated_at", '
        't."due_date", o."name" AS object_name, cu."name" AS customer_name, tt."name" AS type_name, '
        'aa."name" AS assignee_name, ca."name" AS creator_name '
        'FROM "ticket" t JOIN "site_object" o ON o."id" = t."object_id" '
        'JOIN "customer" cu ON cu."id" = o."customer_id" JOIN "ticket_type" tt ON tt."id" = t."ticket_type_id" '
        'LEFT JOIN "employee" e ON e."id" = t."assignee_id" LEFT JOIN "account" aa ON aa."id" = e."account_id" '
        'LEFT JOIN "account" ca ON ca."id" = t."created_by_id" '
        f'WHERE t."id" = ?{scope}',
        *params,
    )
    if not found:
        return respond({"data": {"node": None}})
    t = found[0]
    comments = await db.rows(
        'SELECT c."id", c."body", c."internal", c."created_at", a."name" AS author_name FROM "comment" c '
        'LEFT JOIN "account" a ON a."id" = c."author_id" WHERE c."ticket_id" = ? ORDER BY c."created_at", c."id"',
        pk,
    )
    attachments = await db.rows(
        'SELECT "id", "filename", "size" FROM "attachment" WHERE "ticket_id" = ? ORDER BY "created_at", "id"', pk
    )
    return respond(
        {
            "data": {
                "node": {
                    "id": gid("Ticket", t["id"]),
                    "number": t["number"],
                    "title": t["title"],
                    "description": t["description"],
                    "status": t["status"],
                    "createdAt": iso(t["created_at"]),
                    "updatedAt": iso(t["updated_at"]),
                    "dueDate": iso(t["due_date"]),
                    "object": {"name": t["object_name"], "customer": {"name": t["customer_name"]}},
                    "ticketType": {"name": t["type_name"]},
                    "assignee": {"name": t["assignee_name"]} if t["assignee_name"] is not None else None,
                    "createdBy": {"name": t["creator_name"]} if t["creator_name"] is not None else None,
                    "attachments": [
                        {
                            "filename": a["filename"],
                            "size": a["size"],
                            "downloadUrl": signed_path(settings, "attachment", a["id"]),
                        }
                        for a in attachments
                    ],
                    "comments": {
                        "totalCount": len(comments),
                        "edges": [
                            {
                                "node": {
                                    "id": gid("Comment", c["id"]),
                                    "body": c["body"],
                                    "internal": bool(c["internal"]),
                                    "createdAt": iso(c["created_at"]),
                                    "author": {"name": c["author_name"]},
                                }
                            }
                            for c in comments[:20]
                        ],
                    },
                }
            }
        }
    )


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        if manage_database:
            async with database(settings):
                app.state.db = Db()
                yield
        else:
            app.state.db = Db()
            yield

    app = Starlette(
        routes=[
            Route("/list", ticket_list, methods=["POST"]),
            Route("/detail", ticket_detail, methods=["POST"]),
            Route("/health", lambda r: Response("ok"), methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
