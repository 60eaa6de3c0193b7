"""The audit trail: `record_audit` writes one event, `page_of_audit_events` reads them.

Other domains call `record_audit` inside the transaction of the change they
record (webhooks, tokens, accounts), so an event exists exactly when its
change does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core.dates import plausible_instant
from core.ids import decode_global_id
from core.keyset import Listing, Window
from models.audit import AuditAction, AuditEvent
from permissions.audit import visible_audit_events
from permissions.viewer import Viewer
from resolvers.people import account_of_person

SUMMARY_LENGTH = 500


async def record_audit(
    actor: Viewer | None,
    action: AuditAction,
    subject_type: str,
    subject_id: int | None,
    summary: str,
    address: str | None = None,
) -> AuditEvent:
    """Store one audit event.

    `actor`: who did it (None for the system itself); `subject_type` and
    `subject_id`: what it was done to, as the GraphQL type name and primary
    key (`Employee`, `CustomerUser`, `ApiToken`, `PermissionGroup`,
    `Webhook`; the API shows a global id); `summary`: one line for people;
    `address`: the client's address (`info.context.client_ip`).
    """
    return await AuditEvent.create(
        action=action,
        actor_id=actor.account_id if actor is not None else None,
        actor_name=(actor.name if actor is not None else "")[:200],
        subject_type=subject_type,
        subject_id=subject_id,
        summary=summary[:SUMMARY_LENGTH],
        address=(address or None) and address[:100],
    )


@asynccontextmanager
async def audited_change() -> AsyncIterator[None]:
    """One transaction around a change and its `record_audit`: both are stored or neither.

    For operations whose resolver opens its own transaction (it nests, as a savepoint).
    """
    async with in_transaction():
        yield


async def actor_account_id(actor_id: str, field: str = "filter.actorId") -> int:
    """The account of an Employee or CustomerUser id; NOT_FOUND for any other id."""
    return (await account_of_person(decode_global_id(actor_id, field), field)).id


AUDIT_EVENTS = Listing("audit_events", "created_at", descending=True)


async def page_of_audit_events(
    viewer: Viewer,
    window: Window,
    action: AuditAction | None = None,
    actor_id: str | None = None,
    since: datetime | None = None,
) -> tuple[list[AuditEvent], int]:
    """One page of the audit events the viewer may read, newest first (`AUDIT_EVENTS`), and how many match in all."""
    query: QuerySet[AuditEvent] = visible_audit_events(viewer)
    if action is not None:
        query = query.filter(action=action)
    if actor_id is not None:
        query = query.filter(actor_id=await actor_account_id(actor_id))
    if since is not None:
        query = query.filter(created_at__gte=plausible_instant(since, "since"))
    return await AUDIT_EVENTS.page(query, window)


async def find_audit_event(viewer: Viewer, event_id: int) -> AuditEvent | None:
    return await visible_audit_events(viewer).filter(id=event_id).first()
