"""Executor time of the customer user's ticket list: graphql-core's executor against the compiled plan.

    python -m bench.executor [--tickets 120] [--rounds 400] [--profile compiled|graphql-core]

One process, one prepared SQLite world (a customer user whose scope holds
`--tickets` tickets), the issue's query for 50 tickets. Three levels, each
timed in alternating rounds of 20 requests (graphql-core, compiled, …) and
reported as the median CPU µs per request (the process's CPU time, SQLite's
worker thread included, so other load on the machine counts less):

- `execute`: the execute function alone on the parsed, validated document
  (`graphql.execute` against `CompiledExecution.execute`), the page's SQL
  answered from memory: the executor and the resolvers it calls.
- `schema.execute`: Strawberry's whole `schema.execute` (parser and
  validation caches, extensions, error shaping) around it, SQL from memory.
- `schema.execute + SQL`: the same with the real page query on SQLite.

Each request gets a fresh `Context` (DataLoaders, policy answers), as a real
request does. `--profile` runs one level under pyinstrument instead.

A fourth level, `HTTP`, posts the query to the ASGI app itself (no server,
no client: the scope, body and response messages in memory), token, viewer
and real SQL included, and compares the ordinary pipeline (Strawberry's view
and `schema.execute` around the compiled plan) with the thin path
(`server/thin_path.py`); `--profile http` profiles the thin path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from graphql import execute as graphql_execute
from graphql import parse, validate
from graphql.execution import MiddlewareManager
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise import Tortoise

from bench.asgi import graphql_post
from core.database import migrate, tortoise_config
from core.settings import Settings, settings_from_env
from execution.schema import schema
from models.customers import (
    Customer,
    CustomerTicketType,
    CustomerUserObject,
    SiteObject,
)
from models.tickets import Ticket, TicketCounter, TicketSource, TicketType
from permissions.tokens import issue_access_token
from permissions.viewer import Viewer, load_viewer
from resolvers import accounts
from resolvers import tickets as ticket_resolvers
from schema.context import Context
from server.app import create_app

QUERY = (
    "{ tickets(first: 50) { totalCount edges { node { id number title status createdAt dueDate "
    "object { id name } ticketType { id name } assignee { name } } } } }"
)


async def prepare(tickets: int) -> tuple[Settings, Viewer]:
    base = tempfile.mkdtemp(prefix="sitedesk-bench-")
    settings = settings_from_env(
        {
            "SITEDESK_DATABASE_URL": f"sqlite://{base}/bench.db",
            "SITEDESK_FILES_DIR": base,
            "SITEDESK_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "SITEDESK_ENV": "test",
        }
    )
    await migrate(settings)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    customer = await Customer.create(name="Kunde")
    site = await SiteObject.create(customer=customer, name="Haus", address="Weg 1")
    kind = await TicketType.create(name="Reinigungsmangel")
    await CustomerTicketType.create(customer=customer, ticket_type=kind)
    user = await accounts.create_customer_user_account(customer.id, "kurt@kunde.test", "Kunde Kurt", "pw-123456789")
    await CustomerUserObject.create(customer_user_id=user.id, object=site)
    staff = await accounts.new_employee("erika@firma.test", "Erika Muster", "pw-123456789", False, [])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await Ticket.bulk_create(
        [
            Ticket(
                number=i,
                title=f"Ticket {i}",
                ticket_type=kind,
                object=site,
                assignee_id=staff.id if i % 2 else None,
                created_by_id=user.account_id,
                source=TicketSource.PORTAL,
                created_at=start + timedelta(hours=i),
                updated_at=start + timedelta(hours=i),
                due_date=(start + timedelta(days=i)).date() if i % 3 else None,
            )
            for i in range(1, tickets + 1)
        ]
    )
    await TicketCounter.create(id=1, last_number=tickets)
    viewer = await load_viewer(user.account_id, 1)
    assert viewer is not None
    return settings, viewer


def sql_from_memory() -> Callable[[], None]:
    """Answer the page query from the first answer; returns the undo."""
    real = ticket_resolvers.ticket_page
    answers: dict[Any, Any] = {}

    async def remembered(viewer: Viewer, **kwargs: Any) -> Any:
        key = (viewer.account_id, repr(sorted(kwargs.items())))
        if key not in answers:
            answers[key] = await real(viewer, **kwargs)
        rows, total = answers[key]
        return [dict(row) for row in rows], total

    ticket_resolvers.ticket_page = remembered  # type: ignore[assignment]
    return lambda: setattr(ticket_resolvers, "ticket_page", real)


def levels(settings: Settings, viewer: Viewer) -> dict[str, Callable[[bool], Awaitable[Any]]]:
    document = parse(QUERY)
    assert not validate(schema._schema, document)
    compiled = schema.compiled
    assert compiled is not None

    def context() -> Context:
        return Context(viewer=viewer, settings=settings, request_id="bench")

    async def execute_only(use_plan: bool) -> Any:
        execute = compiled.execute if use_plan else graphql_execute
        result = execute(
            schema._schema,
            document,
            root_value=None,
            context_value=context(),
            variable_values=None,
            operation_name=None,
            middleware=MiddlewareManager(),
            is_awaitable=optimized_is_awaitable,
            executor_class=StrawberryGraphQLCoreExecutionContext,
            operation_extensions=None,
        )
        return await result if optimized_is_awaitable(result) else result

    async def schema_execute(use_plan: bool) -> Any:
        schema.compiled = compiled if use_plan else None
        try:
            return await schema.execute(QUERY, context_value=context())
        finally:
            schema.compiled = compiled

    return {
        "execute": execute_only,
        "schema.execute": schema_execute,
        "schema.execute + SQL": schema_execute,
    }


async def timed(run: Callable[[bool], Awaitable[Any]], use_plan: bool, count: int) -> list[float]:
    durations = []
    for _ in range(count):
        started = time.process_time_ns()
        result = await run(use_plan)
        durations.append((time.process_time_ns() - started) / 1000)
        assert not result.errors, result.errors
    return durations


async def measure(name: str, run: Callable[[bool], Awaitable[Any]], rounds: int) -> tuple[float, float]:
    first, second = await run(False), await run(True)
    assert first.data == second.data and first.data["tickets"]["edges"], "the two paths answer differently"
    core: list[float] = []
    plan: list[float] = []
    for _ in range(max(rounds // 20, 1)):
        core += await timed(run, False, 20)
        plan += await timed(run, True, 20)
    return statistics.median(core), statistics.median(plan)


class Answer:
    """What `measure` checks of a response: its data and errors."""

    def __init__(self, body: bytes) -> None:
        parsed = orjson.loads(body)
        self.data, self.errors = parsed.get("data"), parsed.get("errors")


def http_level(settings: Settings, viewer: Viewer) -> Callable[[bool], Awaitable[Any]]:
    """One POST through the ASGI app: the ordinary pipeline (False) or the thin path (True)."""
    app = create_app(settings, manage_database=False, mail_sender=False)
    graphql_app = next(route.app for route in app.routes if getattr(route, "path", "") == "/graphql")
    thin = graphql_app.thin_path
    token = issue_access_token(settings, viewer.account_id, viewer.kind, 1)
    body = orjson.dumps({"query": QUERY, "variables": {}})
    send_post = graphql_post(app, body, token)

    async def post(thin_path: bool) -> Answer:
        thin.enabled = thin_path
        return Answer(await send_post())

    return post


async def main(tickets: int, rounds: int, profile: str | None) -> None:
    settings, viewer = await prepare(tickets)
    undo = sql_from_memory()
    try:
        runs = levels(settings, viewer)
        if profile == "http":
            undo()
            post = http_level(settings, viewer)
            await post(False)
            await profile_level(post, True, rounds)
            return
        if profile:
            await profile_level(runs["execute"], profile == "compiled", rounds)
            return
        results = {}
        for name, run in runs.items():
            if name.endswith("SQL"):
                undo()
            results[name] = await measure(name, run, rounds)
        http = await measure("HTTP", http_level(settings, viewer), rounds)
    finally:
        undo()
        await Tortoise.close_connections()
    print(f"customer user's list of 50 tickets, median CPU µs per request ({rounds} requests per path and level)")
    print(f"{'level':<24}{'graphql-core':>14}{'compiled':>12}{'saved':>10}{'ratio':>8}")
    for name, (core, plan) in results.items():
        print(f"{name:<24}{core:>14.0f}{plan:>12.0f}{core - plan:>10.0f}{core / plan:>8.2f}")
    ordinary, thin = http
    print(f"{'HTTP (ASGI app + SQL)':<24}{'pipeline':>14}{'thin path':>12}{'saved':>10}{'ratio':>8}")
    print(f"{'':<24}{ordinary:>14.0f}{thin:>12.0f}{ordinary - thin:>10.0f}{ordinary / thin:>8.2f}")


async def profile_level(run: Callable[[bool], Awaitable[Any]], use_plan: bool, rounds: int) -> None:
    from pyinstrument import Profiler

    await run(use_plan)
    profiler = Profiler(interval=0.0001, async_mode="disabled")
    profiler.start()
    await timed(run, use_plan, rounds)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--profile", choices=["compiled", "graphql-core", "http"])
    options = parser.parse_args()
    asyncio.run(main(options.tickets, options.rounds, options.profile))
