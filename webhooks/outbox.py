"""Queueing deliveries: in the transaction of the change, for the enabled webhooks subscribed to it.

Called once per history entry (`resolvers.tickets.write.record`) and once per form submission.
Cost per write: one SELECT of the matching webhook ids, plus one INSERT of all their rows when
there are any. A rolled-back change rolls its deliveries back with it; a committed one has them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from models.tickets import TicketEventKind
from models.webhooks import Webhook, WebhookDelivery, WebhookEvent

# History kinds and the webhook event each one is; COMMENT_DELETED has none.
EVENT_OF_HISTORY = {
    TicketEventKind.CREATED: WebhookEvent.TICKET_CREATED,
    TicketEventKind.UPDATED: WebhookEvent.TICKET_UPDATED,
    TicketEventKind.STATUS_CHANGED: WebhookEvent.TICKET_STATUS_CHANGED,
    TicketEventKind.ASSIGNEE_CHANGED: WebhookEvent.TICKET_ASSIGNED,
    TicketEventKind.COMMENT_ADDED: WebhookEvent.COMMENT_ADDED,
    TicketEventKind.COMMENT_EDITED: WebhookEvent.COMMENT_EDITED,
    TicketEventKind.ATTACHMENT_ADDED: WebhookEvent.ATTACHMENT_ADDED,
    TicketEventKind.ATTACHMENT_REMOVED: WebhookEvent.ATTACHMENT_REMOVED,
    # The workflow: a move between states is a status change to a partner; a customer's
    # confirmation changes the ticket's rating. A reopening also records STATUS_CHANGED.
    TicketEventKind.STATE_CHANGED: WebhookEvent.TICKET_STATUS_CHANGED,
    TicketEventKind.CONFIRMED: WebhookEvent.TICKET_UPDATED,
    # Service levels (issue 26): a target's warning threshold or breach, once per ticket and target.
    TicketEventKind.SLA_WARNING: WebhookEvent.TICKET_SLA_WARNING,
    TicketEventKind.SLA_BREACHED: WebhookEvent.TICKET_SLA_BREACHED,
}


def events_column(events: list[WebhookEvent]) -> str:
    """How `Webhook.events` stores a subscription: ",A,B," (one LIKE finds a name)."""
    return "," + ",".join(sorted({e.value for e in events})) + ","


def events_of(column: str) -> list[WebhookEvent]:
    return [WebhookEvent(name) for name in column.strip(",").split(",") if name]


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


async def queue_event(
    connection: Any,
    event: WebhookEvent,
    *,
    ticket_id: int | None = None,
    comment_id: int | None = None,
    attachment_id: int | None = None,
    submission_id: int | None = None,
    detail: Any = None,
    at: datetime | None = None,
) -> int:
    """One delivery row per enabled webhook subscribed to `event`, in the caller's transaction."""
    webhook_ids = cast(
        list[int],
        await Webhook.filter(enabled=True, events__contains=f",{event.value},")
        .using_db(connection)
        .values_list("id", flat=True),
    )
    if not webhook_ids:
        return 0
    now = datetime.now(UTC)
    rows = [
        WebhookDelivery(
            webhook_id=webhook_id,
            event=event,
            message_id=new_message_id(),
            ticket_id=ticket_id,
            comment_id=comment_id,
            attachment_id=attachment_id,
            submission_id=submission_id,
            detail=None if detail is None else str(detail)[:200],
            occurred_at=at or now,
            next_attempt_at=now,
            created_at=now,
        )
        for webhook_id in webhook_ids
    ]
    await WebhookDelivery.bulk_create(rows, using_db=connection)
    return len(rows)


async def queue_history(
    connection: Any,
    ticket_id: int,
    kind: TicketEventKind,
    *,
    comment_id: int | None,
    attachment_id: int | None,
    from_value: Any,
    at: datetime,
) -> None:
    """The deliveries one history entry causes (a removed attachment keeps its filename)."""
    event = EVENT_OF_HISTORY.get(kind)
    if event is None:
        return
    # A removed attachment keeps its filename; a service-level event names its target.
    detailed = (WebhookEvent.ATTACHMENT_REMOVED, WebhookEvent.TICKET_SLA_WARNING, WebhookEvent.TICKET_SLA_BREACHED)
    detail = from_value if event in detailed else None
    await queue_event(
        connection, event, ticket_id=ticket_id, comment_id=comment_id, attachment_id=attachment_id, detail=detail, at=at
    )
