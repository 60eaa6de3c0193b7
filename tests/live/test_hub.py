"""The fan-out's bounded inboxes and its de-duplication (pure, no server)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from live.hub import EventHub, LiveEvent, Subscriber


def event(pk: int) -> LiveEvent:
    return LiveEvent(
        pk, ticket_id=1, object_id=1, kind="UPDATED", comment_id=None, attachment_id=None, created_at=datetime.now(UTC)
    )


async def test_a_slow_subscriber_is_dropped_not_buffered_without_bound() -> None:
    slow = Subscriber(asyncio.Queue(maxsize=2))
    hub = EventHub()
    hub.subscribers.add(slow)
    hub.publish([event(1), event(2)])
    first = await slow.next()
    assert first is not None and first.id == 1  # within the bound: delivered in order
    hub.publish([event(3), event(4)])  # one more than fits
    assert slow.overflowed
    assert slow.queue.qsize() == 2
    assert await asyncio.wait_for(slow.next(), 1) is None  # the reader ends the subscription


async def test_an_entry_is_published_once_even_when_caught_up_again() -> None:
    inbox = Subscriber(asyncio.Queue(maxsize=10))
    hub = EventHub()
    hub.subscribers.add(inbox)
    hub.publish([event(5), event(6)])
    hub.publish([event(4), event(5), event(6), event(7)])  # a catch-up re-reading below the last id
    assert [inbox.queue.get_nowait().id for _ in range(inbox.queue.qsize())] == [5, 6, 4, 7]
    assert hub.last_seen == 7
