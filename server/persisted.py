"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}`. Without
`query`, the server looks the hash up (`PERSISTED_QUERY_NOT_FOUND` when it does not know
it, and the client resends the hash with the query); with `query`, the hash must be the
SHA-256 of that text (`BAD_USER_INPUT` otherwise) and the pair is stored in the database
(table `persisted_query`), so every server process knows it. Rows never change (the key
is the hash of the value), so each process also keeps the ones it has seen in memory.
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

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError

from core.settings import ConfigurationError, Settings
from models.http import PersistedQuery

# A SHA-256 in hex, or a manifest's own operation id.
HASH = re.compile(r"^[0-9A-Za-z_.:-]{1,128}$")
API_TOKEN_PREFIX = "sdk_"
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"  # the text Apollo's clients look for
NOT_TRUSTED_MESSAGE = "This operation is not one of the trusted documents of this server."
MAX_STORED_QUERY = 100_000  # characters; longer documents are run but not stored
CACHE_SIZE = 2048


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


class PersistedQueries:
    """The persisted-query step of one server process (the app owns one)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.persisted_queries
        self.trusted = load_manifest(settings.trusted_documents) if settings.trusted_documents else None
        self._known: OrderedDict[str, str] = OrderedDict()

    async def lookup(self, sha256: str) -> str | None:
        query = self._known.get(sha256)
        if query is None:
            row = await PersistedQuery.get_or_none(sha256=sha256)
            if row is None:
                return None
            query = row.query
        self._remember(sha256, query)
        return query

    async def store(self, sha256: str, query: str) -> None:
        if sha256 in self._known or len(query) > MAX_STORED_QUERY:
            return
        if not await PersistedQuery.exists(sha256=sha256):
            try:
                await PersistedQuery.create(sha256=sha256, query=query)
            except IntegrityError:
                pass  # another process stored the same document a moment ago
        self._remember(sha256, query)

    def _remember(self, sha256: str, query: str) -> None:
        self._known[sha256] = query
        self._known.move_to_end(sha256)
        while len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, authorization: str | None
    ) -> str | None:
        """The document to run: `query` itself, or the one a hash names; raises `PersistedQueryError`."""
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
            if self.enabled:
                await self.store(sha256, query)
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
