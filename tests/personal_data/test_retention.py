"""Retention: off by default; with SITEDESK_RETENTION_DAYS, old DONE tickets go with comments and files."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.notifications import OutboxMail
from models.tickets import Attachment, Comment, Ticket, TicketStatus
from resolvers.personal_data.jobs import PersonalDataJobs
from resolvers.personal_data.retention import expired_tickets, remove_expired_tickets
from tests.factories import make_attachment, make_comment, make_ticket
from tests.storage import files_env, stored_bytes

ROOT = Path(__file__).resolve().parents[2]


async def _done(ticket: Ticket, days_ago: int) -> None:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    await Ticket.filter(id=ticket.id).update(status=TicketStatus.DONE, done_at=at, resolution_days=0)


@pytest.fixture
async def aged(world, settings):
    """An old DONE ticket with a comment and a file, a recent DONE one and an old OPEN one."""
    old = await make_ticket(world.a1, world.defect, "Alt und erledigt", by=world.alice)
    await make_comment(old, world.staff, "Erledigt.")
    file = await make_attachment(settings, old, world.alice, "alt.txt", b"altes Protokoll 4711")
    await _done(old, 400)
    recent = await make_ticket(world.a1, world.defect, "Neu erledigt", by=world.alice)
    await _done(recent, 10)
    still_open = await make_ticket(world.a1, world.defect, "Alt aber offen", by=world.alice)
    await Ticket.filter(id=still_open.id).update(created_at=datetime.now(UTC) - timedelta(days=900))
    return old, recent, still_open, file


async def test_retention_is_off_by_default(settings, aged):
    assert settings.retention_days is None
    assert await expired_tickets(settings) == []
    assert await remove_expired_tickets(settings) == []
    assert await Ticket.all().count() == 3


async def test_old_done_tickets_go_with_their_comments_and_files(settings, aged):
    old, recent, still_open, file = aged
    keeping = dataclasses.replace(settings, retention_days=365)
    [candidate] = await expired_tickets(keeping)
    assert (candidate.number, candidate.comments, candidate.attachments) == (old.number, 1, 1)
    assert await remove_expired_tickets(keeping) == [old.number]
    assert sorted(await Ticket.all().values_list("id", flat=True)) == sorted([recent.id, still_open.id])
    assert await Comment.filter(ticket_id=old.id).count() == 0
    assert await Attachment.filter(ticket_id=old.id).count() == 0
    assert await OutboxMail.filter(ticket_id=old.id).count() == 0
    assert stored_bytes(settings, file.storage_key) is None
    assert await remove_expired_tickets(keeping) == []


async def test_two_jobs_at_once_remove_each_ticket_once(settings, aged):
    old = aged[0]
    keeping = dataclasses.replace(settings, retention_days=365)
    results = await asyncio.gather(remove_expired_tickets(keeping), remove_expired_tickets(keeping))
    assert sorted(sum(results, [])) == [old.number]
    jobs = PersonalDataJobs(keeping)
    assert await jobs.deliver_round() == 0  # nothing left, nothing to build
    assert await Ticket.filter(id=old.id).count() == 0


def test_dry_run_lists_what_would_go_and_removes_nothing(settings, aged):
    old = aged[0]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SITEDESK_")},
        "SITEDESK_DATABASE_URL": settings.database_url,
        "SITEDESK_RETENTION_DAYS": "365",
        **files_env(settings),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "server.cli", "retention", "--dry-run"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"#{old.number}" in done.stdout and "Alt und erledigt" in done.stdout
    assert "(1 comments, 1 files)" in done.stdout and "1 tickets" in done.stdout
    assert "Neu erledigt" not in done.stdout and "Alt aber offen" not in done.stdout
    off = subprocess.run(command, cwd=ROOT, env={**env, "SITEDESK_RETENTION_DAYS": ""}, capture_output=True, text=True)
    assert off.returncode == 0 and "retention is off" in off.stdout
