"""Live-update fan-out: thousands of subscribers on one server process, event to last delivery.

    python -m bench.fanout [--case both|wide|deep] [--database-url URL] [--events 40] [--timeout 600]

Two cases, each on a fresh database (an SQLite file in bench/var/, or a new
database on the PostgreSQL server the URL names, dropped afterwards) and a
fresh `sitedesk serve` process on 127.0.0.1 (started through
`bench.fanout_server`, which times every garbage collection in the server):

- wide: 2,000 subscribers on 200 customer-user accounts of 20 customers
  (10 sockets per account, one object per customer): each event concerns one
  customer's ticket, so 100 subscribers receive it and 1,900 must not;
- deep: 500 subscribers on 500 accounts of one customer: all receive each event.

Each socket holds one `ticketChanges` subscription without arguments (every
ticket its viewer may see). An employee then adds `--events` public comments
over HTTP, one at a time, rotating over the customers' tickets; for each the
bench records the time from the write's HTTP response (committed) to the last
expected delivery. Printed per case: p50/p99 of that event-to-last-delivery
time, the longest garbage-collection pause the server saw during the run,
server memory per idle subscription (RSS before and after opening them, from
/proc), the server's CPU while they are open and idle (a 10 s window, from
/proc), and a loss check (every expected delivery arrived, none elsewhere).
The load average is printed too: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "bench" / "var"
QUERY = "subscription { ticketChanges { kind ticketId comment { body } } }"
IDLE_SECONDS = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Case:
    name: str
    customers: int
    accounts_per_customer: int
    sockets_per_account: int

    @property
    def subscribers(self) -> int:
        return self.customers * self.accounts_per_customer * self.sockets_per_account


CASES = {
    "wide": Case("wide", customers=20, accounts_per_customer=10, sockets_per_account=10),
    "deep": Case("deep", customers=1, accounts_per_customer=500, sockets_per_account=1),
}


def log(message: str) -> None:
    print(f"[fanout] {message}", file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / CLOCK_TICKS


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def prepare(database_url: str, case: Case) -> dict[str, Any]:
    """Migrate; customers with one object and an enabled type each, their users, an employee; tokens."""
    from tortoise import Tortoise

    from core.database import migrate, tortoise_config
    from core.ids import to_global_id
    from core.settings import settings_from_env
    from models.accounts import Account, AccountKind, CustomerUser, Employee
    from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
    from models.tickets import TicketType
    from permissions.tokens import issue_access_token

    settings = settings_from_env({"SITEDESK_DATABASE_URL": database_url, "SITEDESK_ENV": "test"})
    await migrate(settings)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        kind = await TicketType.create(name="Reinigungsmangel")
        staff = await Account.create(
            kind=AccountKind.EMPLOYEE, name="Staff", email="staff@fanout.test", password_hash="x"
        )
        await Employee.create(account=staff)
        customers = []
        for c in range(case.customers):
            customer = await Customer.create(name=f"Kunde {c}")
            site = await SiteObject.create(customer=customer, name=f"Objekt {c}", address="")
            await CustomerTicketType.create(customer=customer, ticket_type=kind)
            tokens = []
            for a in range(case.accounts_per_customer):
                account = await Account.create(
                    kind=AccountKind.CUSTOMER_USER,
                    name=f"User {c}.{a}",
                    email=f"u{c}.{a}@fanout.test",
                    password_hash="x",
                )
                user = await CustomerUser.create(account=account, customer=customer)
                await CustomerUserObject.create(customer_user=user, object=site)
                tokens.append(issue_access_token(settings, account.id, account.kind, account.token_version))
            customers.append({"object": to_global_id("SiteObject", site.id), "tokens": tokens})
        return {
            "customers": customers,
            "type": to_global_id("TicketType", kind.id),
            "staff": issue_access_token(settings, staff.id, staff.kind, staff.token_version),
            "secret": settings.secret_keys[0],
        }
    finally:
        await Tortoise.close_connections()


@dataclass
class Socket:
    ws: ClientConnection
    customer: int
    received: dict[str, float] = field(default_factory=dict)  # comment body -> arrival
    unexpected: list[Any] = field(default_factory=list)


async def open_socket(url: str, token: str, customer: int) -> Socket:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60, max_queue=16)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
    return Socket(ws, customer)


async def read(socket: Socket, arrived: asyncio.Event) -> None:
    """Record each delivery's arrival time by the comment's body (the event's tag)."""
    async for frame in socket.ws:
        message = json.loads(frame)
        if message["type"] == "ping":
            await socket.ws.send(json.dumps({"type": "pong"}))
            continue
        change = (
            (message.get("payload") or {}).get("data", {}).get("ticketChanges") if message["type"] == "next" else None
        )
        if change is None or change["kind"] != "COMMENT_ADDED" or change["comment"] is None:
            socket.unexpected.append(message)
            continue
        socket.received[change["comment"]["body"]] = time.perf_counter()
        arrived.set()


async def graphql(http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, response.text
    return body["data"]


def gc_stats(path: Path) -> dict[str, Any]:
    try:
        stats: dict[str, Any] = json.loads(path.read_text())
        return stats
    except (OSError, ValueError):
        return {}


async def measure(port: int, pid: int, data: dict[str, Any], case: Case, events: int, gc_file: Path) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/graphql"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        tickets = []
        for customer in data["customers"]:
            created = await graphql(
                http,
                data["staff"],
                "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
                {"i": {"objectId": customer["object"], "ticketTypeId": data["type"], "title": "Fan-out"}},
            )
            tickets.append(created["createTicket"]["id"])
        await asyncio.sleep(1.0)
        before = rss_mb(pid)
        plan = [
            (c, token)
            for c, customer in enumerate(data["customers"])
            for token in customer["tokens"]
            for _ in range(case.sockets_per_account)
        ]
        sockets: list[Socket] = []
        started = time.perf_counter()
        for start in range(0, len(plan), 50):  # in waves, so the handshakes do not time out
            sockets.extend(await asyncio.gather(*(open_socket(url, t, c) for c, t in plan[start : start + 50])))
        connected = time.perf_counter() - started
        arrived = asyncio.Event()
        readers = [asyncio.create_task(read(s, arrived)) for s in sockets]
        await asyncio.sleep(3.0)  # every subscription registered, the server idle
        after = rss_mb(pid)
        cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        idle_cpu = (cpu_seconds(pid) - cpu_before) / (time.perf_counter() - wall_before)
        gc_before = gc_stats(gc_file)
        latencies = []
        for e in range(events):
            c = e % len(tickets)
            tag = f"event {e}"
            audience = [s for s in sockets if s.customer == c]
            sent = time.perf_counter()
            await graphql(
                http,
                data["staff"],
                "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }",
                {"i": {"ticketId": tickets[c], "body": tag}},
            )
            committed = time.perf_counter()
            deadline = committed + 30
            while not all(tag in s.received for s in audience):
                arrived.clear()
                if time.perf_counter() > deadline:
                    missing = sum(tag not in s.received for s in audience)
                    raise RuntimeError(f"{tag}: {missing} of {len(audience)} subscribers got nothing within 30 s")
                try:
                    async with asyncio.timeout(1.0):
                        await arrived.wait()
                except TimeoutError:
                    pass
            latencies.append(max(s.received[tag] for s in audience) - committed)
            first = min(s.received[tag] for s in audience) - committed
            log(
                f"{tag}: write {1000 * (committed - sent):.0f} ms, first delivery {1000 * first:.0f} ms, "
                f"last delivery {1000 * latencies[-1]:.0f} ms"
            )
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # late or misdirected deliveries would show now
        gc_after = gc_stats(gc_file)
        leaked = sum(len(s.unexpected) for s in sockets)
        extra = sum(1 for s in sockets for tag in s.received if int(tag.split()[1]) % len(tickets) != s.customer)
        expected = sum(sum(1 for e in range(events) if e % len(tickets) == s.customer) for s in sockets)
        got = sum(len(s.received) for s in sockets) - extra
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(s.ws.close() for s in sockets), return_exceptions=True)
    return {
        "case": case.name,
        "subscribers": len(sockets),
        "accounts": case.customers * case.accounts_per_customer,
        "customers": case.customers,
        "connect_seconds": connected,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_subscription": (after - before) * 1024 / len(sockets),
        "idle_cpu_percent": 100 * idle_cpu,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * max(latencies),
        "events": events,
        "gc_max_pause_ms": gc_after.get("max_ms", float("nan")),
        "gc_max_generation": gc_after.get("max_generation"),
        "gc_collections": gc_after.get("count"),
        "gc_collections_during_events": [
            a - b for a, b in zip(gc_after.get("count", [0, 0, 0]), gc_before.get("count", [0, 0, 0]), strict=True)
        ],
        "gc_thresholds": gc_after.get("thresholds"),
        "gc_frozen": gc_after.get("frozen"),
        "delivered": got,
        "expected": expected,
        "misdirected": extra + leaked,
    }


async def create_postgres(server_url: str) -> str:
    import asyncpg

    parsed = urlparse(server_url)
    name = f"sitedesk_fanout_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(parsed._replace(scheme="postgresql").geturl())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return parsed._replace(path=f"/{name}").geturl()


async def drop_postgres(url: str) -> None:
    import asyncpg

    parsed = urlparse(url)
    admin = await asyncpg.connect(parsed._replace(scheme="postgresql", path="/postgres").geturl())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')
    finally:
        await admin.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_case(args: argparse.Namespace, case: Case) -> dict[str, Any]:
    work = VAR / f"fanout-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True, exist_ok=True)
    database_url = await create_postgres(args.database_url) if args.database_url else f"sqlite://{work / 'fanout.db'}"
    process = None
    try:
        data = await prepare(database_url, case)
        port = free_port()
        gc_file = work / "gc.json"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SITEDESK_DATABASE_URL": database_url,
            "SITEDESK_FILES_DIR": str(work / "files"),
            "SITEDESK_SECRET_KEYS": data["secret"],
            "SITEDESK_ENV": "test",
            "SITEDESK_MAIL_SENDER": "false",
            "SITEDESK_LIVE_MAX_CONNECTIONS": str(case.sockets_per_account),
            "SITEDESK_LIVE_QUEUE_SIZE": "100",
        }
        log_file = open(work / "server.log", "wb")  # noqa: SIM115
        command = [sys.executable, "-m", "bench.fanout_server", str(gc_file), "serve", "--host", "127.0.0.1"]
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    await http.get(f"http://127.0.0.1:{port}/health", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError((work / "server.log").read_text()) from None
                    await asyncio.sleep(0.2)
        result = await measure(port, process.pid, data, case, args.events, gc_file)
        result["database"] = "PostgreSQL" if args.database_url else "SQLite"
        result["load_average"] = os.getloadavg()
        return result
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if args.database_url:
            await drop_postgres(database_url)
        shutil.rmtree(work, ignore_errors=True)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    names = ["wide", "deep"] if args.case == "both" else [args.case]
    results = []
    for name in names:
        log(f"case {name}: {CASES[name]}")
        results.append(await run_case(args, CASES[name]))
        print(report(results[-1]), flush=True)
    return results


def report(r: dict[str, Any]) -> str:
    return (
        f"{r['database']} {r['case']}: {r['subscribers']} subscribers on {r['accounts']} accounts of "
        f"{r['customers']} customers: event to last delivery p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms "
        f"(max {r['max_ms']:.0f}, {r['events']} events); longest GC pause {r['gc_max_pause_ms']:.0f} ms "
        f"(generation {r['gc_max_generation']}; collections {r['gc_collections']}, during the events "
        f"{r['gc_collections_during_events']}; thresholds {r['gc_thresholds']}, frozen {r['gc_frozen']}); "
        f"RSS {r['rss_before_mb']:.1f} -> {r['rss_after_mb']:.1f} MB = {r['kb_per_subscription']:.1f} kB per idle "
        f"subscription; idle CPU {r['idle_cpu_percent']:.1f} % of a core; delivered {r['delivered']}/{r['expected']}, "
        f"misdirected {r['misdirected']}; connected in {r['connect_seconds']:.1f} s; "
        f"load average {' '.join(f'{x:.2f}' for x in r['load_average'])}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["both", "wide", "deep"], default="both")
    parser.add_argument("--database-url", default="", help="a postgres:// server URL (default: SQLite)")
    parser.add_argument("--events", type=int, default=40, help="public comments per case, one at a time")
    parser.add_argument("--json", action="store_true", help="also print each case's figures as JSON")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds the whole run may take")
    args = parser.parse_args(argv)
    try:
        results = asyncio.run(asyncio.wait_for(run(args), args.timeout))
    except TimeoutError:
        log(f"did not finish within {args.timeout:.0f} s")
        return 1
    if args.json:
        print(json.dumps(results))
    return 0 if all(r["delivered"] == r["expected"] and not r["misdirected"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
