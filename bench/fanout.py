"""Live-update fan-out: N subscribers on one server process, one event, time until the last receives it.

    python -m bench.fanout [--subscribers 500] [--database-url URL] [--timeout 180]

Builds a fresh database (SQLite file in bench/var/, or `sitedesk_fanout` on the
PostgreSQL server the URL names, dropped afterwards), starts one `sitedesk
serve` process on 127.0.0.1, opens N graphql-transport-ws sockets, each with
one `ticketChanges(objectId:)` subscription as a customer user of the object
(--per-account sockets per account, 10 by default), measures the server's memory before and
after (RSS from /proc; per idle subscriber = the difference / N), then
creates one ticket over HTTP and reports when each socket got the event,
counted from the moment the write's HTTP response arrived (it has committed).
Every subscriber is authorised separately (one scope query each). The whole
run is bounded by --timeout.
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
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "bench" / "var"
QUERY = "subscription($o: ID) { ticketChanges(objectId: $o) { kind ticket { title number } } }"


def log(message: str) -> None:
    print(f"[fanout] {message}", file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def prepare(database_url: str, subscribers: int, per_account: int) -> dict[str, Any]:
    """Migrate, then one customer, one object, one enabled type, the customer users; their tokens."""
    from tortoise import Tortoise

    from core.database import migrate, tortoise_config
    from core.ids import to_global_id
    from core.settings import settings_from_env
    from models.accounts import Account, AccountKind, CustomerUser
    from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
    from models.tickets import TicketType
    from permissions.tokens import issue_access_token

    settings = settings_from_env({"SITEDESK_DATABASE_URL": database_url, "SITEDESK_ENV": "test"})
    await migrate(settings)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        customer = await Customer.create(name="Fan-out GmbH")
        site = await SiteObject.create(customer=customer, name="Zentrale", address="")
        kind = await TicketType.create(name="Reinigungsmangel")
        await CustomerTicketType.create(customer=customer, ticket_type=kind)
        tokens = []
        for index in range((subscribers + per_account - 1) // per_account + 1):
            account = await Account.create(
                kind=AccountKind.CUSTOMER_USER, name=f"User {index}", email=f"u{index}@fanout.test", password_hash="x"
            )
            user = await CustomerUser.create(account=account, customer=customer)
            await CustomerUserObject.create(customer_user=user, object=site)
            tokens.append(issue_access_token(settings, account.id, account.kind, account.token_version))
        return {
            "tokens": tokens,
            "object": to_global_id("SiteObject", site.id),
            "type": to_global_id("TicketType", kind.id),
            "secret": settings.secret_keys[0],
        }
    finally:
        await Tortoise.close_connections()


async def open_subscriber(url: str, token: str, object_id: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=30, max_queue=16)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    payload = {"query": QUERY, "variables": {"o": object_id}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def receive_at(ws: ClientConnection) -> float:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "next":
            assert message["payload"]["data"]["ticketChanges"]["kind"] == "CREATED", message
            return time.perf_counter()
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))


async def measure(port: int, pid: int, data: dict[str, Any], subscribers: int, per_account: int) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/graphql"
    tokens = data["tokens"]
    before = rss_mb(pid)
    sockets: list[ClientConnection] = []
    started = time.perf_counter()
    for start in range(0, subscribers, 50):  # in waves, so the handshakes do not time out
        batch = [
            open_subscriber(url, tokens[i // per_account], data["object"])
            for i in range(start, min(start + 50, subscribers))
        ]
        sockets.extend(await asyncio.gather(*batch))
    connected = time.perf_counter() - started
    await asyncio.sleep(2.0)  # every subscription registered, the server idle
    after = rss_mb(pid)
    waiting = [asyncio.create_task(receive_at(ws)) for ws in sockets]
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        sent = time.perf_counter()
        response = await http.post(
            "/graphql",
            json={
                "query": "mutation($i: CreateTicketInput!) { createTicket(input: $i) { number } }",
                "variables": {"i": {"objectId": data["object"], "ticketTypeId": data["type"], "title": "Fan-out"}},
            },
            headers={"Authorization": f"Bearer {tokens[-1]}"},
        )
        committed = time.perf_counter()
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    received = await asyncio.gather(*waiting)
    for ws in sockets:
        await ws.close()
    latencies = sorted(t - committed for t in received)
    return {
        "subscribers": subscribers,
        "connect_seconds": connected,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_subscriber": (after - before) * 1024 / subscribers,
        "write_ms": (committed - sent) * 1000,
        "first_ms": latencies[0] * 1000,
        "median_ms": statistics.median(latencies) * 1000,
        "last_ms": latencies[-1] * 1000,
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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = VAR / f"fanout-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        database_url = await create_postgres(args.database_url)
    else:
        database_url = f"sqlite://{work / 'fanout.db'}"
    process = None
    try:
        data = await prepare(database_url, args.subscribers, args.per_account)
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SITEDESK_DATABASE_URL": database_url,
            "SITEDESK_FILES_DIR": str(work / "files"),
            "SITEDESK_SECRET_KEYS": data["secret"],
            "SITEDESK_ENV": "test",
            "SITEDESK_MAIL_SENDER": "false",
            "SITEDESK_LIVE_MAX_CONNECTIONS": str(args.per_account),
            "SITEDESK_LIVE_QUEUE_SIZE": "100",
        }
        log_file = open(work / "server.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
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
        result = await measure(port, process.pid, data, args.subscribers, args.per_account)
        result["database"] = "PostgreSQL" if args.database_url else "SQLite"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--database-url", default="", help="a postgres:// server URL (default: SQLite)")
    parser.add_argument("--per-account", type=int, default=10, help="sockets per customer-user account")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds the whole run may take")
    args = parser.parse_args(argv)
    try:
        result = asyncio.run(asyncio.wait_for(run(args), args.timeout))
    except TimeoutError:
        log(f"did not finish within {args.timeout:.0f} s")
        return 1
    print(
        f"{result['subscribers']} subscribers, {args.per_account} per account "
        f"({result['database']}, one server process): "
        f"event after commit: first {result['first_ms']:.0f} ms, median {result['median_ms']:.0f} ms, "
        f"last {result['last_ms']:.0f} ms (the write itself {result['write_ms']:.0f} ms); "
        f"server RSS {result['rss_before_mb']:.1f} -> {result['rss_after_mb']:.1f} MB, "
        f"{result['kb_per_subscriber']:.1f} kB per idle subscriber (connected in {result['connect_seconds']:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
