"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}`. Without
`query`, the server looks the hash up (`PERSISTED_QUERY_NOT_FOUND` when it does not know
it, and the client resends the hash with the query); with `query`, the hash must be the
SHA-256 of that text (`BAD_USER_INPUT` otherwise); once the query ran without any error
(so it parsed, validated and nothing refused it) the pair is stored in the database (table
`persisted_query`, `register`), so every server process knows it. Storing is bounded: an
anonymous address registers a few per hour, the table has a cap (least recently used out
first) and rows unused for days are deleted. A row's text never changes (the key is its
hash), so each process also keeps the ones it has seen in memory, re-reading hourly.
`SITEDESK_PERSISTED_QUERIES=false` answers `PERSISTED_QUERY_NOT_SUPPORTED` instead.

Trusted documents: `SITEDESK_TRUSTED_DOCUMENTS=path` names an Apollo persisted-query
manifest (`{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
[{"id", "name", "type", "body"}]}`). Then every request that is not sent with an API
token (`Authorization: Bearer sdk_…`) may run only the listed operations, sent by `id`
(as `extensions.persistedQuery.sha256Hash`) or by full text; anything else is
`PERSISTED_QUERY_NOT_FOUND`. Anonymous requests count as restricted too: the web app's
`login` and `refreshToken` are in its manifest, and nothing else is open to strangers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError

from core.database import dialect
from core.settings import ConfigurationError, Settings
from models.http import PersistedQuery, PersistedQueryQuota

logger = logging.getLogger("sitedesk")

# A SHA-256 in hex, or a manifest's own operation id.
HASH = re.compile(r"^[0-9A-Za-z_.:-]{1,128}$")
API_TOKEN_PREFIX = "sdk_"
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"  # the text Apollo's clients look for
NOT_TRUSTED_MESSAGE = "This operation is not one of the trusted documents of this server."
MAX_STORED_QUERY = 100_000  # characters; longer documents are run but not stored
CACHE_SIZE = 2048
# A row's last_used_at is written at most this often (a lookup is a read, not a write, per request).
TOUCH_SECONDS = 3600
# Anonymous registrations are counted per client address in windows of this length.
QUOTA_WINDOW_SECONDS = 3600
# Rows unused for SITEDESK_PERSISTED_QUERIES_UNUSED_DAYS are deleted this often (and at start).
SWEEP_SECONDS = 600


class PersistedQueryError(Exception):
    """A refusal of the persisted-query step: `code` and extras become the error's extensions."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extensions = {"code": code, **extensions}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TrustedDocuments:
    """The operations of one manifest, by manifest id and by the SHA-256 of their body."""

    by_id: dict[str, str]
    by_hash: dict[str, str]

    def find(self, key: str) -> str | None:
        return self.by_id.get(key) or self.by_hash.get(key)

    def __len__(self) -> int:
        return len(self.by_id)


def load_manifest(path: Path) -> TrustedDocuments:
    """Read an Apollo persisted-query manifest; a broken one stops the server at start."""
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigurationError(f"SITEDESK_TRUSTED_DOCUMENTS: cannot read {path}: {exc}") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != "apollo-persisted-query-manifest"
        or manifest.get("version") != 1
        or not isinstance(manifest.get("operations"), list)
    ):
        raise ConfigurationError(
            f"SITEDESK_TRUSTED_DOCUMENTS: {path} is not an apollo-persisted-query-manifest of version 1"
        )
    by_id: dict[str, str] = {}
    for index, operation in enumerate(manifest["operations"]):
        if not isinstance(operation, dict) or not isinstance(operation.get("body"), str):
            raise ConfigurationError(f"SITEDESK_TRUSTED_DOCUMENTS: operation {index} in {path} has no body")
        body = operation["body"]
        by_id[str(operation.get("id") or sha256_hex(body))] = body
    return TrustedDocuments(by_id=by_id, by_hash={sha256_hex(body): body for body in by_id.values()})


def is_api_token(authorization: str | None) -> bool:
    """An `Authorization: Bearer sdk_…` header: an integration's API token, exempt from trusted documents."""
    if not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and token.strip().startswith(API_TOKEN_PREFIX)


@dataclass(frozen=True)
class Registration:
    """A hash and query a request offered to register; stored after it ran (`PersistedQueries.register`)."""

    sha256: str
    query: str


