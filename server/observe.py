"""What an operator sees of each GraphQL request: Prometheus metrics (`GET /metrics`) and one log line.

- `note_result` (called by the GraphQL view and the thin path) notes the operation name and the outcome code
  of each executed request in the ASGI scope.
- `Observe` (ASGI middleware) times every `POST /graphql`, tallies its SQL statements and their
  time (the Tortoise clients' `execute_*` methods, timed by `install_sql_timing`), counts it in
  `sitedesk_requests_total` & co. and logs one `sitedesk.request` line with request id, operation,
  viewer kind and account id, duration and outcome — never the query, variables or tokens.
- `metrics` serves the families of core/metrics.py, plus the outbox backlogs measured at scrape
  time, to a scraper holding `SITEDESK_METRICS_TOKEN`.

Operation names are labels only when bounded: a name of an operation that validated, of at most
64 identifier characters, among the first `MAX_OPERATION_NAMES` names this process saw; anything
else (anonymous operations, unknown or invalid ones, names past the cap) is `other`.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import OUTBOXES, REGISTRY, REQUEST_DURATION, REQUESTS, SQL_SECONDS, SQL_STATEMENTS, register_outbox
from core.settings import Settings
from models.http import PersistedQuery
from server.logs import scrub_access_log

logger = logging.getLogger("sitedesk.request")
OPERATION_KEY = "sitedesk.operation"
OUTCOME_KEY = "sitedesk.outcome"
VIEWER_KEY = "sitedesk.viewer"  # set by server/app.py's GraphQL view
OTHER = "other"
scrub_access_log()  # on import: whatever configures logging, the access log is scrubbed
MAX_OPERATION_NAMES = 200
NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
OUTCOME = re.compile(r"^[A-Z][A-Z_]{0,39}$")
# `query Name`, `mutation Name(`, `subscription Name {` at the start of a definition.
DEFINITION = re.compile(r"(?:^|[}\s])(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
STATUS_OUTCOMES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 413: "PAYLOAD_TOO_LARGE", 503: "SERVICE_UNAVAILABLE"}


class OperationNames:
    """The bounded set of operation names used as labels (per process)."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if not name or not NAME.match(name):
            return OTHER
        with self.lock:
            if name in self.seen:
                return name
            if len(self.seen) >= self.limit:
                return OTHER
            self.seen.add(name)
            return name


OPERATION_NAMES = OperationNames()


def operation_name(requested: str | None, query: str | None) -> str | None:
    """The name the client asked for, or the one named operation of the document."""
    if requested:
        return requested
    if not query:
        return None
    found = DEFINITION.findall(query)
    return found[0][1] if len(found) == 1 else None


def note_result(scope: Scope, requested: str | None, query: str | None, result: Any) -> None:
    """Keep the (bounded) operation label and outcome code of an executed request in `scope`."""
    errors = list(getattr(result, "errors", None) or [])
    validated = getattr(result, "data", None) is not None or any(getattr(e, "path", None) for e in errors)
    scope[OPERATION_KEY] = OPERATION_NAMES.label(operation_name(requested, query)) if validated else OTHER
    if not errors:
        scope[OUTCOME_KEY] = "OK"
        return
    code = (getattr(errors[0], "extensions", None) or {}).get("code")
    scope[OUTCOME_KEY] = code if isinstance(code, str) and OUTCOME.match(code) else "ERROR"


# ---------------------------------------------------------------- SQL per request


@dataclass
class Tally:
    statements: int = 0
    seconds: float = 0.0


_TALLY: ContextVar[Tally | None] = ContextVar("sitedesk_sql_tally", default=None)
_INSIDE: ContextVar[bool] = ContextVar("sitedesk_sql_inside", default=False)
SQL_METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict", "execute_script")


