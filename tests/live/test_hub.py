"""The fan-out's bounded inboxes, its de-duplication and its small subscribers (pure, no server)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from live.hub import EventHub, LiveEvent, Subscriber


def event(pk: int) -> LiveEvent:
    return LiveEvent(
        pk, ticket_id=1, object_id=1, kind="UPDATED", comment_id=None, attachment_id=None, created_at=datetime.now(UTC)
    )


async def test_a_slow_subscriber_is_dropped_not_buffered_without_bound() -> None:
    slow = Subscriber(maxsize=2)
    hub = EventHub()
    hub.subscribers[slow] = None
    await hub.publish([event(1), event(2)])
    first = await slow.next()
    assert first is not None and first.id == 1  # within the bound: delivered in order
    await hub.publish([event(3), event(4)])  # one more than fits
    assert slow.overflowed
    assert slow.inbox is not None and len(slow.inbox) == 2
    assert await asyncio.wait_for(slow.next(), 1) is None  # the reader ends the subscription


async def test_an_entry_is_published_once_even_when_caught_up_again() -> None:
    inbox = Subscriber(maxsize=10)
    hub = EventHub()
    hub.subscribers[inbox] = None
    await hub.publish([event(5), event(6)])
    await hub.publish([event(4), event(5), event(6), event(7)])  # a catch-up re-reading below the last id
    assert [e.id for e in inbox.inbox or ()] == [5, 6, 4, 7]
    assert hub.last_seen == 7


async def test_a_waiting_reader_wakes_for_an_offer_and_ends_when_unsubscribed() -> None:
    hub = EventHub()
    reader = Subscriber(maxsize=10)
    hub.subscribers[reader] = None
    waiting = asyncio.create_task(reader.next())
    await asyncio.sleep(0)
    assert reader.waiter is not None  # a future only while its reader waits
    await hub.publish([event(8)])
    assert (await asyncio.wait_for(waiting, 1)).id == 8
    assert reader.inbox is None and reader.waiter is None  # an idle subscriber keeps no deque, no future
    waiting = asyncio.create_task(reader.next())
    await asyncio.sleep(0)
    hub.unsubscribe(reader)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 1)


class Failing(Subscriber):
    __slots__ = ()

    @classmethod
    async def dispatch(cls, events: list[LiveEvent], subscribers: list[Subscriber]) -> None:
        raise ConnectionError("the database is away")


async def test_a_failing_dispatch_ends_its_subscriptions_with_the_error_and_spares_the_others() -> None:
    hub = EventHub()
    failing, plain = Failing(maxsize=10), Subscriber(maxsize=10)
    hub.subscribers[failing] = None
    hub.subscribers[plain] = None
    await hub.publish([event(9)])
    with pytest.raises(ConnectionError):
        await failing.next()
    assert (await plain.next()).id == 9


def test_a_subscriber_has_no_instance_dict() -> None:
    # Thousands stay open for hours: slots, no per-subscriber queue, event or task.
    assert not hasattr(Subscriber(maxsize=1), "__dict__")