class PersistedQueries:
    """The persisted-query step of one server process (the app owns one).

    `resolve` finds the document a request runs; a query sent with its hash is stored only by
    `register`, once it ran without any error (so it parsed, validated and was not refused), within
    the limits: anonymous clients `persisted_queries_per_address` per address and hour (none with
    `persisted_queries_anonymous` off), at most `persisted_queries_max` rows (the least recently used
    go first), and rows unused for `persisted_queries_unused_days` are deleted (`clean_up`).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.persisted_queries
        self.trusted = load_manifest(settings.trusted_documents) if settings.trusted_documents else None
        # sha256 -> (query, when this process last wrote its last_used_at, monotonic seconds)
        self._known: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._swept = 0.0
        self._task: asyncio.Task[None] | None = None

    async def lookup(self, sha256: str) -> str | None:
        known = self._known.get(sha256)
        if known is not None:
            query, touched = known
            if time.monotonic() - touched < TOUCH_SECONDS:
                self._known.move_to_end(sha256)
                return query
        row = await PersistedQuery.get_or_none(sha256=sha256)
        if row is None:
            self._known.pop(sha256, None)
            return None
        now = datetime.now(UTC)
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_SECONDS:
            await PersistedQuery.filter(sha256=sha256).update(last_used_at=now)
        self._remember(sha256, row.query)
        return row.query

    async def register(self, registration: Registration, anonymous: bool, address: str | None) -> bool:
        """Store a query that ran without errors, within the limits; whether it is stored now."""
        settings = self.settings
        if registration.sha256 in self._known or len(registration.query) > MAX_STORED_QUERY:
            return registration.sha256 in self._known
        if await PersistedQuery.exists(sha256=registration.sha256):
            self._remember(registration.sha256, registration.query)
            return True
        if anonymous and not (settings.persisted_queries_anonymous and await self._within_quota(address)):
            return False
        try:
            await PersistedQuery.create(
                sha256=registration.sha256, query=registration.query, last_used_at=datetime.now(UTC)
            )
        except IntegrityError:
            pass  # another process stored the same document a moment ago
        self._remember(registration.sha256, registration.query)
        await self._evict()
        if time.monotonic() - self._swept > SWEEP_SECONDS:
            await self.clean_up()
        return True

    async def _within_quota(self, address: str | None) -> bool:
        """Count one anonymous registration for the address; whether it is within the hourly quota."""
        now = int(time.time())
        rows = await PersistedQueryQuota._meta.db.execute_query_dict(
            *_quota_upsert("address:" + (address or "unknown")[:90], now, now - QUOTA_WINDOW_SECONDS)
        )
        if int(rows[0]["registrations"]) == 1:  # a new window: sweep the finished ones
            await PersistedQueryQuota.filter(window_started__lte=now - QUOTA_WINDOW_SECONDS).delete()
        return int(rows[0]["registrations"]) <= self.settings.persisted_queries_per_address

    async def _evict(self) -> None:
        """Over the cap: delete the least recently used rows (several processes may each delete a few)."""
        excess = await PersistedQuery.all().count() - self.settings.persisted_queries_max
        if excess <= 0:
            return
        victims = (
            await PersistedQuery.all()
            .order_by("last_used_at", "created_at")
            .limit(excess)
            .values_list("sha256", flat=True)
        )
        await PersistedQuery.filter(sha256__in=list(victims)).delete()
        for sha256 in victims:
            self._known.pop(str(sha256), None)

    async def clean_up(self, now: datetime | None = None) -> int:
        """Delete the rows unused for `persisted_queries_unused_days`; how many went.

        One DELETE by a cut-off: processes running it together delete each row once.
        """
        self._swept = time.monotonic()
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.settings.persisted_queries_unused_days)
        deleted = await PersistedQuery.filter(last_used_at__lt=cutoff).delete()
        if deleted:
            self._known.clear()  # a cache: what is still stored comes back on the next lookup
        return int(deleted)

    def start(self) -> None:
        """Clean up now and every `SWEEP_SECONDS` while the app runs."""
        if self.enabled and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._sweep(), name="sitedesk-persisted-queries")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _sweep(self) -> None:
        while True:
            try:
                removed = await self.clean_up()
                if removed:
                    logger.info(
                        "persisted queries: %s unused for %s days deleted",
                        removed,
                        self.settings.persisted_queries_unused_days,
                    )
            except Exception as exc:  # the database away for a moment: next round
                logger.warning("persisted queries: clean-up failed: %s", exc)
            await asyncio.sleep(SWEEP_SECONDS)

    def _remember(self, sha256: str, query: str) -> None:
        self._known[sha256] = (query, time.monotonic())
        self._known.move_to_end(sha256)
        while len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)

    def offered(self, query: str | None, extensions: dict[str, Any] | None) -> Registration | None:
        """The registration a request offers (a query with its hash, APQ on), checked by `resolve` first."""
        persisted = (extensions or {}).get("persistedQuery")
        if not self.enabled or query is None or not isinstance(persisted, dict):
            return None
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or sha256.lower() != sha256_hex(query):
            return None
        if self.trusted is not None and sha256_hex(query) in self.trusted.by_hash:
            return None  # a trusted document needs no row
        return Registration(sha256_hex(query), query)

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, authorization: str | None
    ) -> str | None:
        """The document to run: `query` itself, or the one a hash names; raises `PersistedQueryError`.

        Nothing is stored here: `register` does that once the query ran without errors.
        """
        restricted = self.trusted is not None and not is_api_token(authorization)
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if restricted and query is not None and self.trusted is not None:
                if sha256_hex(query) not in self.trusted.by_hash:
                    raise PersistedQueryError(NOT_TRUSTED_MESSAGE, "PERSISTED_QUERY_NOT_FOUND")
            return query
        sha256 = self._hash_of(persisted)
        if self.trusted is not None and query is None:
            trusted = self.trusted.find(sha256)
            if trusted is not None:
                return trusted
            if restricted:
                raise PersistedQueryError(NOT_TRUSTED_MESSAGE, "PERSISTED_QUERY_NOT_FOUND")
        if query is not None:
            if sha256_hex(query) != sha256:
                raise PersistedQueryError(
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query.",
                    "BAD_USER_INPUT",
                    field="extensions.persistedQuery.sha256Hash",
                )
            if restricted and self.trusted is not None and sha256 not in self.trusted.by_hash:
                raise PersistedQueryError(NOT_TRUSTED_MESSAGE, "PERSISTED_QUERY_NOT_FOUND")
            return query
        if not self.enabled:
            raise PersistedQueryError("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
        found = await self.lookup(sha256)
        if found is None:
            raise PersistedQueryError(NOT_FOUND_MESSAGE, "PERSISTED_QUERY_NOT_FOUND")
        return found

    def _hash_of(self, persisted: Any) -> str:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            if self.enabled or self.trusted is not None:
                raise PersistedQueryError(
                    "extensions.persistedQuery must be {version: 1, sha256Hash}.",
                    "BAD_USER_INPUT",
                    field="extensions.persistedQuery",
                )
            raise PersistedQueryError("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not HASH.match(sha256):
            raise PersistedQueryError(
                "extensions.persistedQuery.sha256Hash must be the query's SHA-256 in hexadecimal.",
                "BAD_USER_INPUT",
                field="extensions.persistedQuery.sha256Hash",
            )
        return sha256.lower() if len(sha256) == 64 else sha256


def _quota_upsert(address: str, now: int, expired: int) -> tuple[str, list[object]]:
    """SQL and values: insert or bump the address's count, restarting an expired window."""
    if dialect() == "sqlite":  # positional `?`, in order of appearance
        address_p, now_p, expired_p = "?", "?", "?"
        values: list[object] = [address, now, expired, expired, now]
    else:
        address_p, now_p, expired_p = "$1", "$2", "$3"
        values = [address, now, expired]
    sql = (
        f'INSERT INTO "persisted_query_quota" ("address", "registrations", "window_started") '
        f'VALUES ({address_p}, 1, {now_p}) ON CONFLICT ("address") DO UPDATE SET '
        f'"registrations" = CASE WHEN "persisted_query_quota"."window_started" <= {expired_p} THEN 1 '
        'ELSE "persisted_query_quota"."registrations" + 1 END, '
        f'"window_started" = CASE WHEN "persisted_query_quota"."window_started" <= {expired_p} '
        f'THEN {now_p} ELSE "persisted_query_quota"."window_started" END '
        'RETURNING "registrations"'
    )
    return sql, values
