"""Access tokens (JWT) and refresh tokens (random, stored hashed).

Tokens name the key that signed them (`kid`, see `core/keys.py`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from core.keys import UnknownKey, signing_key, verification_key
from core.settings import Settings
from models.accounts import AccountKind

ISSUER = "sitedesk"
AUDIENCE = "sitedesk-api"
ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "kind", "ver", "typ"]


# Why a sent token was refused (`extensions.reason`): a client refreshes on
# TOKEN_EXPIRED and signs in again on the others.
TOKEN_EXPIRED = "TOKEN_EXPIRED"
TOKEN_INVALID = "TOKEN_INVALID"
TOKEN_REVOKED = "TOKEN_REVOKED"


class InvalidToken(Exception):
    """The token is malformed, forged, expired or not meant for this use."""

    def __init__(self, message: str, reason: str = TOKEN_INVALID) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class AccessClaims:
    account_id: int
    kind: AccountKind
    token_version: int


def issue_access_token(
    settings: Settings, account_id: int, kind: AccountKind, token_version: int, now: datetime | None = None
) -> str:
    now = now or datetime.now(UTC)
    kid, key = signing_key(settings)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(account_id),
        "kind": kind.value,
        "ver": token_version,
        "typ": ACCESS_TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


# Tokens verified lately, with their expiry: a client sends the same token with every request, and
# checking its signature and claims again costs more than the rest of a small request's HTTP work.
# Keyed by the token and the keys that verified it (a rotated-out key misses); only verified tokens
# enter, and one past its `exp` is checked in full again (and refused as expired). Revocation is
# the viewer's business (`load_viewer` checks the token version every request).
VERIFIED_CACHE_SIZE = 4096
_verified: OrderedDict[tuple[str, tuple[str, ...]], tuple[AccessClaims, float]] = OrderedDict()


def read_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify an access token; raise `InvalidToken` for anything short of perfect."""
    cache_key = (token, settings.secret_keys)
    verified = _verified.get(cache_key)
    if verified is not None:
        if time.time() < verified[1]:
            _verified.move_to_end(cache_key)  # least recently used goes first
            return verified[0]
        del _verified[cache_key]  # expired: verified in full again below (and refused as expired)
    claims = verified_claims(settings, token, ACCESS_TOKEN_TYPE)
    try:
        access = AccessClaims(int(claims["sub"]), AccountKind(claims["kind"]), int(claims["ver"]))
        expires = float(claims["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None
    _verified[cache_key] = (access, expires)
    while len(_verified) > VERIFIED_CACHE_SIZE:
        _verified.popitem(last=False)
    return access


def verified_claims(settings: Settings, token: str, token_type: str) -> dict[str, Any]:
    """The claims of a JWT we signed for `token_type` (`typ`); `InvalidToken` otherwise."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        try:
            key = verification_key(settings, header.get("kid"))
        except UnknownKey as exc:
            raise InvalidToken(str(exc)) from None
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
        if claims["typ"] != token_type:
            raise InvalidToken(f"not an {token_type} token")
        return claims
    except InvalidToken:
        raise
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken(str(exc), TOKEN_EXPIRED) from None
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None


def token_type(token: str) -> str | None:
    """The `typ` claim of a JWT, unverified (to choose how to verify it); None when unreadable."""
    try:
        typ = jwt.decode(token, options={"verify_signature": False}).get("typ")
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        return None
    return typ if isinstance(typ, str) else None


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
