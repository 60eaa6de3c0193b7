"""Data protection: exports of everything stored about one person (GDPR Art. 15 and 20).

An export is requested by a system administrator and built in the background
(resolvers/personal_data/export.py); the ZIP lives in the files backend like
any stored file, named by `storage_key`.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class ExportStatus(str, Enum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


class PersonExport(Model):
    """One requested export. A builder claims the row with `claim_token` and a lease
    (`claimed_until`): several processes never build one export twice, and an export whose
    builder died is taken up again once the lease has run out."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="personal_data_exports", on_delete=fields.CASCADE
    )
    account_id: int
    requested_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="requested_personal_data_exports", null=True, on_delete=fields.SET_NULL
    )
    requested_by_id: int | None
    status = fields.CharEnumField(ExportStatus, max_length=16, default=ExportStatus.PENDING)
    attempts = fields.IntField(default=0)
    claim_token = fields.CharField(max_length=36, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    # The ZIP once READY (content-addressed, files/storage.py).
    filename = fields.CharField(max_length=255, default="")
    content_type = fields.CharField(max_length=100, default="application/zip")
    size = fields.BigIntField(null=True)
    sha256 = fields.CharField(max_length=64, null=True)
    storage_key = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    # READY exports are removed (row and file) after SITEDESK_EXPORT_DAYS.
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "person_export"
        indexes = (("status", "claimed_until"), ("storage_key",))
