"""The periodic token re-check of live sockets: one timer per distinct token, not a task per socket.

Every `SITEDESK_LIVE_RECHECK_SECONDS` each open socket's token is checked and
its viewer reloaded (a deactivated account, a revoked session or a withdrawn
permission takes effect within seconds: 4403), and when an access token's `exp`
passes its sockets close with 4401. The sockets of one token (an account's
tabs, a partner's workers) share that check and the viewer object it loads:
with thousands of sockets open, one check per token instead of one per
socket keeps the idle server idle, and no socket keeps a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

import jwt

from permissions.tokens import TOKEN_EXPIRED
from permissions.viewer import Viewer

logger = logging.getLogger("sitedesk.live")

CLOSE_TOKEN_EXPIRED = 4401
CLOSE_FORBIDDEN = 4403


class Watched(Protocol):
    """What the checks need of a socket's handler (`server.live.LiveTransportHandler`)."""

    context: Any
    view: Any

    async def close(self, code: int, reason: str) -> None: ...


def token_expiry(authorization: str) -> float | None:
    """The `exp` (epoch seconds) of a bearer JWT, read without verifying (it was verified already).

    None for tokens that are not JWTs (API tokens): those live until revoked,
    which the periodic re-check notices.
    """
    _, _, token = authorization.partition(" ")
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, (int, float)) else None


class TokenCheck:
    """The sockets of one token (of one app) and the timer of their next check."""

    __slots__ = ("key", "authorization", "handlers", "viewer", "expires", "timer", "task")

    def __init__(self, key: tuple[int, str], authorization: str, viewer: Viewer) -> None:
        self.key = key
        self.authorization = authorization
        self.handlers: dict[Watched, None] = {}
        self.viewer = viewer
        self.expires = token_expiry(authorization)
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None


class TokenChecks:
    """Every live socket's re-check in this process, by token."""

    def __init__(self) -> None:
        self.checks: dict[tuple[int, str], TokenCheck] = {}
        self.by_handler: dict[Watched, TokenCheck] = {}

    def watch(self, handler: Watched, authorization: str, viewer: Viewer) -> Viewer:
        """Re-check `handler`'s token from now on; the viewer object it shares with the token's other sockets."""
        key = (id(handler.view), authorization)
        check = self.checks.get(key)
        if check is None:
            check = self.checks[key] = TokenCheck(key, authorization, viewer)
            self._schedule(check, handler.view.settings.live_recheck_seconds)
        elif check.viewer != viewer:  # loaded just now: newer than the shared one
            check.viewer = viewer
            for other in check.handlers:
                other.context.viewer = viewer
        check.handlers[handler] = None
        self.by_handler[handler] = check
        return check.viewer

    def forget(self, handler: Watched) -> None:
        """`handler`'s socket closed: no more checks for it (nor for its token, if it was the last)."""
        check = self.by_handler.pop(handler, None)
        if check is None:
            return
        check.handlers.pop(handler, None)
        if not check.handlers:
            self._drop(check)

    def _drop(self, check: TokenCheck) -> None:
        if self.checks.get(check.key) is check:
            del self.checks[check.key]
        if check.timer is not None:
            check.timer.cancel()
        # A running check finishes on its own; it finds no handlers and stops.

    def _schedule(self, check: TokenCheck, every: float) -> None:
        wait = float(every)
        if check.expires is not None:
            wait = min(wait, check.expires - time.time())
        loop = asyncio.get_running_loop()
        check.timer = loop.call_later(max(wait, 0.0), self._due, check)

    def _due(self, check: TokenCheck) -> None:
        check.timer = None
        if self.checks.get(check.key) is not check:
            return
        check.task = asyncio.create_task(self._check(check), name="sitedesk-live-token-check")

    async def _check(self, check: TokenCheck) -> None:
        handlers = list(check.handlers)
        if not handlers:
            return
        view = handlers[0].view
        if check.expires is not None and time.time() >= check.expires:
            self._drop(check)
            await self._close(handlers, CLOSE_TOKEN_EXPIRED, "Token expired: reconnect with a fresh access token")
            return
        try:
            viewer, reason = await view.authenticate_socket(check.authorization)
        except Exception as exc:  # the database away: keep the sockets, try again
            logger.warning("live updates: re-checking a socket's token failed: %s", exc)
            viewer, reason = check.viewer, None
        if viewer is None:
            self._drop(check)
            code = CLOSE_TOKEN_EXPIRED if reason == TOKEN_EXPIRED else CLOSE_FORBIDDEN
            await self._close(handlers, code, f"Forbidden: {reason}")
            return
        if viewer != check.viewer:
            check.viewer = viewer
        for handler in check.handlers:
            handler.context.viewer = check.viewer
        if self.checks.get(check.key) is check:
            self._schedule(check, view.settings.live_recheck_seconds)

    @staticmethod
    async def _close(handlers: list[Watched], code: int, reason: str) -> None:
        async def close(handler: Watched) -> None:
            with contextlib.suppress(Exception):
                await handler.close(code, reason)

        await asyncio.gather(*(close(handler) for handler in handlers))


CHECKS = TokenChecks()
