"""Open live sockets per account, counted in the database so the cap holds across server processes.

Each socket that passed `connection_init` holds a `live_socket` row. A claim counts the
account's rows that have not expired and inserts one when there is room; on PostgreSQL it
runs under a transaction-scoped advisory lock on the account, so two processes cannot both
take the last place (SQLite has one process, and a transaction holds the database's lock).

Crash clean-up: each process pushes the `expires_at` of its open sockets' rows forward every
`heartbeat_seconds` while it has sockets (`SocketClaims.start`), so the rows of a process that
died (SIGKILL, a crashed host) stop counting after `ttl_seconds` and are deleted by the next
claim. A socket's row is deleted when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models.http import LiveSocket

logger = logging.getLogger("sitedesk.live")

# pg_advisory_xact_lock(namespace, account id): the namespace keeps these locks apart from others.
LOCK_NAMESPACE = 24_001


class SocketClaims:
    """The live sockets of this process in `live_socket`, and the heartbeat keeping them counted."""

    def __init__(self) -> None:
        self.process = uuid.uuid4().hex
        self.held: set[int] = set()
        self.heartbeat_seconds = 5.0
        self.task: asyncio.Task[None] | None = None

    @property
    def ttl_seconds(self) -> float:
        """How long a row counts without a heartbeat (three missed beats and a margin)."""
        return 3 * self.heartbeat_seconds + 2

    async def claim(self, account_id: int, limit: int, heartbeat_seconds: float) -> int | None:
        """A row for a new socket of `account_id`; None when the account has `limit` sockets open already."""
        self.heartbeat_seconds = heartbeat_seconds
        now = datetime.now(UTC)
        async with in_transaction() as connection:
            if connection.capabilities.dialect == "postgres":
                await connection.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, account_id])
            # Expired rows (of processes that died) of any account: they no longer count anyway.
            await LiveSocket.filter(expires_at__lte=now).using_db(connection).delete()
            count = await LiveSocket.filter(account_id=account_id).using_db(connection).count()
            if count >= limit:
                return None
            row = await LiveSocket.create(
                account_id=account_id,
                process=self.process,
                expires_at=now + timedelta(seconds=self.ttl_seconds),
                using_db=connection,
            )
        self.held.add(row.id)
        self.start()
        return row.id

    async def release(self, row_id: int) -> None:
        """The socket closed: its place is free (a failing database leaves the row to expire)."""
        self.held.discard(row_id)
        try:
            await LiveSocket.filter(id=row_id).delete()
        except Exception as exc:  # the row expires on its own
            logger.warning("live updates: releasing a socket's place failed: %s", exc)

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._beat(), name="sitedesk-live-sockets")

    async def stop(self) -> None:
        """Stop the heartbeat and give up this process's places (the app is stopping)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.held:
            self.held.clear()
            with contextlib.suppress(Exception):
                await LiveSocket.filter(process=self.process).delete()

    async def _beat(self) -> None:
        while self.held:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await LiveSocket.filter(id__in=list(self.held)).update(
                    expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl_seconds)
                )
            except Exception as exc:  # the database away for a moment: beat again next time
                logger.warning("live updates: refreshing this process's sockets failed: %s", exc)


SOCKETS = SocketClaims()
