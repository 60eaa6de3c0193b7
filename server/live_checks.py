"""The periodic token re-check of live sockets: one statement per tick for every token, not a task per socket.

Every `SITEDESK_LIVE_RECHECK_SECONDS` each open socket's token is checked and
its viewer reloaded (a deactivated account, a revoked session or a withdrawn
permission takes effect within seconds: 4403), and when an access token's `exp`
passes its sockets close with 4401 (a timer per token). The sockets of one
token (an account's tabs, a partner's workers) share that check and the viewer
object it loads, and one tick checks all tokens together: the sessions' access
tokens are verified here and their viewers loaded in one statement
(`permissions.api_tokens.session_viewers`), API and impersonation tokens one by
one. With thousands of sockets open the idle server stays idle, and no socket
keeps a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

import jwt

from permissions.api_tokens import is_session_token, session_viewers
from permissions.tokens import TOKEN_EXPIRED, InvalidToken
from permissions.viewer import Viewer

logger = logging.getLogger("sitedesk.live")

CLOSE_TOKEN_EXPIRED = 4401
CLOSE_FORBIDDEN = 4403
EXPIRED_REASON = "Token expired: reconnect with a fresh access token"


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
    """The sockets of one token (of one app) and the timer of its expiry."""

    __slots__ = ("key", "authorization", "handlers", "viewer", "expires", "timer")

    def __init__(self, key: tuple[int, str], authorization: str, viewer: Viewer) -> None:
        self.key = key
        self.authorization = authorization
        self.handlers: dict[Watched, None] = {}
        self.viewer = viewer
        self.expires = token_expiry(authorization)
        self.timer: asyncio.TimerHandle | None = None


async def authenticate_all(view: Any, authorizations: list[str]) -> dict[str, tuple[Viewer | None, str | None]]:
    """`view.authenticate_socket` for many tokens: sessions' access tokens in one statement, others one by one."""
    answers: dict[str, tuple[Viewer | None, str | None]] = {}
    sessions: dict[str, str] = {}  # Authorization value -> its access token
    for authorization in authorizations:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip() and is_session_token(token.strip()):
            sessions[authorization] = token.strip()
        else:
            answers[authorization] = await view.authenticate_socket(authorization)
    found = await session_viewers(view.settings, sorted(set(sessions.values())))
    for authorization, token in sessions.items():
        viewer = found[token]
        answers[authorization] = (None, viewer.reason) if isinstance(viewer, InvalidToken) else (viewer, None)
    return answers


class TokenChecks:
    """Every live socket's re-check in this process, by token, on one tick."""

    def __init__(self) -> None:
        self.checks: dict[tuple[int, str], TokenCheck] = {}
        self.by_handler: dict[Watched, TokenCheck] = {}
        self.tick: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.every = 5.0  # SITEDESK_LIVE_RECHECK_SECONDS, from the last socket watched
        self.closing: set[asyncio.Task[None]] = set()  # expired tokens' sockets being closed

    def watch(self, handler: Watched, authorization: str, viewer: Viewer) -> Viewer:
        """Re-check `handler`'s token from now on; the viewer object it shares with the token's other sockets."""
        key = (id(handler.view), authorization)
        check = self.checks.get(key)
        if check is None:
            check = self.checks[key] = TokenCheck(key, authorization, viewer)
            if check.expires is not None:
                wait = max(check.expires - time.time(), 0.0)
                check.timer = asyncio.get_running_loop().call_later(wait, self._expired, check)
        elif check.viewer != viewer:  # loaded just now: newer than the shared one
            check.viewer = viewer
            for other in check.handlers:
                other.context.viewer = viewer
        check.handlers[handler] = None
        self.by_handler[handler] = check
        self.every = float(handler.view.settings.live_recheck_seconds)
        if self.tick is None and self.task is None:
            self._schedule()
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
            check.timer = None
        # A running check finishes on its own; it skips a dropped token.

    def _schedule(self) -> None:
        self.tick = asyncio.get_running_loop().call_later(self.every, self._due)

    def _due(self) -> None:
        self.tick = None
        if self.checks:
            self.task = asyncio.create_task(self._check_all(), name="sitedesk-live-token-checks")

    def _expired(self, check: TokenCheck) -> None:
        check.timer = None
        if self.checks.get(check.key) is not check:
            return
        handlers = list(check.handlers)
        self._drop(check)
        closing = asyncio.create_task(self._close(handlers, CLOSE_TOKEN_EXPIRED, EXPIRED_REASON))
        self.closing.add(closing)
        closing.add_done_callback(self.closing.discard)

    async def _check_all(self) -> None:
        try:
            by_view: dict[Any, list[TokenCheck]] = {}
            for check in list(self.checks.values()):
                if check.handlers:
                    by_view.setdefault(next(iter(check.handlers)).view, []).append(check)
            for view, checks in by_view.items():
                await self._check(view, checks)
        finally:
            self.task = None
            if self.checks and self.tick is None:
                self._schedule()

    async def _check(self, view: Any, checks: list[TokenCheck]) -> None:
        try:
            answers = await authenticate_all(view, [check.authorization for check in checks])
        except Exception as exc:  # the database away: keep the sockets, try again
            logger.warning("live updates: re-checking the sockets' tokens failed: %s", exc)
            return
        for check in checks:
            if self.checks.get(check.key) is not check:
                continue  # its sockets closed meanwhile
            viewer, reason = answers[check.authorization]
            if viewer is None:
                handlers = list(check.handlers)
                self._drop(check)
                code = CLOSE_TOKEN_EXPIRED if reason == TOKEN_EXPIRED else CLOSE_FORBIDDEN
                await self._close(handlers, code, f"Forbidden: {reason}")
                continue
            if viewer != check.viewer:
                check.viewer = viewer
            for handler in check.handlers:
                handler.context.viewer = check.viewer

    @staticmethod
    async def _close(handlers: list[Watched], code: int, reason: str) -> None:
        async def close(handler: Watched) -> None:
            with contextlib.suppress(Exception):
                await handler.close(code, reason)

        await asyncio.gather(*(close(handler) for handler in handlers))


CHECKS = TokenChecks()
