"""Signing keys: which key signs, which keys verify, and HMAC signatures with a key id.

Every signature carries a key id (`kid`), so keys can be rotated: new tokens
and URLs are signed with the newest key of `SITEDESK_SECRET_KEYS`, and any
listed key still verifies.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from core.settings import Settings


class UnknownKey(Exception):
    """No configured key has this key id."""


@functools.lru_cache(maxsize=64)
def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _hmac(key: str, message: str) -> str:
    # The one-shot C digest: the same HMAC-SHA256 as `hmac.new(...).hexdigest()`, a page of signed URLs faster.
    return hmac.digest(key.encode(), message.encode(), "sha256").hex()


def signing_key(settings: Settings) -> tuple[str, str]:
    """(kid, key) to sign new tokens and URLs with."""
    return key_id(settings.secret_key), settings.secret_key


def verification_key(settings: Settings, kid: str | None) -> str:
    for key in settings.secret_keys:
        if key_id(key) == kid:
            return key
    raise UnknownKey("unknown signing key")


def sign(settings: Settings, message: str) -> str:
    """`kid.signature` over `message` with the newest key (for signed URLs)."""
    kid, key = signing_key(settings)
    return f"{kid}.{_hmac(key, message)}"


def verify_signature(settings: Settings, message: str, signature: str) -> bool:
    kid, _, digest = signature.partition(".")
    try:
        key = verification_key(settings, kid)
    except UnknownKey:
        return False
    return hmac.compare_digest(_hmac(key, message), digest)
