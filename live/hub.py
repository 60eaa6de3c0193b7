"""The per-process fan-out of committed ticket history entries.

Writers call `announce(connection, event_id)` inside their transaction. On
PostgreSQL that issues `pg_notify`, which the server delivers only when the
transaction commits (never for a rollback); every server process LISTENs on
a dedicated asyncpg connection, loads the announced entries by id and hands
them to its subscribers. After the listener loses its connection (PostgreSQL
restarting) it reconnects and catches up from `ticket_event` by id, so no
committed entry is lost.

On SQLite there is one process and one connection whose lock is held for a
whole transaction, so a reader never sees uncommitted rows and ids grow in
commit order: the hub reads the entries after the last one it has seen
every `SQLITE_POLL_SECONDS`. (Tortoise has no after-commit hook, and a hook
bolted onto `in_transaction` would have to find every transaction that
records history, including nested ones; reading committed rows cannot
publish a rolled-back one by construction.)

The hub hands each batch of new events to the subscribers' class
(`Subscriber.dispatch`) once, with every subscriber of that class: the class decides what each
subscriber gets (the resolvers authorise an event for all their subscribers
together, `resolvers.tickets.live`), and offers it into the subscribers'
bounded inboxes; a subscriber whose inbox is full is marked `overflowed` and
dropped by its reader (slow consumers are not buffered without bound).

Thousands of subscribers stay open for hours, so a subscriber is small: a
slotted object with no queue, event or task of its own (an inbox deque only
while something waits in it, a future only while its reader waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from core.metrics import ACTIVE_SUBSCRIPTIONS
from models.tickets import TicketEvent

logger = logging.getLogger("sitedesk.live")

CHANNEL = "sitedesk_ticket_events"
SQLITE_POLL_SECONDS = 0.1
# The listener's connection is probed this often while idle; a dead one is reconnected.
PROBE_SECONDS = 2.0
RECONNECT_SECONDS = 0.5
# PostgreSQL assigns ids at insert, not at commit: after a reconnect the hub
# re-reads this many ids below the last one seen, skipping those delivered.
CATCH_UP_MARGIN = 1000
REMEMBERED_IDS = 5000
LOAD_BATCH = 500
# How long a new subscriber waits for the feed to start (its first connection to the database).
READY_TIMEOUT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A committed history entry, as the fan-out needs it (ids only; subscribers load the rest)."""

    id: int
    ticket_id: int
    object_id: int
    kind: str
    comment_id: int | None
    attachment_id: int | None
    created_at: datetime
    # The customer of the ticket's object: subscribers of other customers are skipped without a query.
    customer_id: int | None = None


async def announce(connection: Any, event_id: int) -> None:
    """Announce a history entry from inside the writing transaction (PostgreSQL: `pg_notify`).

    On SQLite nothing is sent: the hub reads committed entries by id.
    """
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, str(event_id)])


class Subscriber:
    """One subscription's inbox: what its class's `dispatch` offered, read by the subscription's task.

    The base class is handed the events themselves; subclasses (the resolvers') decide per
    event what each subscriber receives. An offered exception ends the subscription with it.
    """

    __slots__ = ("maxsize", "inbox", "waiter", "overflowed", "closed", "owner")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.inbox: deque[Any] | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.closed = False  # unsubscribed: its reader must end
        self.owner: asyncio.Task[Any] | asyncio.Future[Any] | None = None

    @classmethod
    async def dispatch(cls, events: list[LiveEvent], subscribers: list[Subscriber]) -> None:
        """Offer `events` (new ones, in order) to `subscribers` (all of this class); subclasses authorise first."""
        for event in events:
            for subscriber in subscribers:
                subscriber.offer(event)

    def offer(self, item: Any) -> None:
        if self.overflowed or self.closed:
            return
        if self.inbox is None:
            self.inbox = deque()
        if len(self.inbox) >= self.maxsize:
            self.overflowed = True
        else:
            self.inbox.append(item)
        self.wake()

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def next(self) -> Any:
        """The next item offered; None once this subscriber overflowed; an offered exception is raised."""
        while True:
            if self.closed:
                raise asyncio.CancelledError("unsubscribed")
            if self.overflowed:
                return None
            if self.inbox:
                item = self.inbox.popleft()
                if not self.inbox:
                    self.inbox = None  # an idle subscriber keeps no deque
                if isinstance(item, BaseException):
                    raise item
                return item
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None


