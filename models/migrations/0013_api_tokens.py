# API tokens and their per-minute counters, the audit trail, service accounts (issue 16).
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.audit import AuditAction
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0012_workflow")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ApiToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("prefix", fields.CharField(max_length=12)),
                ("read_only", fields.BooleanField(default=False)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="created_api_tokens",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "api_token", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApiTokenUsage",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "token",
                    fields.ForeignKeyField(
                        "models.ApiToken",
                        source_field="token_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="usage",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("minute", fields.BigIntField()),
                ("requests", fields.IntField(default=0)),
            ],
            options={
                "table": "api_token_usage",
                "app": "models",
                "unique_together": (("token", "minute"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "action",
                    fields.CharEnumField(
                        db_index=True,
                        description="IMPERSONATION_STARTED: IMPERSONATION_STARTED\nAPI_TOKEN_CREATED: API_TOKEN_CREATED\nAPI_TOKEN_REVOKED: API_TOKEN_REVOKED\nWEBHOOK_CREATED: WEBHOOK_CREATED\nWEBHOOK_UPDATED: WEBHOOK_UPDATED\nWEBHOOK_DELETED: WEBHOOK_DELETED\nACCOUNT_CREATED: ACCOUNT_CREATED\nACCOUNT_UPDATED: ACCOUNT_UPDATED\nACCOUNT_DEACTIVATED: ACCOUNT_DEACTIVATED\nPERMISSION_GROUP_CHANGED: PERMISSION_GROUP_CHANGED",
                        enum_type=AuditAction,
                        max_length=40,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="audit_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("actor_name", fields.CharField(default="", max_length=200)),
                ("subject_type", fields.CharField(max_length=40)),
                ("subject_id", fields.IntField(null=True)),
                ("summary", fields.CharField(max_length=500)),
                ("address", fields.CharField(null=True, max_length=100)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={"table": "audit_event", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Account",
            name="is_service_account",
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
