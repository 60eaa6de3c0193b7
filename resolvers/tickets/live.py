"""Live ticket changes for one subscription, each authorised for its subscriber at delivery.

`open_ticket_changes` checks the subscription's arguments through the
viewer's scope (`NOT_FOUND` as for queries) and returns the stream. For
every committed history entry the hub (`live.hub`) hands over, the stream
loads the ticket, and the comment or attachment the entry names, through
the scope of the viewer *as it is now* (`permissions.tickets`): an entry the
viewer may not see yields nothing. A ticket this subscription has delivered
before and that has left the viewer's scope yields one `REMOVED` and nothing
more (the subscription remembers which tickets it has seen).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import SitedeskError
from core.lookup import get_in_scope
from core.settings import Settings
from live.hub import HUB, LiveEvent
from models.tickets import Attachment, Comment, TicketEventKind
from permissions.customers import visible_objects
from permissions.tickets import COMMENT_INTERNALLY
from permissions.viewer import Viewer
from resolvers.tickets.read import find_attachment, find_comment, find_ticket, get_ticket

REMOVED = "REMOVED"
# History kinds as `TicketChangeKind`; a kind not listed (a newer one) is an UPDATED.
KINDS = {
    TicketEventKind.CREATED.value: "CREATED",
    TicketEventKind.UPDATED.value: "UPDATED",
    TicketEventKind.STATUS_CHANGED.value: "STATUS_CHANGED",
    TicketEventKind.ASSIGNEE_CHANGED.value: "ASSIGNED",
    TicketEventKind.COMMENT_ADDED.value: "COMMENT_ADDED",
    TicketEventKind.COMMENT_EDITED.value: "COMMENT_EDITED",
    # The comment is gone, so whether it was internal is unknown: only viewers who
    # may see internal comments learn of a deletion (a COMMENT_EDITED without comment).
    TicketEventKind.COMMENT_DELETED.value: "COMMENT_EDITED",
    TicketEventKind.ATTACHMENT_ADDED.value: "ATTACHMENT_ADDED",
    TicketEventKind.ATTACHMENT_REMOVED.value: "ATTACHMENT_REMOVED",
}


class SlowConsumer(SitedeskError):
    code = "SLOW_CONSUMER"


@dataclass(frozen=True)
class Change:
    """One change as a subscriber may see it; `ticket` is a row of the subscriber's `values` (None for REMOVED)."""

    kind: str
    ticket_id: int
    occurred_at: datetime
    ticket: dict[str, Any] | None = None
    comment: Comment | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Verdict:
    """What one viewer may see of one event: `ticket` None means the ticket is out of scope."""

    ticket: dict[str, Any] | None
    allowed: bool
    comment: Comment | None = None
    attachment: Attachment | None = None


async def judge(viewer: Viewer, event: LiveEvent, values: tuple[str, ...]) -> Verdict:
    """Load the event's ticket (its `values`), comment and attachment through `viewer`'s scope."""
    ticket = await find_ticket(viewer, event.ticket_id, values)
    if ticket is None:
        return Verdict(None, False)
    comment = attachment = None
    if event.comment_id is not None:
        comment = await find_comment(viewer, event.comment_id)
        deletion = event.kind == TicketEventKind.COMMENT_DELETED.value
        if comment is None and not (deletion and COMMENT_INTERNALLY.allows(viewer)):
            return Verdict(ticket, False)  # an internal comment (or one deleted since) for this viewer
    if event.attachment_id is not None and event.kind != TicketEventKind.ATTACHMENT_REMOVED.value:
        attachment = await find_attachment(viewer, event.attachment_id)
        if attachment is None:
            return Verdict(ticket, False)
    return Verdict(ticket, True, comment, attachment)


# Several sockets of one account get the same event: they share one verdict per (event, viewer)
# (a viewer is its whole loaded state, so a changed permission is a different key).
VERDICTS: OrderedDict[tuple[int, Viewer, tuple[str, ...]], asyncio.Future[Verdict]] = OrderedDict()
REMEMBERED_VERDICTS = 2048


async def shared_judge(viewer: Viewer, event: LiveEvent, values: tuple[str, ...]) -> Verdict:
    key = (event.id, viewer, values)
    pending = VERDICTS.get(key)
    if pending is None:
        pending = VERDICTS[key] = asyncio.ensure_future(judge(viewer, event, values))
        while len(VERDICTS) > REMEMBERED_VERDICTS:
            VERDICTS.popitem(last=False)
    try:
        return await asyncio.shield(pending)
    except Exception:
        VERDICTS.pop(key, None)
        raise


async def authorised_change(viewer: Viewer, event: LiveEvent, seen: set[int], values: tuple[str, ...]) -> Change | None:
    """What `viewer` may learn of `event` (None: nothing); updates `seen`, the tickets delivered so far.

    The ticket comes as a dict of `values` (the columns the subscriber's GraphQL type reads).
    """
    verdict = await shared_judge(viewer, event, values)
    if verdict.ticket is None:
        if event.ticket_id in seen:
            seen.discard(event.ticket_id)
            return Change(REMOVED, event.ticket_id, event.created_at)
        return None
    if not verdict.allowed:
        return None
    seen.add(event.ticket_id)
    return Change(
        KINDS.get(event.kind, "UPDATED"),
        event.ticket_id,
        event.created_at,
        verdict.ticket,
        verdict.comment,
        verdict.attachment,
    )


async def open_ticket_changes(
    current_viewer: Callable[[], Viewer],
    settings: Settings,
    *,
    values: tuple[str, ...],
    object_id: int | None = None,
    ticket_id: int | None = None,
) -> AsyncIterator[Change]:
    """Check the arguments in the viewer's scope now (`NOT_FOUND`), then stream the changes.

    `current_viewer` answers the subscriber's viewer at each delivery (the
    connection reloads it periodically, so permission changes apply).
    """
    viewer = current_viewer()
    if ticket_id is not None:
        await get_ticket(viewer, ticket_id, field="ticketId")
    if object_id is not None:
        await get_in_scope(visible_objects(viewer), object_id, "object", field="objectId")
    return _changes(current_viewer, settings, values, object_id, ticket_id)


async def _changes(
    current_viewer: Callable[[], Viewer],
    settings: Settings,
    values: tuple[str, ...],
    object_id: int | None,
    ticket_id: int | None,
) -> AsyncIterator[Change]:
    seen: set[int] = set() if ticket_id is None else {ticket_id}
    subscriber = await HUB.subscribe(settings.database_url, settings.live_queue_size)
    try:
        while True:
            event = await subscriber.next()
            if event is None:
                raise SlowConsumer(
                    "This subscription fell too far behind and was ended; subscribe again and reload what you show."
                )
            if ticket_id is not None and event.ticket_id != ticket_id:
                continue
            if object_id is not None and event.object_id != object_id:
                continue
            change = await authorised_change(current_viewer(), event, seen, values)
            if change is not None:
                yield change
    finally:
        HUB.unsubscribe(subscriber)
