"""`GET /ready`: may a load balancer send this process requests?

`GET /health` says the process lives and its database answers; `/ready` also checks that the
database's migrations are all applied (a process of a newer version than its schema must not take
traffic), that the files backend answers, and that the mail outbox is not stuck (mail due for
more than `OUTBOX_STUCK_MINUTES` that no process delivers). 200 `{"status": "ready", ...parts}`,
503 `{"status": "unavailable", ...parts}` where each part is `"ok"` or says what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.connection import get_connection

from core.database import pending_migrations
from core.settings import Settings
from files.backends import store_for

logger = logging.getLogger("sitedesk")
OUTBOX_STUCK_MINUTES = 15
CHECK_SECONDS = 5.0
# Migrations do not change while a process runs: once current, not asked again.
_migrated: set[str] = set()


async def _database() -> str:
    await get_connection("default").execute_query("SELECT 1")
    return "ok"


async def _migrations(settings: Settings) -> str:
    if settings.database_url in _migrated:
        return "ok"
    pending = await pending_migrations()
    if pending:
        return f"{len(pending)} pending"
    _migrated.add(settings.database_url)
    return "ok"


async def _files(settings: Settings) -> str:
    await asyncio.to_thread(lambda: store_for(settings).ping())
    return "ok"


async def _outbox() -> str:
    due_before = datetime.now(UTC) - timedelta(minutes=OUTBOX_STUCK_MINUTES)
    from models.notifications import DeliveryStatus, OutboxMail

    overdue = await OutboxMail.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=due_before).count()
    return "ok" if overdue == 0 else f"{overdue} mails overdue by more than {OUTBOX_STUCK_MINUTES} minutes"


async def _check(name: str, check: Awaitable[str]) -> tuple[str, str]:
    try:
        return name, await asyncio.wait_for(check, CHECK_SECONDS)
    except TimeoutError:
        return name, f"no answer within {CHECK_SECONDS:g} s"
    except Exception as exc:  # any failure of a part makes the process unready; its kind is named
        logger.warning("readiness: %s failed: %s", name, exc)
        return name, f"unavailable ({type(exc).__name__})"


async def ready(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    parts = dict([await _check("database", _database())])
    if parts["database"] == "ok":
        parts.update([await _check("migrations", _migrations(settings)), await _check("outbox", _outbox())])
    else:
        parts.update({"migrations": "unknown", "outbox": "unknown"})
    parts.update([await _check("files", _files(settings))])
    healthy = all(value == "ok" for value in parts.values())
    return JSONResponse({"status": "ready" if healthy else "unavailable", **parts}, status_code=200 if healthy else 503)
