"""Migration 0011 on a database that has tickets: every type gets its three default states and every
ticket the state of its category, its category, doneAt and stored days unchanged. On the database
the tests run on (SQLite, or a throwaway database on the PostgreSQL server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent.parent


async def _database_url(tmp_path: Path) -> tuple[str, str | None]:
    server = os.environ.get("SITEDESK_TEST_DATABASE_URL", "")
    if not server.startswith("postgres"):
        return f"sqlite://{tmp_path / 'old.db'}", None
    import asyncpg

    name = f"sitedesk_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(urlparse(server)._replace(scheme="postgresql").geturl())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urlparse(server)._replace(path=f"/{name}").geturl(), name


async def _drop(name: str) -> None:
    import asyncpg

    server = os.environ["SITEDESK_TEST_DATABASE_URL"]
    admin = await asyncpg.connect(urlparse(server)._replace(scheme="postgresql").geturl())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_existing_tickets_keep_their_category_and_get_the_default_state(tmp_path):
    url, pg_name = await _database_url(tmp_path)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "tests.workflow.migrate_0011", url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        if pg_name:
            await _drop(pg_name)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])

    states = [(s["ticket_type_id"], s["name"], s["category"]) for s in result["states"]]
    assert states == [
        (1, "Offen", "OPEN"),
        (1, "In Bearbeitung", "IN_PROGRESS"),
        (1, "Erledigt", "DONE"),
        (2, "Offen", "OPEN"),
        (2, "In Bearbeitung", "IN_PROGRESS"),
        (2, "Erledigt", "DONE"),
    ]
    tickets = {t["id"]: t for t in result["tickets"]}
    expected = {
        1: ("OPEN", "Offen"),
        2: ("IN_PROGRESS", "In Bearbeitung"),
        3: ("DONE", "Erledigt"),
        4: ("DONE", "Erledigt"),
    }
    for pk, (status, state) in expected.items():
        ticket = tickets[pk]
        assert (ticket["status"], ticket["category"], ticket["state"]) == (status, status, state)
        assert bool(ticket["own_type"]) and bool(ticket["is_default"])
        assert ticket["reopen_count"] == 0
    assert [bool(tickets[pk]["done"]) for pk in (1, 2, 3, 4)] == [False, False, True, True]
    assert tickets[3]["resolution_days"] == 2