def _timed(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        tally = _TALLY.get()
        if tally is None or _INSIDE.get():  # outside a request, or a statement calling another
            return await method(self, *args, **kwargs)
        inside = _INSIDE.set(True)
        started = time.perf_counter()
        try:
            return await method(self, *args, **kwargs)
        finally:
            tally.statements += 1
            tally.seconds += time.perf_counter() - started
            _INSIDE.reset(inside)

    timed.__sitedesk_timed__ = True  # type: ignore[attr-defined]
    return timed


def install_sql_timing() -> None:
    """Time the statements of Tortoise's SQLite and asyncpg clients (idempotent)."""
    from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    for cls in (SqliteClient, SqliteTransactionWrapper, AsyncpgDBClient, TransactionWrapper):
        for name in SQL_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__sitedesk_timed__", False):
                setattr(cls, name, _timed(method))


# ---------------------------------------------------------------- the middleware


def _is_operation(scope: Scope) -> bool:
    """A GraphQL request: a POST, or a GET with a query string (a bare GET is the GraphiQL page)."""
    method = scope.get("method")
    return method == "POST" or (method == "GET" and bool(scope.get("query_string")))


class Observe:
    """Metrics and one log line per GraphQL request over HTTP (see the module's description)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        install_sql_timing()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != "/graphql" or not _is_operation(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        tally = Tally()
        token = _TALLY.set(tally)
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            _TALLY.reset(token)
            self.record(scope, status, time.perf_counter() - started, tally)

    @staticmethod
    def record(scope: Scope, status: int, seconds: float, tally: Tally) -> None:
        operation = scope.get(OPERATION_KEY) or OTHER
        outcome = scope.get(OUTCOME_KEY) or STATUS_OUTCOMES.get(status, "OK" if status < 400 else "ERROR")
        REQUESTS.labels(operation=operation, outcome=outcome).inc()
        REQUEST_DURATION.labels(operation=operation).observe(seconds)
        SQL_STATEMENTS.labels(operation=operation).observe(tally.statements)
        SQL_SECONDS.labels(operation=operation).observe(tally.seconds)
        viewer = scope.get(VIEWER_KEY)
        kind = getattr(getattr(viewer, "kind", None), "value", None)
        fields = {
            "request_id": scope.get("sitedesk.request_id"),
            "operation": operation,
            "outcome": outcome,
            "status": status,
            "viewer_kind": kind.lower() if isinstance(kind, str) else "anonymous",
            "account_id": getattr(viewer, "account_id", None),
            "duration_ms": round(seconds * 1000, 1),
            "sql_statements": tally.statements,
            "sql_ms": round(tally.seconds * 1000, 1),
        }
        logger.info(
            "graphql %s %s %s %.1f ms (%s SQL, %s %s) request %s",
            operation,
            outcome,
            status,
            seconds * 1000,
            tally.statements,
            fields["viewer_kind"],
            fields["account_id"] or "-",
            fields["request_id"],
            extra={"sitedesk": fields},
        )


# ---------------------------------------------------------------- GET /metrics


def _outbox_measure(table: str, waiting: tuple[str, ...]) -> Callable[[], Awaitable[tuple[int, float]]]:
    """How many rows of an outbox table wait (in one of the `waiting` statuses), and the oldest one's age."""
    statuses = ", ".join(f"'{status}'" for status in waiting)
    sql = f'SELECT COUNT(*) AS "backlog", MIN("created_at") AS "oldest" FROM "{table}" WHERE "status" IN ({statuses})'

    async def measure() -> tuple[int, float]:
        from tortoise.connection import get_connection

        rows = await get_connection("default").execute_query_dict(sql)
        backlog = int(rows[0]["backlog"] or 0) if rows else 0
        oldest = rows[0]["oldest"] if rows else None
        if isinstance(oldest, str):  # SQLite may hand back the stored text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        return backlog, max(age, 0.0)

    return measure


register_outbox("mail", _outbox_measure("outbox_mail", ("PENDING",)))
register_outbox("webhooks", _outbox_measure("webhook_delivery", ("PENDING", "RETRYING")))


class _Scrape(Collector):
    """This scrape's families: the processes' metrics and the outboxes measured just now."""

    def __init__(self, source: Any, outboxes: dict[str, tuple[int, float]], persisted: int | None = None) -> None:
        self.source = source
        self.outboxes = outboxes
        self.persisted = persisted

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()
        backlog = GaugeMetricFamily(
            "sitedesk_outbox_backlog", "Deliveries waiting in an outbox, by channel.", labels=["channel"]
        )
        oldest = GaugeMetricFamily(
            "sitedesk_outbox_oldest_age_seconds",
            "Age of the oldest delivery waiting in an outbox, by channel (0 when none waits).",
            labels=["channel"],
        )
        for channel, (count, age) in sorted(self.outboxes.items()):
            backlog.add_metric([channel], count)
            oldest.add_metric([channel], age)
        yield backlog
        yield oldest
        if self.persisted is not None:
            yield GaugeMetricFamily(
                "sitedesk_persisted_queries",
                "Persisted queries stored (the persisted_query table, shared by every process).",
                value=self.persisted,
            )


def _source() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


async def metrics(request: Request) -> Response:
    """Prometheus text format; 404 unless `SITEDESK_METRICS_TOKEN` is set, 401 without it as Bearer."""
    settings: Settings = request.app.state.settings
    if not settings.metrics_token:
        return JSONResponse({"error": "Not Found"}, status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), settings.metrics_token.encode()):
        return JSONResponse(
            {"error": "The metrics need Authorization: Bearer <SITEDESK_METRICS_TOKEN>."},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    outboxes: dict[str, tuple[int, float]] = {}
    for channel, measure in list(OUTBOXES.items()):
        try:
            outboxes[channel] = await measure()
        except Exception as exc:  # a channel whose table is missing or unreachable: leave it out
            logger.warning("outbox %s not measured: %s", channel, exc)
    persisted: int | None = None
    try:
        persisted = await PersistedQuery.all().count()
    except Exception as exc:  # unreachable database: left out of this scrape
        logger.warning("persisted queries not counted: %s", exc)
    body = generate_latest(_Scrape(_source(), outboxes, persisted))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
