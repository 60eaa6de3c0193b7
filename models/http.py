"""What the HTTP pipeline keeps between requests: persisted queries and idempotent responses."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PersistedQuery(Model):
    """A document registered by Apollo's automatic persisted queries, by its SHA-256.

    The hash is of the document's text, so its text never changes: every server
    process may cache it. `last_used_at` (touched at most hourly) orders the
    least recently used out when the table is full, and drops rows unused too long.
    """

    sha256 = fields.CharField(max_length=64, primary_key=True)
    query = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "persisted_query"


class PersistedQueryQuota(Model):
    # Anonymous registrations of persisted queries per client address in the current window
    # (Unix seconds), bumped by one atomic upsert so every server process shares the count.

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=100, unique=True)
    registrations = fields.IntField(default=0)
    window_started = fields.BigIntField(db_index=True)

    class Meta:
        table = "persisted_query_quota"


class IdempotentRequest(Model):
    """The first response to a request that carried an `Idempotency-Key`, per account and key.

    The row is claimed (inserted with `status` RUNNING) before the request runs, so two
    concurrent requests with one key cannot both run: the unique constraint lets one in.
    `fingerprint` is the SHA-256 of the request's body; the response is stored once it is done.
    """

    id = fields.IntField(primary_key=True)
    account_id = fields.IntField()
    key = fields.CharField(max_length=255)
    fingerprint = fields.CharField(max_length=64)
    status = fields.CharField(max_length=8)  # RUNNING or DONE
    http_status = fields.IntField(null=True)
    content_type = fields.CharField(max_length=100, null=True)
    headers: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    body = fields.BinaryField(null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotent_request"
        unique_together = (("account_id", "key"),)


class LiveSocket(Model):
    """One open live socket (server/live.py), so the per-account cap holds across server processes.

    `process` names the server process holding it; that process pushes `expires_at` forward
    while it runs, so the sockets of a process that died stop counting once it passes.
    """

    id = fields.IntField(primary_key=True)
    account_id = fields.IntField(db_index=True)
    process = fields.CharField(max_length=32, db_index=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "live_socket"
