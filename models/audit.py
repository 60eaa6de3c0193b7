"""The audit trail: administrative actions an administrator may want to trace later.

Written by `resolvers.audit.record_audit`; read through `auditEvents`.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class AuditAction(str, Enum):
    IMPERSONATION_STARTED = "IMPERSONATION_STARTED"
    API_TOKEN_CREATED = "API_TOKEN_CREATED"
    API_TOKEN_REVOKED = "API_TOKEN_REVOKED"
    WEBHOOK_CREATED = "WEBHOOK_CREATED"
    WEBHOOK_UPDATED = "WEBHOOK_UPDATED"
    WEBHOOK_DELETED = "WEBHOOK_DELETED"
    ACCOUNT_CREATED = "ACCOUNT_CREATED"
    ACCOUNT_UPDATED = "ACCOUNT_UPDATED"
    ACCOUNT_DEACTIVATED = "ACCOUNT_DEACTIVATED"
    PERMISSION_GROUP_CHANGED = "PERMISSION_GROUP_CHANGED"
    PERSON_DATA_EXPORTED = "PERSON_DATA_EXPORTED"
    PERSON_ERASED = "PERSON_ERASED"


class AuditEvent(Model):
    # Who did what to whom, when and from where. `actor` is kept as a name too,
    # so the trail still reads after an account is gone.

    id = fields.IntField(primary_key=True)
    action = fields.CharEnumField(AuditAction, max_length=40, db_index=True)
    actor: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="audit_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    actor_name = fields.CharField(max_length=200, default="")
    subject_type = fields.CharField(max_length=40)
    subject_id = fields.IntField(null=True)
    summary = fields.CharField(max_length=500)
    address = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_event"
