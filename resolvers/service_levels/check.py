"""The service-level check: warnings and breaches, each announced once per ticket and target.

A round claims the tickets whose `sla_next_check_at` has come (indexed), in one transaction:
on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several server processes share the work and none
sees a row another one holds; on SQLite there is one process, whose one connection is held for
the whole transaction. For each ticket the due announcements are added to `sla_notified` and
written with everything they cause — the history entry (SLA_WARNING / SLA_BREACHED, `fromValue`
FIRST_RESPONSE or RESOLUTION, which queues the webhooks and announces the live change) and the
mails — so they commit together or not at all: a crash or restart leaves nothing half-announced
and nothing announced twice. A warning whose breach is already due (the check was away) is
claimed silently; the breach says more.

`ServiceLevelCheck` runs rounds every SITEDESK_SLA_CHECK_SECONDS (default 30) in each server
process (`core.background.OutboxLoop`), at once again while rounds come back full.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from core.background import OutboxLoop
from core.database import dialect
from models.notifications import NotificationKind
from models.tickets import Ticket, TicketEventKind
from resolvers import notifications
from resolvers.service_levels.clock import Notice, SlaState, Terms
from resolvers.service_levels.configure import terms_by_id
from resolvers.tickets.write import record

logger = logging.getLogger("sitedesk.service_levels")

BATCH_SIZE = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


def _due_of(state: SlaState, notice: Notice) -> datetime | None:
    return state.first_response_due_at if notice.target == "FIRST_RESPONSE" else state.resolution_due_at


def _mail_facts(terms: Terms | None, due: datetime | None, notice: Notice) -> dict[str, Any]:
    """What the mail says beyond the ticket: the target, its due time in the calendar's zone, the policy."""
    zone = terms.calendar.time_zone if terms else "UTC"
    local = due.astimezone(ZoneInfo(zone)) if due else None
    return {
        "sla_target": notice.target,
        "sla_due_local": local.strftime("%Y-%m-%d %H:%M") if local else "",
        "sla_time_zone": zone,
        "policy_name": terms.policy_name if terms else "",
    }


async def check_round(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Announce what is due at `now` for up to `batch_size` tickets; how many tickets were claimed."""
    now = now or utcnow()
    async with in_transaction() as connection:
        query = (
            Ticket.filter(sla_next_check_at__lte=now)
            .order_by("sla_next_check_at", "id")
            .limit(batch_size)
            .using_db(connection)
        )
        if dialect() == "postgres":
            # Model rows: Tortoise leaves FOR UPDATE out of a `.values()` query.
            query = query.select_for_update(skip_locked=True)
        rows = await query
        if not rows:
            return 0
        terms = await terms_by_id([r.sla_terms_id for r in rows if r.sla_terms_id], connection)
        for row in rows:
            await _announce(connection, row, terms.get(row.sla_terms_id) if row.sla_terms_id else None, now)
    return len(rows)


async def _announce(connection: Any, ticket: Ticket, terms: Terms | None, now: datetime) -> None:
    state = SlaState.of(ticket)
    claim, announce = state.due_notices(now)
    after = dataclasses.replace(
        state,
        notified=state.notified | int(claim),
        first_response_breached=state.first_response_breached or Notice.FIRST_RESPONSE_BREACHED in claim,
        resolution_breached=state.resolution_breached or Notice.RESOLUTION_BREACHED in claim,
    )
    # Compare and set: a claim counts only while `sla_notified` is still what was read (the row lock
    # keeps other checks away on PostgreSQL already; this keeps it exact without one).
    claimed = await (
        Ticket.filter(id=ticket.id, sla_notified=state.notified)
        .using_db(connection)
        .update(
            sla_notified=after.notified,
            sla_first_response_breached=after.first_response_breached,
            sla_resolution_breached=after.resolution_breached,
            sla_next_check_at=after.next_check_at(),
        )
    )
    if not claimed:
        return
    for notice in Notice:
        if notice not in announce:
            continue
        due = _due_of(state, notice)
        kind = TicketEventKind.SLA_BREACHED if notice.is_breach else TicketEventKind.SLA_WARNING
        await record(connection, ticket.id, kind, None, notice.target, due.isoformat() if due else None, at=now)
        mail = NotificationKind.SLA_BREACHED if notice.is_breach else NotificationKind.SLA_WARNING
        await notifications.queue_service_level(connection, ticket, mail, _mail_facts(terms, due, notice))
        # One line per notice is detail (the history entry and the mail are the record): debug level.
        logger.debug("ticket %s: %s %s", ticket.number, kind.value, notice.target)


class ServiceLevelCheck(OutboxLoop):
    """The background check in one server process."""

    name = "service-level check"
    batch_size = BATCH_SIZE

    async def deliver_round(self) -> int:
        return await check_round()

    def started_note(self) -> str:
        return f" (every {self.poll_seconds:g} s)"
