"""Benchmark: service levels over 10,000 open tickets with targets (issue 26).

Builds a fresh, migrated database (SQLite under /tmp, or a throwaway database on the PostgreSQL
server given with --postgres), a business calendar (Mon–Fri 07:00–18:00 Europe/Berlin with NRW's
holidays) and a policy, then measures:

- the due-time computation: `resolvers.service_levels.clock.started` for every ticket (the
  business-minute arithmetic a new ticket costs), before the tickets are bulk-inserted;
- one round of the background check with nothing due (the usual round: one indexed query);
- one round with `--due` tickets due (warnings: history, mails, webhooks queued), its time and
  statements;
- the ticket list with `serviceLevel` selected, through the ASGI app as an employee: statements
  (goal ≤ 4) and time.

    PYTHONPATH=. .venv/bin/python bench/service_levels.py
    PYTHONPATH=. .venv/bin/python bench/service_levels.py --postgres postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx
from tortoise import Tortoise

from core.business_time import day_intervals
from core.database import migrate, tortoise_config
from core.settings import settings_from_env
from models.service_levels import TicketPriority
from models.tickets import Ticket, TicketSource
from resolvers.service_levels import clock, configure
from resolvers.service_levels.check import check_round
from server.app import create_app
from tests.statements import counting_statements

WORKDAYS = [{"weekday": d, "start": "07:00", "end": "18:00"} for d in range(1, 6)]
LIST = """query { tickets(first: 50, orderBy: RESOLUTION_DUE, descending: false) { totalCount
  edges { node { number title priority serviceLevel { policyName firstResponseDueAt firstRespondedAt
    firstResponseBreached resolutionDueAt resolvedAt resolutionBreached pausedSince } } } } }"""


async def _create_postgres(server_url: str) -> str:
    import asyncpg

    parsed = urlparse(server_url)
    name = f"sitedesk_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(parsed._replace(scheme="postgresql").geturl())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return parsed._replace(path=f"/{name}").geturl()


async def _drop_postgres(url: str, server_url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(urlparse(server_url)._replace(scheme="postgresql").geturl())
    await admin.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')
    await admin.close()


PLANS = {
    "check round": 'SELECT "id" FROM "ticket" WHERE "sla_next_check_at" <= {p} '
    'ORDER BY "sla_next_check_at", "id" LIMIT 200',
    "RESOLUTION_DUE page": 'SELECT "id" FROM "ticket" ORDER BY "sla_due_ascending", "id" LIMIT 51',
}


async def show_plans(sqlite: bool, now: datetime) -> None:
    """The query plans of the check's claim and of a RESOLUTION_DUE page: both walk an index."""
    connection = Tortoise.get_connection("default")
    for label, sql in PLANS.items():
        if sqlite:
            rows = await connection.execute_query_dict(
                "EXPLAIN QUERY PLAN " + sql.format(p="?"), [now] if "{p}" in sql else []
            )
            plan = "; ".join(r["detail"] for r in rows)
        else:
            rows = await connection.execute_query_dict("EXPLAIN " + sql.format(p="$1"), [now] if "{p}" in sql else [])
            plan = "; ".join(r["QUERY PLAN"].strip() for r in rows)
        print(f"plan of the {label}: {plan}")


