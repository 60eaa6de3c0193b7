"""Benchmark: the ticket evaluation of one object among 1,000,000 tickets.

Builds a fresh, migrated database (SQLite under /tmp, or a throwaway
database on the PostgreSQL server given with --postgres), bulk-loads the
tickets with plain SQL (no ORM saves), then times
`resolvers.evaluations.object_evaluations` — the function behind
`SiteObject.ticketEvaluation` — for the object holding 5,000 DONE tickets,
and reports the median of many runs. The database is removed afterwards.

    PYTHONPATH=. .venv/bin/python bench/evaluation.py
    PYTHONPATH=. .venv/bin/python bench/evaluation.py --postgres postgres://postgres@127.0.0.1:5432/postgres

Goal: under 50 ms on SQLite, at most 40 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from tortoise import Tortoise
from tortoise.connection import get_connection

from core.database import migrate, tortoise_config
from core.settings import settings_from_env
from models.accounts import AccountKind
from permissions.viewer import Viewer
from resolvers.evaluations import Period, customer_evaluations, evaluation_query, object_evaluations

CUSTOMERS = 100
OBJECTS = 2_000
TARGET_DONE = 5_000
COLUMNS = (
    "id",
    "number",
    "title",
    "description",
    "status",
    "ticket_type_id",
    "object_id",
    "source",
    "created_at",
    "updated_at",
    "done_at",
    "resolution_days",
)
START = datetime(2023, 1, 1, tzinfo=UTC)


def ticket_rows(total: int, target_object: int, seed: int = 5):
    """(columns) tuples: the target object gets TARGET_DONE done tickets of enabled types,
    plus open ones and other types; the rest is spread over all objects."""
    rng = random.Random(seed)
    number = 0

    def row(object_id: int, type_id: int, done: bool):
        nonlocal number
        number += 1
        created = START + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
        done_at = created + timedelta(seconds=int(rng.expovariate(1 / (6 * 86400)))) if done else None
        status = "DONE" if done else rng.choice(("OPEN", "IN_PROGRESS"))
        return (
            number,
            number,
            f"Ticket {number}",
            "",
            status,
            type_id,
            object_id,
            "IMPORT",
            created,
            done_at or created,
            done_at,
            (done_at - created).days if done_at else None,
        )

    # Types 1-3 are enabled for every customer, 4 is not, 5 is an absence request.
    for _ in range(TARGET_DONE):
        yield row(target_object, rng.choice((1, 2, 3)), True)
    for _ in range(500):
        yield row(target_object, rng.choice((1, 2, 3)), False)
    for _ in range(500):
        yield row(target_object, rng.choice((4, 5)), True)
    while number < total:
        site = rng.randrange(1, OBJECTS + 1)
        yield row(site if site != target_object else site + 1, rng.choice((1, 1, 2, 3, 4, 5)), rng.random() < 0.7)


def as_sqlite(value):
    return value.isoformat(" ") if isinstance(value, datetime) else value


def load_sqlite(path: Path, total: int, target_object: int) -> None:
    """Plain sqlite3 with executemany: the fastest way in."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    # Building the indexes once after the load is several times faster than keeping them up to date.
    indexes = [
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket' AND sql IS NOT NULL"
        )
    ]
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket' AND sql IS NOT NULL"
    ).fetchall():
        db.execute(f'DROP INDEX "{name}"')
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f'INSERT INTO "ticket" ({", ".join(COLUMNS)}) VALUES ({placeholders})'
    batch = []
    for row in ticket_rows(total, target_object):
        batch.append(tuple(as_sqlite(v) for v in row))
        if len(batch) == 50_000:
            db.executemany(sql, batch)
            batch.clear()
    db.executemany(sql, batch)
    db.execute('INSERT INTO "ticket_counter" ("id", "last_number") VALUES (1, ?)', (total,))
    for index in indexes:
        db.execute(index)
    db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


