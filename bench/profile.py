"""CPU per request of one benchmark scenario, posted to the ASGI app in memory, on the benchmark's data.

    python -m bench.profile probe [--tickets 20000] [--rounds 300] [--ordinary] [--profile]
                                  [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Needs the pristine data `bench.run` generated (SQLite: `bench/var/pristine-<N>-*.db`; PostgreSQL:
the database `sitedesk_pristine_<N>_<version>`; a run with `--tickets N` makes it) and copies it
(PostgreSQL: into `sitedesk_bench_<N>_profile`, dropped afterwards). No server and no client: the
request's scope, body and response messages stay in memory, so what is measured is the app itself
(middlewares, token, viewer, SQL on SQLite or asyncpg's side of PostgreSQL, the plan, the response).
Prints the median process CPU µs per request (SQLite's thread included) and, on PostgreSQL, the
backends' CPU per request (one warm pooled connection); `--ordinary` switches the thin HTTP path
off (Strawberry's view and `schema.execute` pipeline around the plan), `--profile` prints a
pyinstrument profile instead (`PROFILE_ALL=1`: every frame).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
from tortoise import Tortoise

from bench import cpu
from bench.asgi import graphql_post
from bench.generate import World, copy_database, drop_postgres
from bench.run import VAR, _generator_version, bench_settings, tokens
from bench.scenarios import all_scenarios
from core.database import tortoise_config


async def copy_data(tickets: int, server_url: str) -> tuple[str, World, Path | None]:
    """A copy of the pristine data (its URL), its world, and the temporary directory of a SQLite copy."""
    if server_url:
        pristine = f"sitedesk_pristine_{tickets}_{_generator_version()}"
        world_file = VAR / f"{pristine}.json"
        if not world_file.exists():
            raise SystemExit(f"no {world_file}: run `python -m bench.run --database-url … --tickets {tickets}` first")
        url = await copy_database(server_url, pristine, f"sitedesk_bench_{tickets}_profile")
        return url, World.load(world_file), None
    found = sorted(VAR.glob(f"pristine-{tickets}-*.db"))
    if not found:
        raise SystemExit(f"no bench/var/pristine-{tickets}-*.db: run `python -m bench.run --tickets {tickets}` first")
    database = Path(tempfile.mkdtemp(prefix="sitedesk-profile-")) / "bench.db"
    shutil.copyfile(found[0], database)
    return f"sqlite://{database}", World.load(found[0].with_suffix(".json")), database.parent


async def main(name: str, tickets: int, rounds: int, ordinary: bool, profile: bool, server_url: str = "") -> None:
    url, world, directory = await copy_data(tickets, server_url)
    settings = bench_settings(url, VAR / "files")
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    from server.app import create_app

    app = create_app(settings, manage_database=False, mail_sender=False)
    graphql_app: Any = next(route.app for route in app.routes if getattr(route, "path", "") == "/graphql")
    graphql_app.thin_path.enabled = not ordinary
    scenario = {s.name: s for s in all_scenarios(world)}[name]
    token = tokens(settings, world)[scenario.viewer]
    body = orjson.dumps({"query": scenario.query, "variables": scenario.variables(world, scenario.page_size)})
    post = graphql_post(app, body, token)

    try:
        for _ in range(8):  # the second settles the document for the thin path; the sixth plans generically
            answer = await post()
            assert b'"errors"' not in answer, answer[:500]
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001, async_mode="disabled")
            profiler.start()
            for _ in range(rounds):
                await post()
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
            return
        durations = []
        # The backends' CPU (PostgreSQL): one pooled connection, warm (its plans past the first five runs).
        database = urlparse(url).path.lstrip("/") if directory is None else None
        backends = cpu.database_seconds(database)
        for _ in range(rounds):
            started = time.process_time_ns()
            await post()
            durations.append((time.process_time_ns() - started) / 1000)
        path = "ordinary pipeline" if ordinary else "thin path"
        print(f"{name} at {tickets} tickets, {path}: median CPU µs per request {statistics.median(durations):.0f}")
        if database:
            spent = (cpu.database_seconds(database) - backends) / rounds * 1e6
            print(f"database backends' CPU µs per request (mean) {spent:.0f}")
    finally:
        await Tortoise.close_connections()
        if directory is None:
            await asyncio.to_thread(drop_postgres, url)
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario")
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--ordinary", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL (default: the SQLite file)")
    options = parser.parse_args()
    asyncio.run(
        main(options.scenario, options.tickets, options.rounds, options.ordinary, options.profile, options.database_url)
    )
