"""Bearer credentials beyond a session: API tokens (`sdk_…`) and impersonation tokens.

`viewer_for_bearer` is the one function that turns the credential of an
`Authorization: Bearer …` value into a `Viewer` (or raises `InvalidToken` /
`TokenBudgetExceeded`); `server.app.viewer_from_header` parses the header and
calls it, for HTTP requests and for anything else that receives a bearer value.

- **API token**: `sdk_` + 43 random URL-safe characters (256 bits). Only the
  SHA-256 of the whole secret is stored, and its first 12 characters as
  `prefix`. It acts as its account exactly (the account's viewer: the same
  policies and scopes), read-only tokens refuse every mutation
  (`read_only = READ_ONLY_TOKEN`, enforced by `schema.api_tokens.ReadOnlyViewers`).
  A revoked token, or one of a deactivated account, is `TOKEN_REVOKED`; an
  expired one `TOKEN_EXPIRED`. A password change does not touch tokens.
- **Request budget**: each token may send `token_requests_per_minute`
  requests per clock minute, counted in `api_token_usage` by one atomic
  upsert per request (so every server process shares the count). The first
  request of a minute also writes `last_used_at` and sweeps the token's older
  counters: at most one such write per token and minute.
- **Impersonation token**: a JWT (`typ` "impersonation") whose `sub` is the
  customer user's account and whose `act` claim (RFC 8693) names the
  administrator. It reads as that customer user; every mutation is refused
  (`IMPERSONATION_READ_ONLY`). It stops working when it expires, when either
  account's sessions end, or when the administrator loses the right to impersonate.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from tortoise.queryset import QuerySet

from core.database import dialect
from core.keys import signing_key
from core.settings import Settings
from models.accounts import Account, AccountKind
from models.api_tokens import ApiToken, ApiTokenUsage
from permissions.policy import PORTAL_ADMINS, SYSTEM_ADMINS
from permissions.tokens import (
    ALGORITHM,
    AUDIENCE,
    ISSUER,
    TOKEN_EXPIRED,
    TOKEN_REVOKED,
    AccessClaims,
    InvalidToken,
    read_access_token,
    token_type,
    verified_claims,
)
from permissions.viewer import Viewer, load_viewer, load_viewers

API_TOKEN_PREFIX = "sdk_"
PREFIX_LENGTH = 12
IMPERSONATION_TOKEN_TYPE = "impersonation"

# `extensions.reason` of a mutation refused for how the viewer signed in.
READ_ONLY_TOKEN = "READ_ONLY_TOKEN"
IMPERSONATION_READ_ONLY = "IMPERSONATION_READ_ONLY"
READ_ONLY_MESSAGES = {
    READ_ONLY_TOKEN: "This API token is read-only: it may not run mutations.",
    IMPERSONATION_READ_ONLY: "An impersonation session is read-only: it may not run mutations.",
}

# The whole window a counter row covers.
WINDOW_SECONDS = 60


class TokenBudgetExceeded(Exception):
    """The token has used up its requests of this minute; `retry_after` seconds until the next."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"This API token has sent more than {limit} requests this minute. Try again in {retry_after} seconds."
        )
        self.limit = limit
        self.retry_after = retry_after


# ------------------------------------------------------------- secrets


def new_api_token() -> tuple[str, str, str]:
    """(secret for the client, hash to store, prefix to show)."""
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_api_token(secret), secret[:PREFIX_LENGTH]


def hash_api_token(secret: str) -> str:
    # The secret has 256 random bits: a plain SHA-256 cannot be searched, no slow hash needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def is_api_token(credential: str) -> bool:
    return credential.startswith(API_TOKEN_PREFIX)


# ------------------------------------------------------------- the one entry


async def viewer_for_bearer(settings: Settings, credential: str, now: datetime | None = None) -> Viewer:
    """The viewer a bearer credential names: an API token, an impersonation token or a session's access token.

    Raises `InvalidToken` (with its `reason`) when it names no live viewer and
    `TokenBudgetExceeded` when an API token is over its budget.
    """
    if is_api_token(credential):
        return await api_token_viewer(settings, credential, now)
    if token_type(credential) == IMPERSONATION_TOKEN_TYPE:
        return await impersonation_viewer(settings, credential)
    claims = read_access_token(settings, credential)
    found = _session_viewer(claims, await load_viewer(claims.account_id, claims.token_version))
    if isinstance(found, InvalidToken):
        raise found
    return found


def _session_viewer(claims: AccessClaims, viewer: Viewer | None) -> Viewer | InvalidToken:
    """The viewer an access token's claims name, given what was loaded for them, or why there is none."""
    if viewer is None:
        return InvalidToken("the session has ended", TOKEN_REVOKED)
    if viewer.kind is not claims.kind:
        return InvalidToken("the token names another kind of account")
    return viewer


def is_session_token(credential: str) -> bool:
    """Whether `credential` is meant as a session's access token (not an API or impersonation token)."""
    return not is_api_token(credential) and token_type(credential) != IMPERSONATION_TOKEN_TYPE


