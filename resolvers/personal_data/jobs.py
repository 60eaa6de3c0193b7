"""The background job of data protection: builds requested exports, removes expired ones and,
when `SITEDESK_RETENTION_DAYS` is set, old tickets.

Every part is safe with several processes running it at once (claimed exports, re-checked
ticket removals), so each server process may run the job, like the mail sender.
"""

from __future__ import annotations

import time

from core.background import OutboxLoop
from core.settings import Settings
from resolvers.personal_data.export import build_due_exports, remove_expired_exports
from resolvers.personal_data.retention import BATCH, remove_expired_tickets

POLL_SECONDS = 5.0
# Expired exports and retention are looked at this often (a full retention batch runs again at once).
SWEEP_SECONDS = 600.0


class PersonalDataJobs(OutboxLoop):
    name = "personal-data jobs"
    batch_size = 1

    def __init__(self, settings: Settings, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(poll_seconds)
        self.settings = settings
        self.next_sweep = 0.0

    def started_note(self) -> str:
        days = self.settings.retention_days
        return f" (retention: {days} days)" if days is not None else " (retention off)"

    async def deliver_round(self) -> int:
        claimed = await build_due_exports(self.settings, limit=1)
        if time.monotonic() >= self.next_sweep:
            await remove_expired_exports(self.settings)
            removed = await remove_expired_tickets(self.settings, limit=BATCH)
            # A full batch means more are due: sweep again next round.
            self.next_sweep = 0.0 if len(removed) >= BATCH else time.monotonic() + SWEEP_SECONDS
        return claimed
