"""Signed, expiring download URLs that work without the Authorization header."""

from __future__ import annotations

import time

from core.keys import sign, verify_signature
from core.settings import Settings


def _message(kind: str, pk: int, expires: int) -> str:
    return f"{kind}:{pk}:{expires}"


def signed_path(settings: Settings, kind: str, pk: int, now: float | None = None) -> str:
    """`/files/{kind}/{pk}?expires=…&signature=…`, valid for the configured minutes."""
    expires = int((now or time.time()) + settings.download_url_minutes * 60)
    signature = sign(settings, _message(kind, pk, expires))
    return f"/files/{kind}/{pk}?expires={expires}&signature={signature}"


def signed_url(settings: Settings, kind: str, pk: int, now: float | None = None) -> str:
    """The absolute download URL: `SITEDESK_PUBLIC_URL` followed by `signed_path`."""
    return settings.public_url + signed_path(settings, kind, pk, now)


def check_signed(settings: Settings, kind: str, pk: int, expires: str, signature: str) -> bool:
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return verify_signature(settings, _message(kind, pk, int(expires)), signature)
