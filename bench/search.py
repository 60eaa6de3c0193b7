"""Search at scale on PostgreSQL (issue 28): latency, index size and write overhead.

    python -m bench.search --tickets 1000000 [--database-url postgres://postgres@127.0.0.1:5432/postgres]
                           [--runs 40] [--keep]

Works on a copy of the benchmark's data (`bench.generate`, about 2.5 comments per ticket;
its vocabulary is small, so every one of its words is common), plants a
rare word in a few tickets (titles, descriptions, public comments), then
times the first page of 20 through `resolvers.tickets.ticket_page` (what
`tickets(filter: {search})` runs), without and with its total count, for

- a common word ("Fenster") and a rare one ("Zitronenfalter"),
- ordered by RELEVANCE and by CREATED_AT,
- as an employee and as a customer user,

next to the substring search it replaces (title or description ILIKE
'%word%', newest first, with its count) in the same run. Prints p50/p99 per
case, the index's size, and what the triggers add to writing
a ticket and a comment (the same inserts with and without them, rolled back).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.expressions import Q

from bench.generate import drop_postgres
from bench.run import prepare_data
from core.database import tortoise_config
from core.keyset import Window
from core.settings import settings_from_env
from permissions.tickets import visible_tickets
from permissions.viewer import Viewer, load_viewer
from resolvers.tickets import ticket_page

RARE = "Zitronenfalter"
COMMON = "Fenster"
PLANTED = 40  # tickets holding the rare word
PAGE = 20


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, Any]:
    result = None
    for _ in range(3):  # warm: plans, caches
        result = await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.99), result


async def substring_page(viewer: Viewer, word: str) -> tuple[list[dict[str, Any]], int]:
    """The search this issue replaces: ILIKE on title and description, newest first, with the count."""
    scope = visible_tickets(viewer).filter(Q(title__icontains=word) | Q(description__icontains=word))
    rows = await scope.order_by("-created_at", "-id").limit(PAGE + 1).values("id", "title", "created_at")
    return rows, await scope.count()


async def plant_rare_word(connection: Any, n_tickets: int, customer_user_objects: list[int]) -> None:
    """The rare word in PLANTED tickets, half of them in the customer user's scope (triggers index them)."""
    step = max(1, n_tickets // PLANTED)
    for i, pk in enumerate(range(7, n_tickets, step)):
        if i % 3 == 0:
            await connection.execute_query(f"UPDATE ticket SET title = title || ' {RARE}' WHERE id = {pk}")
        elif i % 3 == 1:
            await connection.execute_query(
                f"UPDATE ticket SET description = description || ' Ein {RARE} am Fenster.' WHERE id = {pk}"
            )
        else:
            await connection.execute_query(
                f"UPDATE comment SET body = body || ' {RARE}' WHERE id = "
                f"(SELECT min(id) FROM comment WHERE ticket_id = {pk} AND NOT internal)"
            )
    # Some in the customer user's scope for sure.
    ids = ", ".join(str(o) for o in customer_user_objects)
    await connection.execute_query(
        f"UPDATE ticket SET title = title || ' {RARE}' WHERE id IN "
        f"(SELECT id FROM ticket WHERE object_id IN ({ids}) ORDER BY id LIMIT 10)"
    )


async def write_overhead(url: str, ticket: dict[str, Any], rows: int = 300) -> dict[str, float]:
    """Milliseconds per inserted ticket and comment with the search triggers and without (rolled back)."""
    import asyncpg

    db = await asyncpg.connect(urlparse(url)._replace(scheme="postgresql", query="").geturl())
    found: dict[str, float] = {}
    try:
        for label, role in (("with search", "origin"), ("without", "replica")):
            for kind in ("ticket", "comment"):
                transaction = db.transaction()
                await transaction.start()
                await db.execute(f"SET LOCAL session_replication_role = {role}")
                started = time.perf_counter()
                for i in range(rows):
                    if kind == "ticket":
                        await db.execute(
                            "INSERT INTO ticket (number, title, description, status, ticket_type_id, object_id, "
                            "source, created_at, updated_at, reopen_count) VALUES ($1, $2, "
                            "'Beschreibung mit Heizung und Wasser', 'OPEN', $3, $4, 'BACKOFFICE', now(), now(), 0)",
                            10_000_000 + i,
                            f"Fenster Bench {i}",
                            ticket["ticket_type_id"],
                            ticket["object_id"],
                        )
                    else:
                        # One comment on each of `rows` tickets: a ticket's usual few comments, not hundreds.
                        await db.execute(
                            "INSERT INTO comment (ticket_id, author_id, body, internal, created_at) "
                            "VALUES ($1, 1, $2, FALSE, now())",
                            ticket["id"] + i,
                            f"Kommentar {i}: Fenster und Heizung geprüft",
                        )
                found[f"{kind} {label}"] = (time.perf_counter() - started) * 1000 / rows
                await transaction.rollback()
    finally:
        await db.close()
    return found


async def measure(url: str, world: Any, runs: int) -> None:
    settings = settings_from_env({"SITEDESK_DATABASE_URL": url, "SITEDESK_ENV": "test"})
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        connection = get_connection("default")
        objects = await connection.execute_query_dict(
            "SELECT object_id FROM customer_user_object cuo JOIN customer_user cu ON cu.id = cuo.customer_user_id "
            f"WHERE cu.account_id = {world.customer_user_account}"
        )
        await plant_rare_word(connection, world.tickets, [row["object_id"] for row in objects])
        await connection.execute_script("ANALYZE ticket_search")
        sizes = (
            await connection.execute_query_dict(
                "SELECT pg_size_pretty(pg_total_relation_size('ticket_search')) AS total, "
                "pg_size_pretty(pg_relation_size('idx_ticket_search_document')) AS gin, "
                "pg_size_pretty(pg_relation_size('ticket_search')) AS heap, "
                "pg_size_pretty(pg_total_relation_size('ticket')) AS tickets, "
                "pg_size_pretty(pg_total_relation_size('comment')) AS comments"
            )
        )[0]
        print(
            f"index: ticket_search {sizes['total']} in all (GIN {sizes['gin']}, tsvectors {sizes['heap']}); "
            f"for comparison ticket {sizes['tickets']}, comment {sizes['comments']}"
        )
        employee = await load_viewer(world.employee_account, 1)
        customer = await load_viewer(world.customer_user_account, 1)
        assert employee is not None and customer is not None
        print(f"\n{'case':<58}{'p50 ms':>9}{'p99 ms':>9}{'rows':>9}")
        for who, viewer in (("employee", employee), ("customer user", customer)):
            for word in (COMMON, RARE):
                for order in ("RELEVANCE", "CREATED_AT"):
                    for counted in (False, True):

                        async def page(v: Viewer = viewer, w: str = word, o: str = order, c: bool = counted) -> Any:
                            return await ticket_page(
                                v, window=Window(limit=PAGE), order_by=o, values=("id", "title"), search=w, counted=c
                            )

                        p50, p99, (rows, total) = await timed(page, runs)
                        case = f"{who}: {word} by {order}{', with totalCount' if counted else ''}"
                        print(f"{case:<58}{p50:9.1f}{p99:9.1f}{total if total is not None else len(rows):>9}")

                async def old(v: Viewer = viewer, w: str = word) -> Any:
                    return await substring_page(v, w)

                p50, p99, (rows, total) = await timed(old, max(5, runs // 4))
                print(f"{who + ': ' + word + ' substring (old), by date':<58}{p50:9.1f}{p99:9.1f}{total:9d}")
        first = "SELECT id, ticket_type_id, object_id FROM ticket ORDER BY id LIMIT 1"
        ticket = (await connection.execute_query_dict(first))[0]
        overhead = await write_overhead(url, ticket)
        print("\nwrite, ms per row (300 inserts in one transaction, rolled back):")
        for kind in ("ticket", "comment"):
            with_search, without = overhead[f"{kind} with search"], overhead[f"{kind} without"]
            print(
                f"  {kind:<8} {with_search:6.2f} with the search triggers, {without:6.2f} without "
                f"(+{with_search - without:.2f})"
            )
    finally:
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--files-dir", default="bench/var/files")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the copy (default: dropped)")
    args = parser.parse_args(argv)
    if urlparse(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("the search benchmark runs on PostgreSQL")
    started = time.perf_counter()
    # The benchmark's data, generated once per size and copied (`bench.run.prepare_data`).
    url, world = prepare_data(args.tickets, args.database_url, Path(args.files_dir).resolve())
    print(f"{args.tickets} tickets ready in {time.perf_counter() - started:.0f} s: {url}")
    try:
        asyncio.run(measure(url, world, args.runs))
    finally:
        if not args.keep:
            drop_postgres(url)


if __name__ == "__main__":
    main()