async def session_viewers(settings: Settings, credentials: list[str]) -> dict[str, Viewer | InvalidToken]:
    """`viewer_for_bearer` for many sessions' access tokens at once: their viewers in one statement.

    Each credential answers its viewer or the `InvalidToken` `viewer_for_bearer` would raise.
    """
    answers: dict[str, Viewer | InvalidToken] = {}
    claims = {}
    for credential in credentials:
        try:
            claims[credential] = read_access_token(settings, credential)
        except InvalidToken as exc:
            answers[credential] = exc
    viewers = await load_viewers((c.account_id, c.token_version) for c in claims.values())
    for credential, claim in claims.items():
        answers[credential] = _session_viewer(claim, viewers.get((claim.account_id, claim.token_version)))
    return answers


# ------------------------------------------------------------- API tokens


async def api_token_viewer(settings: Settings, secret: str, now: datetime | None = None) -> Viewer:
    now = now or datetime.now(UTC)
    rows = await ApiToken.filter(token_hash=hash_api_token(secret)).values(
        "id", "account_id", "read_only", "expires_at", "revoked_at", "account__token_version", "account__is_active"
    )
    if not rows:
        raise InvalidToken("unknown API token")
    token = rows[0]
    if token["revoked_at"] is not None or not token["account__is_active"]:
        raise InvalidToken("the API token was revoked", TOKEN_REVOKED)
    if token["expires_at"] is not None and token["expires_at"] <= now:
        raise InvalidToken("the API token has expired", TOKEN_EXPIRED)
    viewer = await load_viewer(token["account_id"], token["account__token_version"])
    if viewer is None:
        raise InvalidToken("the API token's account is gone", TOKEN_REVOKED)
    await count_token_request(settings, token["id"], now)
    return dataclasses.replace(
        viewer, api_token_id=token["id"], read_only=READ_ONLY_TOKEN if token["read_only"] else None
    )


async def count_token_request(settings: Settings, token_id: int, now: datetime) -> int:
    """Count one request of the token in the current minute; `TokenBudgetExceeded` beyond the budget.

    Returns the count so far. The first request of a minute stamps
    `last_used_at` and drops the token's older counters.
    """
    seconds = int(now.timestamp())
    window = seconds // WINDOW_SECONDS
    rows = await ApiTokenUsage._meta.db.execute_query_dict(*_usage_upsert(token_id, window))
    count = int(rows[0]["requests"])
    if count == 1:
        await ApiToken.filter(id=token_id).update(last_used_at=now)
        await ApiTokenUsage.filter(token_id=token_id, minute__lt=window).delete()
    limit = settings.token_requests_per_minute
    if count > limit:
        raise TokenBudgetExceeded(limit, max((window + 1) * WINDOW_SECONDS - seconds, 1))
    return count


def _usage_upsert(token_id: int, window: int) -> tuple[str, list[object]]:
    token_p, window_p = ("?", "?") if dialect() == "sqlite" else ("$1", "$2")
    sql = (
        f'INSERT INTO "api_token_usage" ("token_id", "minute", "requests") VALUES ({token_p}, {window_p}, 1) '
        'ON CONFLICT ("token_id", "minute") DO UPDATE SET "requests" = "api_token_usage"."requests" + 1 '
        'RETURNING "requests"'
    )
    return sql, [token_id, window]


# ------------------------------------------------------------- impersonation


def issue_impersonation_token(
    settings: Settings, actor: Viewer, account_id: int, token_version: int, now: datetime | None = None
) -> tuple[str, datetime]:
    """(token, expiry) reading as the customer user's account `account_id`, naming `actor` in `act`."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(minutes=settings.impersonation_minutes)
    kid, key = signing_key(settings)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(account_id),
        "kind": AccountKind.CUSTOMER_USER.value,
        "ver": token_version,
        "typ": IMPERSONATION_TOKEN_TYPE,
        "act": {"sub": str(actor.account_id), "name": actor.name},
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid}), expires.replace(microsecond=0)


async def impersonation_viewer(settings: Settings, token: str) -> Viewer:
    claims = verified_claims(settings, token, IMPERSONATION_TOKEN_TYPE)
    try:
        subject_id, version = int(claims["sub"]), int(claims["ver"])
        actor_id = int(claims["act"]["sub"])
        kind = AccountKind(claims["kind"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken(str(exc)) from None
    if kind is not AccountKind.CUSTOMER_USER:
        raise InvalidToken("only customer users are impersonated")
    actor = await _current_viewer(actor_id)
    if actor is None or not PORTAL_ADMINS.allows(actor):
        raise InvalidToken("the impersonating administrator may no longer impersonate", TOKEN_REVOKED)
    viewer = await load_viewer(subject_id, version)
    if viewer is None or not viewer.is_customer_user:
        raise InvalidToken("the impersonated account's sessions have ended", TOKEN_REVOKED)
    return dataclasses.replace(viewer, read_only=IMPERSONATION_READ_ONLY, impersonator_account_id=actor_id)


async def _current_viewer(account_id: int) -> Viewer | None:
    """The account's viewer as of now, whatever its token version (None when inactive or gone)."""
    account = await Account.filter(id=account_id, is_active=True).only("id", "token_version").first()
    return await load_viewer(account_id, account.token_version) if account is not None else None


def visible_api_tokens(viewer: Viewer) -> QuerySet[ApiToken]:
    """System administrators see every token (revoked and expired ones too); nobody else any."""
    return ApiToken.all() if SYSTEM_ADMINS.allows(viewer) else ApiToken.filter(id__in=[])
