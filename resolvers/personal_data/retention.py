"""Retention: tickets DONE longer than `SITEDESK_RETENTION_DAYS` are removed with their comments and files.

Off unless the variable is set. `remove_expired_tickets` removes one ticket per short transaction:
the ticket row is locked and checked again inside it (still DONE, still old enough), so several
processes running the job at once remove each ticket once and never one that was reopened
meanwhile (SQLite has one writer anyway). Comments, attachments and history go with the ticket
(foreign keys cascade), notifications about it are deleted, and the files nothing else names
are removed after the commit (files/uploads.py). `sitedesk retention --dry-run` lists the
candidates (`expired_tickets`) without removing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core.settings import Settings
from files.uploads import remove_if_unreferenced
from models.notifications import OutboxMail
from models.tickets import Attachment, Comment, Ticket, TicketStatus

BATCH = 100


@dataclass(frozen=True)
class Expired:
    """A ticket retention removes (or would remove)."""

    id: int
    number: int
    title: str
    done_at: datetime
    comments: int
    attachments: int


def cutoff_of(settings: Settings, now: datetime | None = None) -> datetime | None:
    if settings.retention_days is None:
        return None
    return (now or datetime.now(UTC)) - timedelta(days=settings.retention_days)


async def expired_tickets(settings: Settings, now: datetime | None = None, limit: int | None = None) -> list[Expired]:
    """The DONE tickets older than the retention period, oldest first (none when retention is off)."""
    cutoff = cutoff_of(settings, now)
    if cutoff is None:
        return []
    query = Ticket.filter(status=TicketStatus.DONE, done_at__lt=cutoff).order_by("done_at", "id")
    if limit is not None:
        query = query.limit(limit)
    rows = await query.values("id", "number", "title", "done_at")
    ids = [row["id"] for row in rows]
    comments: dict[int, int] = dict.fromkeys(ids, 0)
    attachments: dict[int, int] = dict.fromkeys(ids, 0)
    for ticket_id in await Comment.filter(ticket_id__in=ids).values_list("ticket_id", flat=True):
        comments[int(ticket_id)] += 1  # type: ignore[call-overload]
    for ticket_id in await Attachment.filter(ticket_id__in=ids).values_list("ticket_id", flat=True):
        attachments[int(ticket_id)] += 1  # type: ignore[call-overload]
    return [
        Expired(row["id"], row["number"], row["title"], row["done_at"], comments[row["id"]], attachments[row["id"]])
        for row in rows
    ]


async def remove_expired_tickets(settings: Settings, now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Remove up to `limit` expired tickets; the numbers of those this call removed."""
    cutoff = cutoff_of(settings, now)
    if cutoff is None:
        return []
    removed: list[int] = []
    for candidate in await expired_tickets(settings, now, limit):
        async with in_transaction() as connection:
            ticket = (
                await Ticket.filter(id=candidate.id, status=TicketStatus.DONE, done_at__lt=cutoff)
                .using_db(connection)
                .select_for_update()
                .first()
            )
            if ticket is None:  # removed by another process, or reopened meanwhile
                continue
            keys = (
                await Attachment.filter(ticket_id=ticket.id).using_db(connection).values_list("storage_key", flat=True)
            )
            await OutboxMail.filter(ticket_id=ticket.id).using_db(connection).delete()
            await Ticket.filter(id=ticket.id).using_db(connection).delete()
        await remove_if_unreferenced(settings, sorted({str(key) for key in keys}))
        removed.append(ticket.number)
    return removed
