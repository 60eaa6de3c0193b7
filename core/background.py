"""A background loop that drains an outbox: rounds until stopped, woken early on demand.

The mail sender (`mail/sender.py`) and the webhook sender (`webhooks/sender.py`) are
both one of these: each says what a round does (`deliver_round`, answering how many
rows it claimed) and the loop runs it again at once while rounds come back full, else
every `poll_seconds` or when woken.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


class OutboxLoop:
    """Runs `deliver_round` in the background until stopped."""

    name = "outbox"  # for the task and the log lines
    batch_size = 1  # a round that claimed this many rows runs again at once

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def deliver_round(self) -> int:
        """One round: deliver what is due; how many rows it claimed."""
        raise NotImplementedError

    def started_note(self) -> str:
        return ""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=f"sitedesk-{self.name}")
        logger.info("%s started%s", self.name, self.started_note())

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll."""
        self._wake.set()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish the round in progress (or cancel it after the grace period) and stop."""
        if self._task is None:
            return
        self._stop.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except TimeoutError:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._task = None
        logger.info("%s stopped", self.name)

    async def _run(self) -> None:
        while not self._stop.is_set():
            full = False
            try:
                full = await self.deliver_round() >= self.batch_size
            except Exception:  # the database may be away for a moment: keep the loop alive
                logger.exception("%s round failed", self.name)
            if full:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