async def load_postgres(url: str, total: int, target_object: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(urlparse(url)._replace(scheme="postgresql", query="").geturl())
    try:
        await connection.copy_records_to_table(
            "ticket", records=ticket_rows(total, target_object), columns=list(COLUMNS)
        )
        await connection.execute('INSERT INTO "ticket_counter" ("id", "last_number") VALUES (1, $1)', total)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def seed_portal() -> tuple[int, int]:
    """Customers, objects, ticket types, enabled types; returns (target object, its customer)."""
    from models.customers import Customer

    await Customer.bulk_create(
        [Customer(id=i, name=f"Kunde {i}", ticket_evaluation_enabled=True) for i in range(1, CUSTOMERS + 1)]
    )
    from models.customers import CustomerTicketType, SiteObject
    from models.tickets import TicketType

    await TicketType.bulk_create([TicketType(id=i, name=f"Typ {i}", is_absence_request=(i == 5)) for i in range(1, 6)])
    await SiteObject.bulk_create(
        [SiteObject(id=i, customer_id=(i - 1) % CUSTOMERS + 1, name=f"Objekt {i}") for i in range(1, OBJECTS + 1)]
    )
    await CustomerTicketType.bulk_create(
        [CustomerTicketType(customer_id=c, ticket_type_id=t) for c in range(1, CUSTOMERS + 1) for t in (1, 2, 3)]
    )
    target = 7
    return target, (target - 1) % CUSTOMERS + 1


async def customer_user_viewer(customer_id: int, object_id: int) -> Viewer:
    from models.accounts import Account, CustomerUser
    from models.customers import CustomerUserObject

    account = await Account.create(
        kind=AccountKind.CUSTOMER_USER, email="bench@example.test", name="Bench", password_hash="x"
    )
    user = await CustomerUser.create(account=account, customer_id=customer_id)
    await CustomerUserObject.create(customer_user=user, object_id=object_id)
    return Viewer(
        account_id=account.id, kind=AccountKind.CUSTOMER_USER, customer_user_id=user.id, customer_id=customer_id
    )


async def timed(label: str, call, runs: int) -> float:
    for _ in range(5):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    median = statistics.median(samples)
    print(
        f"  {label:<46} median {median:7.2f} ms   p95 {samples[int(len(samples) * 0.95) - 1]:7.2f} ms"
        f"   min {samples[0]:6.2f} ms   ({runs} runs)"
    )
    return median


async def run(database_url: str, total: int, runs: int, server_url: str | None) -> dict[str, float]:
    settings = settings_from_env(
        {
            "SITEDESK_DATABASE_URL": database_url,
            "SITEDESK_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "SITEDESK_FILES_DIR": str(Path(tempfile.gettempdir()) / "sitedesk-bench-files"),
        }
    )
    await migrate(settings)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        target, customer = await seed_portal()
        started = time.perf_counter()
        if server_url:
            await load_postgres(database_url, total, target)
        else:
            await Tortoise.close_connections()
            load_sqlite(Path(urlparse(database_url).path), total, target)
            await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
        connection = get_connection("default")
        count = (await connection.execute_query_dict('SELECT COUNT(*) AS n FROM "ticket"'))[0]["n"]
        print(f"loaded {count:,} tickets in {time.perf_counter() - started:.1f} s")

        employee = Viewer(account_id=1, kind=AccountKind.EMPLOYEE, employee_id=1)
        user = await customer_user_viewer(customer, target)
        whole = Period()
        year = Period(date(2024, 1, 1), date(2024, 12, 31))
        result = (await object_evaluations(employee, [target], whole))[target]
        print(
            f"object {target}: total {result.total}, average {result.average_days:.2f} d, "
            f"median {result.median_days} d, p90 {result.p90_days} d, {len(result.buckets)} groups"
        )
        assert result.total == TARGET_DONE, result.total
        assert (await object_evaluations(user, [target], whole))[target] == result
        sql, params = evaluation_query(connection.capabilities.dialect, "object", [target], whole)
        explain = "EXPLAIN QUERY PLAN " if connection.capabilities.dialect == "sqlite" else "EXPLAIN "
        plan = await connection.execute_query_dict(explain + sql, params)
        print("plan:\n  " + "\n  ".join(str(row.get("detail") or row.get("QUERY PLAN")) for row in plan))
        figures = {
            "employee": await timed(
                "object, employee, all time", lambda: object_evaluations(employee, [target], whole), runs
            ),
            "customer user": await timed(
                "object, customer user, all time", lambda: object_evaluations(user, [target], whole), runs
            ),
            "period": await timed(
                "object, customer user, one year", lambda: object_evaluations(user, [target], year), runs
            ),
        }
        await timed(
            f"whole customer ({OBJECTS // CUSTOMERS} objects), employee",
            lambda: customer_evaluations(employee, [customer], whole),
            max(runs // 5, 5),
        )
        return figures
    finally:
        await Tortoise.close_connections()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--postgres", metavar="SERVER_URL", help="PostgreSQL server URL (a throwaway database is created)"
    )
    args = parser.parse_args()
    if args.postgres:
        import asyncpg

        name = f"sitedesk_bench_{uuid.uuid4().hex[:8]}"
        admin_url = urlparse(args.postgres)._replace(scheme="postgresql").geturl()
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        print(f"PostgreSQL, database {name}")
        try:
            await run(
                urlparse(args.postgres)._replace(path=f"/{name}").geturl(), args.tickets, args.runs, args.postgres
            )
        finally:
            admin = await asyncpg.connect(admin_url)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        path = Path(tempfile.gettempdir()) / f"sitedesk-bench-evaluation-{os.getpid()}.db"
        print(f"SQLite, {path}")
        try:
            await run(f"sqlite://{path}", args.tickets, args.runs, None)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    asyncio.run(main())