async def load_events(ids: Iterable[int] | None = None, after: int | None = None) -> list[LiveEvent]:
    """Entries by id (or every one after `after`), oldest first, with their ticket's object."""
    query = TicketEvent.all()
    if ids is not None:
        query = query.filter(id__in=list(ids))
    if after is not None:
        query = query.filter(id__gt=after)
    rows = (
        await query.order_by("id")
        .limit(LOAD_BATCH if after is not None else 100_000)
        .values(
            "id",
            "ticket_id",
            "ticket__object_id",
            "ticket__object__customer_id",
            "kind",
            "comment_id",
            "attachment_id",
            "created_at",
        )
    )
    return [
        LiveEvent(
            id=r["id"],
            ticket_id=r["ticket_id"],
            object_id=r["ticket__object_id"],
            kind=getattr(r["kind"], "value", r["kind"]),
            comment_id=r["comment_id"],
            attachment_id=r["attachment_id"],
            created_at=r["created_at"],
            customer_id=r["ticket__object__customer_id"],
        )
        for r in rows
    ]


async def last_event_id() -> int:
    row = await TicketEvent.all().order_by("-id").first().values("id")
    return int(row["id"]) if row else 0


class EventHub:
    """The one fan-out of this process: started with the first subscriber, stopped with the app."""

    def __init__(self) -> None:
        # Insertion-ordered (a dict): subscribers get an event in the order they subscribed.
        self.subscribers: dict[Subscriber, None] = {}
        # The subscribers each task opened (an operation of a live socket runs in one task).
        self.owners: dict[asyncio.Task[Any] | asyncio.Future[Any], list[Subscriber]] = {}
        self.task: asyncio.Task[None] | None = None
        self.database_url: str | None = None
        self.last_seen = 0
        self.delivered: deque[int] = deque(maxlen=REMEMBERED_IDS)
        self.delivered_set: set[int] = set()
        self.ready = asyncio.Event()
        self.listening = False  # PostgreSQL: whether the listener is connected right now

    # ------------------------------------------------------------ subscribers

    async def subscribe(self, database_url: str, subscriber: Subscriber) -> Subscriber:
        """Add `subscriber`; the feed starts (and has its starting point) before this returns.

        The subscriber belongs to the calling task: it leaves the hub when that task ends,
        however it ends, or when `release(task)` is called (the socket's handler does so the
        moment it cancels an operation), even if no `finally` of the caller ever runs.
        """
        owner = asyncio.current_task()
        self.subscribers[subscriber] = None
        ACTIVE_SUBSCRIPTIONS.inc()
        if owner is not None:
            subscriber.owner = owner
            owned = self.owners.get(owner)
            if owned is None:
                self.owners[owner] = [subscriber]
                owner.add_done_callback(self.release)
            else:
                owned.append(subscriber)
        if self.task is None or self.task.done():
            self.database_url = database_url
            self.ready = asyncio.Event()
            self.task = asyncio.create_task(self._run(), name="sitedesk-live-hub")
        if not self.ready.is_set():
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                # that arrives as the wait ends (gh-86296), leaving a cancelled subscription running.
                async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                    await self.ready.wait()
            except BaseException:  # the feed did not start, or the client left meanwhile: not subscribed
                self.unsubscribe(subscriber)
                raise
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if self.subscribers.pop(subscriber, 0) is None:
            ACTIVE_SUBSCRIPTIONS.dec()
        subscriber.closed = True  # a reader still waiting wakes up and ends
        subscriber.inbox = None
        subscriber.wake()
        owner, subscriber.owner = subscriber.owner, None
        owned = self.owners.get(owner) if owner is not None else None
        if owned is not None and subscriber in owned:
            owned.remove(subscriber)
            if not owned:
                del self.owners[owner]  # type: ignore[arg-type]

    def release(self, owner: asyncio.Task[Any] | asyncio.Future[Any]) -> None:
        """Unsubscribe every subscriber `owner` (a task) opened."""
        for subscriber in list(self.owners.pop(owner, ())):
            self.unsubscribe(subscriber)

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def handled(self, event_id: int) -> bool:
        """Remember `event_id` as handled; whether it had been already."""
        if event_id in self.delivered_set:
            return True
        if len(self.delivered) == self.delivered.maxlen:
            self.delivered_set.discard(self.delivered[0])
        self.delivered.append(event_id)
        self.delivered_set.add(event_id)
        self.last_seen = max(self.last_seen, event_id)
        return False

    async def publish(self, events: Iterable[LiveEvent]) -> None:
        """Hand the new ones among `events` to every class of subscribers, once, in order.

        A class's `dispatch` failing (the database away while it authorises) ends
        its subscriptions with the error, as a failing read would.
        """
        fresh = [event for event in events if not self.handled(event.id)]
        if not fresh or not self.subscribers:
            return
        by_class: dict[type[Subscriber], list[Subscriber]] = {}
        for subscriber in self.subscribers:
            by_class.setdefault(type(subscriber), []).append(subscriber)
        for kind, members in by_class.items():
            try:
                await kind.dispatch(fresh, members)
            except Exception as exc:
                logger.warning("live updates: dispatching events %s failed: %s", [e.id for e in fresh], exc)
                for subscriber in members:
                    subscriber.offer(exc)

    # ------------------------------------------------------------ the feed

    async def _run(self) -> None:
        assert self.database_url is not None
        try:
            if self.database_url.startswith("sqlite"):
                await self._poll()
            else:
                await self._listen()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("live updates: the event feed stopped")
            raise

    async def _poll(self) -> None:
        self.last_seen = await last_event_id()
        self.ready.set()
        while True:
            await asyncio.sleep(SQLITE_POLL_SECONDS)
            try:
                if not self.subscribers:
                    # Nobody listens: move on, so a later subscriber gets no backlog.
                    self.last_seen = max(self.last_seen, await last_event_id())
                    continue
                events = await load_events(after=self.last_seen)
            except Exception as exc:  # a failing read is retried at the next tick
                logger.warning("live updates: reading events failed: %s", exc)
                continue
            await self.publish(events)

    async def _listen(self) -> None:
        import asyncpg

        parsed = urlparse(self.database_url or "")
        dsn = parsed._replace(scheme="postgresql", query="").geturl()
        self.last_seen = await last_event_id()
        first = True
        while True:
            try:
                connection = await asyncpg.connect(dsn, timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                logger.warning("live updates: cannot connect the listener yet: %s", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            pending: asyncio.Queue[int] = asyncio.Queue()

            def notified(_connection: Any, _pid: int, _channel: str, payload: str, into: Any = pending) -> None:
                into.put_nowait(int(payload))

            try:
                await connection.add_listener(CHANNEL, notified)
                self.listening = True
                if not first:
                    # Entries committed while the listener was away.
                    await self._catch_up()
                first = False
                self.ready.set()
                await self._receive(connection, pending)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("live updates: listener connection lost (%s); reconnecting", exc)
            finally:
                self.listening = False
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await connection.close()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _catch_up(self) -> None:
        after = max(0, self.last_seen - CATCH_UP_MARGIN)
        while True:
            events = await load_events(after=after)
            await self.publish(events)
            if len(events) < LOAD_BATCH:
                return
            after = events[-1].id

    async def _receive(self, connection: Any, pending: asyncio.Queue[int]) -> None:
        while True:
            try:
                async with asyncio.timeout(PROBE_SECONDS):  # not wait_for: it may swallow a cancellation
                    first = await pending.get()
            except TimeoutError:
                if connection.is_closed():
                    raise OSError("listener connection closed") from None
                await connection.fetchval("SELECT 1", timeout=5)
                continue
            ids = {first}
            while not pending.empty():
                ids.add(pending.get_nowait())
            if not self.subscribers:
                for event_id in ids:  # nobody listens: handled, and not caught up later
                    self.handled(event_id)
                continue
            # Loaded through the pool: the rows are committed (NOTIFY is sent at commit).
            await self.publish(await load_events(ids=ids))


HUB = EventHub()
