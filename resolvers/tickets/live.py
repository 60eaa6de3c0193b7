"""Live ticket changes: each committed event authorised for all its subscribers at once.

`open_ticket_changes` checks the subscription's arguments through the
viewer's scope (`NOT_FOUND` as for queries) and returns the stream. The hub
(`live.hub`) hands every committed history entry to `TicketSubscriber.dispatch`
once, with all subscriptions of this process. `fan_out` then decides, through
the scopes in `permissions.tickets`, what each subscriber's viewer *as it is
now* may learn:

- subscribers whose arguments exclude the ticket, and customer users of
  another customer than the ticket's, are skipped without a query
  (`may_see_tickets_of`);
- the remaining distinct viewers are authorised together: one statement per
  kind of viewer for the ticket, one more for its comment or attachment
  (`viewers_seeing`), whatever their number;
- the ticket, comment and attachment are then loaded once, through the scope
  of a viewer who may see them, and one `Change` goes to every allowed
  subscriber (the schema resolves it per subscriber, so `@policy` still
  decides each field).

A ticket a subscription has delivered before and that has left its viewer's
scope yields one `REMOVED` and nothing more (the subscription remembers the
tickets it has delivered). An internal comment reaches only viewers who may
see internal comments (`visible_comments`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.errors import SitedeskError
from core.lookup import get_in_scope
from core.settings import Settings
from live.hub import HUB, LiveEvent, Subscriber
from models.tickets import Attachment, Comment, TicketEventKind
from permissions.customers import visible_objects
from permissions.tickets import COMMENT_INTERNALLY, may_see_tickets_of, viewers_seeing
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


SLOW_CONSUMER = "SLOW_CONSUMER"


class SlowConsumer(SitedeskError):
    code = SLOW_CONSUMER


@dataclass(frozen=True, slots=True)
class Change:
    """One change as its subscribers may see it; `ticket` is a row of their `values` (None for REMOVED).

    One object is shared by every subscriber the change goes to: nobody may modify it, except
    `answers`, where subscribers who must get the same answer share its execution (by a key that
    says who they are, `schema.live.answer_key`); it goes away with the change.
    """

    kind: str
    ticket_id: int
    occurred_at: datetime
    ticket: dict[str, Any] | None = None
    comment: Comment | None = None
    attachment: Attachment | None = None
    answers: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)


class TicketSubscriber(Subscriber):
    """One `ticketChanges` subscription: its arguments, its viewer (read at each event), what it has seen."""

    __slots__ = ("viewer_of", "values", "object_id", "ticket_id", "seen")

    def __init__(
        self,
        maxsize: int,
        viewer_of: Callable[[], Viewer],
        values: tuple[str, ...],
        object_id: int | None,
        ticket_id: int | None,
    ) -> None:
        super().__init__(maxsize)
        self.viewer_of = viewer_of
        self.values = values
        self.object_id = object_id
        self.ticket_id = ticket_id
        # The tickets delivered so far (for REMOVED); None until the first (an idle subscriber keeps no set).
        self.seen: set[int] | None = None if ticket_id is None else {ticket_id}

    @classmethod
    async def dispatch(cls, events: list[LiveEvent], subscribers: list[Subscriber]) -> None:
        """Authorise each event for all `subscribers`; offer the changes once all are decided.

        Offering at the end wakes each reader once per batch (and a reader never
        drains its inbox between two events of a batch, so its bound is honest).
        """
        offers: list[tuple[TicketSubscriber, Change]] = []
        for event in events:
            await fan_out(event, subscribers, lambda s, c: offers.append((s, c)))  # type: ignore[arg-type]
        for subscriber, change in offers:
            subscriber.offer(change)

    def saw(self, ticket_id: int) -> bool:
        return self.seen is not None and ticket_id in self.seen

    def remember(self, change: Change) -> None:
        """Note what `change` tells this subscriber about its ticket (delivered, or REMOVED)."""
        if change.kind == REMOVED:
            if self.seen is not None:
                self.seen.discard(change.ticket_id)
        elif self.seen is None:
            self.seen = {change.ticket_id}
        else:
            self.seen.add(change.ticket_id)


# Where `fan_out` puts each (subscriber, change) it decides on.
Offer = Callable[[TicketSubscriber, Change], None]


def _into_inbox(subscriber: TicketSubscriber, change: Change) -> None:
    subscriber.offer(change)


def _give(subscriber: TicketSubscriber, change: Change, offer: Offer) -> None:
    subscriber.remember(change)
    offer(subscriber, change)


async def fan_out(event: LiveEvent, subscribers: list[TicketSubscriber], offer: Offer = _into_inbox) -> None:
    """Authorise `event` for all `subscribers` together; `offer` each what its viewer may learn."""
    removed = Change(REMOVED, event.ticket_id, event.created_at)
    by_viewer = _candidates(event, subscribers, lambda subscriber: _give(subscriber, removed, offer))
    if not by_viewer:
        return
    seeing = await viewers_seeing({viewer for viewer, _ in by_viewer}, event.ticket_id)
    allowed, comment, attachment = await _allowed(event, seeing)
    # One change per ticket shape, shared by every subscriber it goes to (the row is the same
    # whoever may see it, so it is loaded once, through the scope of one who may).
    changes: dict[tuple[str, ...], Change | None] = {}
    for (viewer, values), members in by_viewer.items():
        if viewer in allowed:
            if values not in changes:
                ticket = await find_ticket(viewer, event.ticket_id, values)
                kind = KINDS.get(event.kind, "UPDATED")
                # None: it left the scope since it was authorised; its next event says REMOVED.
                changes[values] = (
                    Change(kind, event.ticket_id, event.created_at, ticket, comment, attachment) if ticket else None
                )
            change = changes[values]
        else:
            change = removed if viewer not in seeing else None
        for subscriber in members if change is not None else ():
            if change is not removed or subscriber.saw(event.ticket_id):
                _give(subscriber, change, offer)  # type: ignore[arg-type]


def _candidates(
    event: LiveEvent, subscribers: list[TicketSubscriber], gone: Callable[[TicketSubscriber], None]
) -> dict[tuple[Viewer, tuple[str, ...]], list[TicketSubscriber]]:
    """The subscribers `event` may concern, by viewer, after the tests that need no query.

    Those whose arguments exclude the ticket are left out; so are customer users of
    another customer, but one who had seen the ticket (it moved away) is told `gone`.
    """
    by_viewer: dict[tuple[Viewer, tuple[str, ...]], list[TicketSubscriber]] = {}
    for subscriber in subscribers:
        if subscriber.ticket_id is not None and subscriber.ticket_id != event.ticket_id:
            continue
        if subscriber.object_id is not None and subscriber.object_id != event.object_id:
            continue
        viewer = subscriber.viewer_of()
        if not may_see_tickets_of(viewer, event.customer_id):
            if subscriber.saw(event.ticket_id):
                gone(subscriber)
            continue
        by_viewer.setdefault((viewer, subscriber.values), []).append(subscriber)
    return by_viewer


async def _allowed(event: LiveEvent, seeing: set[Viewer]) -> tuple[set[Viewer], Comment | None, Attachment | None]:
    """Who among `seeing` (the viewers who see the ticket) may learn of `event`, and its comment or attachment.

    The comment and attachment are loaded once, through the scope of one viewer who may see them.
    """
    if not seeing:
        return set(), None, None
    if event.comment_id is not None:
        readers = await viewers_seeing(seeing, event.ticket_id, comment_id=event.comment_id)
        comment = await find_comment(next(iter(readers)), event.comment_id) if readers else None
        if comment is None:
            readers = set()
        if event.kind == TicketEventKind.COMMENT_DELETED.value:
            # The comment is gone (or invisible): a deletion only for those who may see internal comments.
            readers |= {viewer for viewer in seeing if COMMENT_INTERNALLY.allows(viewer)}
        return readers, comment, None
    if event.attachment_id is not None and event.kind != TicketEventKind.ATTACHMENT_REMOVED.value:
        readers = await viewers_seeing(seeing, event.ticket_id, attachment_id=event.attachment_id)
        attachment = await find_attachment(next(iter(readers)), event.attachment_id) if readers else None
        return (readers if attachment is not None else set()), None, attachment
    return seeing, None, None


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
    subscriber = TicketSubscriber(settings.live_queue_size, current_viewer, values, object_id, ticket_id)
    return _changes(subscriber, settings)


async def _changes(subscriber: TicketSubscriber, settings: Settings) -> AsyncIterator[Change]:
    await HUB.subscribe(settings.database_url, subscriber)
    try:
        while True:
            change = await subscriber.next()
            if change is None:
                raise SlowConsumer(
                    "This subscription fell too far behind and was ended; subscribe again and reload what you show."
                )
            yield change
    finally:
        HUB.unsubscribe(subscriber)
