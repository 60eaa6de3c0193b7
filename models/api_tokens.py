"""API tokens for integrations and their per-minute request counters.

A token's secret is never stored: only its SHA-256 (`token_hash`) and its
first 12 characters (`prefix`, so an administrator can tell tokens apart and
match a leaked one). `last_used_at` is written at most once a minute per
token (when a new counting window starts, see `permissions/api_tokens.py`).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="api_tokens", on_delete=fields.CASCADE
    )
    account_id: int
    name = fields.CharField(max_length=200)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    read_only = fields.BooleanField(default=False)
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="created_api_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class ApiTokenUsage(Model):
    # Requests of one token in one minute (`minute` = Unix seconds // 60),
    # bumped by an atomic upsert so every server process shares the count.

    id = fields.IntField(primary_key=True)
    token: fields.ForeignKeyRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", related_name="usage", on_delete=fields.CASCADE
    )
    token_id: int
    minute = fields.BigIntField()
    requests = fields.IntField(default=0)

    class Meta:
        table = "api_token_usage"
        unique_together = (("token", "minute"),)
