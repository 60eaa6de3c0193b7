"""Database wiring: the Tortoise config built from settings, migrations, readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

from core.settings import Settings

MODEL_MODULES = [
    "models.accounts",
    "models.customers",
    "models.service_levels",
    "models.tickets",
    "models.documents",
    "models.notifications",
    "models.forms",
    "models.files",
    "models.webhooks",
    "models.api_tokens",
    "models.audit",
    "models.inbound_mail",
    "models.http",
    "models.personal_data",
]

# SQLite runs in one process behind one connection: waiting for a lock beats
# failing with "database is locked"; NORMAL sync is durable under WAL.
SQLITE_PRAGMAS = {"busy_timeout": "5000", "synchronous": "NORMAL", "foreign_keys": "ON", "journal_mode": "WAL"}
POSTGRES_POOL = {"minsize": "1", "maxsize": "10"}
# A ticket page joins about twelve tables. With the default collapse limits
# (8) PostgreSQL keeps the written join order and joins every ticket to its
# relations before it picks the page's rows; above them it starts from the
# page (found by the ordering index) and joins only those rows. JIT compiling
# pays off for long analytical statements, not for pages: it added 36 ms to a
# 400 ms search statement that the planner costed high.
POSTGRES_PLANNER = {"join_collapse_limit": "16", "from_collapse_limit": "16", "geqo_threshold": "20", "jit": "off"}
# asyncpg prepares every statement and keeps it per connection: PostgreSQL plans
# a prepared statement anew for its first five runs (2 ms for a ticket's detail,
# which joins the nine tables it selects; 4.5 ms with ten), then keeps a generic
# plan (0.03 ms). The cache
# holds every shape the compiled reads produce (asyncpg's default: 100 statements
# of at most 15 KiB, dropped after 300 s), so a statement is planned a handful of
# times per connection, not per request. Not more than 512: a search's text is a
# literal of its statement, so each search is a statement of its own, and each
# cached one holds its plan in the server's backend. (`plan_cache_mode=force_generic_plan`
# would plan once, but a generic plan guesses a third of the rows for
# `sla_next_check_at <= $1` and would scan every ticket at each service-level check.)
POSTGRES_STATEMENTS = {
    "statement_cache_size": 512,
    "max_cacheable_statement_size": 64 * 1024,
    "max_cached_statement_lifetime": 0,
}


class UnmigratedDatabase(Exception):
    """The database schema is behind the code's migrations."""


def connection_url(settings: Settings) -> str:
    """The database URL with the pragmas or pool options this service relies on."""
    url = settings.database_url
    parsed = urlparse(url)
    given = dict(parse_qsl(parsed.query))
    if parsed.scheme == "sqlite":
        raw = parsed.netloc + parsed.path
        if raw.startswith("//"):
            # `sqlite:////abs/path.db` (four slashes) means the same file as
            # three; Tortoise itself hangs on the doubled slash.
            raw = "/" + raw.lstrip("/")
            parsed = parsed._replace(netloc="", path=raw)
        path = Path(raw) if raw else None
        if path is not None and str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        wanted = {**SQLITE_PRAGMAS, **given}
    elif parsed.scheme in {"postgres", "postgresql", "asyncpg"}:
        wanted = {**POSTGRES_POOL, **given}
    else:
        raise ValueError(f"unsupported database URL scheme {parsed.scheme!r}")
    return parsed._replace(query=urlencode(wanted)).geturl()


def tortoise_config(settings: Settings) -> dict[str, Any]:
    url = connection_url(settings)
    connection: str | dict[str, Any] = url
    if not url.startswith("sqlite"):
        connection = expand_db_url(url)
        connection["credentials"]["server_settings"] = dict(POSTGRES_PLANNER)
        connection["credentials"].update(POSTGRES_STATEMENTS)
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(settings: Settings) -> None:
    """Apply every pending migration, then gather fresh planner statistics."""
    try:
        await run_migrations(config=tortoise_config(settings))
        await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
        await refresh_statistics(always=True)
    finally:
        await Tortoise.close_connections()


async def refresh_statistics(always: bool = False) -> None:
    """`ANALYZE` when the planner has no statistics yet (or `always`).

    Without statistics SQLite ignores the ordering indexes and sorts a
    viewer's whole scope for every page; PostgreSQL's autovacuum keeps them
    fresh afterwards, SQLite's `PRAGMA optimize` on shutdown.
    """
    connection = get_connection("default")
    if not always and await _has_statistics(connection):
        return
    await connection.execute_script("ANALYZE")


async def _has_statistics(connection: Any) -> bool:
    if connection.capabilities.dialect == "sqlite":
        rows = await connection.execute_query_dict(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        )
        if not rows[0]["n"]:
            return False
        rows = await connection.execute_query_dict("SELECT count(*) AS n FROM sqlite_stat1 WHERE tbl = 'ticket'")
        return bool(rows[0]["n"])
    rows = await connection.execute_query_dict(
        "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL AS analysed "
        "FROM pg_stat_user_tables WHERE relname = 'ticket'"
    )
    return bool(rows and rows[0]["analysed"])


async def pending_migrations() -> list[str]:
    """Names of migrations not yet applied (Tortoise must be initialised)."""
    executor = MigrationExecutor(get_connection("default"), {"models": {"migrations": "models.migrations"}})
    steps = await executor.plan()
    return [step.migration.name for step in steps if not step.backward]


async def ensure_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise UnmigratedDatabase(f"the database is not migrated ({len(pending)} pending); run `sitedesk migrate` first")


@asynccontextmanager
async def database(settings: Settings, *, require_migrated: bool = True) -> AsyncIterator[None]:
    """Open the ORM for the duration of the block."""
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        if require_migrated:
            await ensure_migrated()
            await refresh_statistics()
        yield
        if dialect() == "sqlite":
            await get_connection("default").execute_script("PRAGMA optimize")
    finally:
        await Tortoise.close_connections()


def dialect() -> str:
    """`sqlite` or `postgres`, for the few queries written per database."""
    return get_connection("default").capabilities.dialect


def database_unavailable(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) means the database cannot be reached right now.

    Such a request fails with `SERVICE_UNAVAILABLE`; the connection pool
    reconnects by itself once the database answers again.
    """
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (ConnectionError, TimeoutError, DBConnectionError)):
            return True
        if isinstance(error, OSError) and error.errno is None:  # asyncpg's "Multiple exceptions: …"
            return "connect call failed" in str(error).lower()
        if _asyncpg_unavailable(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _asyncpg_unavailable(error: BaseException) -> bool:
    try:
        from asyncpg import exceptions as pg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    if isinstance(error, pg.InterfaceError):
        return "connection" in str(error) and "closed" in str(error)
    return isinstance(error, (pg.PostgresConnectionError, pg.OperatorInterventionError)) and not isinstance(
        error, pg.QueryCanceledError
    )