async def run(database_url: str, total: int, due: int) -> None:
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
        from models.customers import Customer, SiteObject
        from models.tickets import TicketType
        from tests.factories import make_employee

        customer = await Customer.create(name="Kunde")
        site = await SiteObject.create(customer=customer, name="Objekt")
        kind = await TicketType.create(name="Reinigungsmangel")
        calendar = await configure.create_business_calendar(
            name="Werktage NRW", time_zone="Europe/Berlin", hours=WORKDAYS, holiday_region="DE-NW"
        )
        policy = await configure.create_service_level_policy(
            name="Standard",
            calendar_id=calendar.id,
            warn_at_percent=80,
            targets=[
                {"priority": p, "first_response_minutes": 240, "resolution_minutes": 2400} for p in TicketPriority
            ],
        )
        terms = (await configure.terms_by_id([policy.terms_id]))[policy.terms_id]

        # Creation times over the last 30 days; the due-time computation is what a new ticket costs.
        now = datetime.now(UTC)
        created = [now - timedelta(minutes=30 * 24 * 60 * i / total) for i in range(total)]
        day_intervals.cache_clear()
        started = time.perf_counter()
        clocks = [clock.started(terms, TicketPriority.NORMAL, at) for at in created]
        computing = time.perf_counter() - started
        print(f"due times of {total:,} tickets: {computing * 1000:.0f} ms ({computing / total * 1e6:.1f} µs a ticket)")

        rows = [
            Ticket(
                number=i + 1,
                title=f"Ticket {i + 1}",
                ticket_type_id=kind.id,
                object_id=site.id,
                source=TicketSource.BACKOFFICE,
                created_at=at,
                updated_at=at,
                priority=TicketPriority.NORMAL,
                **state.columns(),
            )
            for i, (at, state) in enumerate(zip(created, clocks, strict=True))
        ]
        await Ticket.bulk_create(rows, batch_size=1000)
        # Nothing announced yet: the warnings and breaches of the past count as announced, so the
        # rounds below see only what becomes due from `now` on.
        await Ticket.all().update(sla_notified=15, sla_next_check_at=None)
        upcoming = await Ticket.all().order_by("-created_at").limit(due).values_list("id", flat=True)
        await Ticket.filter(id__in=list(upcoming)).update(
            sla_notified=0, sla_next_check_at=now, sla_first_response_warn_at=now - timedelta(minutes=1)
        )
        await Tortoise.get_connection("default").execute_script("ANALYZE")
        print(f"{await Ticket.all().count():,} open tickets with targets; {due} of them due at the next round")

        await show_plans(settings.is_sqlite, now)
        with counting_statements() as counter:
            idle = []
            for _ in range(20):
                begin = time.perf_counter()
                assert await check_round(now=now - timedelta(days=365)) == 0
                idle.append((time.perf_counter() - begin) * 1000)
        print(
            f"check round, nothing due:     median {statistics.median(idle):7.2f} ms, "
            f"{counter.count / 20:.0f} statement(s)"
        )
        with counting_statements() as counter:
            begin = time.perf_counter()
            claimed = await check_round(now=now)
            elapsed = (time.perf_counter() - begin) * 1000
        print(
            f"check round, {claimed} due:       {elapsed:7.1f} ms ({elapsed / max(claimed, 1):.2f} ms a ticket), "
            f"{counter.count} statements ({counter.count / max(claimed, 1):.1f} a ticket)"
        )

        employee = await make_employee(settings, name="Disponentin")
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as http:
            headers = {"Authorization": f"Bearer {employee.token}"}
            times, counts = [], []
            for _ in range(20):
                with counting_statements() as counter:
                    begin = time.perf_counter()
                    answer = (await http.post("/graphql", json={"query": LIST}, headers=headers)).json()
                    times.append((time.perf_counter() - begin) * 1000)
                counts.append(counter.count)
            assert not answer.get("errors"), answer
            assert len(answer["data"]["tickets"]["edges"]) == 50
        print(
            f"ticket list (50, RESOLUTION_DUE, serviceLevel): median {statistics.median(times):6.1f} ms, "
            f"{max(counts)} statements (goal ≤ 4)"
        )
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a throwaway database is made on it")
    args = parser.parse_args()
    if args.postgres:

        async def on_postgres() -> None:
            url = await _create_postgres(args.postgres)
            try:
                await run(url, args.tickets, args.due)
            finally:
                await _drop_postgres(url, args.postgres)

        asyncio.run(on_postgres())
        return
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(f"sqlite://{directory}/bench.db", args.tickets, args.due))


if __name__ == "__main__":
    main()
