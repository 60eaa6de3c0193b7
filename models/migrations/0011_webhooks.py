from tortoise import migrations

from models.migration_operations import AlterEnumChoices
from tortoise.migrations import operations as ops
from models.notifications import NotificationKind
from models.webhooks import WebhookDeliveryStatus, WebhookEvent
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0010_event_subjects")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Webhook",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("url", fields.CharField(max_length=2000)),
                ("events", fields.CharField(max_length=400)),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="webhooks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="created_webhooks",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("description", fields.CharField(default="", max_length=500)),
                ("secret", fields.CharField(max_length=100)),
                ("enabled", fields.BooleanField(default=True)),
                ("disabled_reason", fields.CharField(null=True, max_length=300)),
                ("failing_since", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "webhook",
                "app": "models",
                "indexes": [Index(fields=["enabled", "id"])],
                "pk_attr": "id",
                "table_description": "A partner endpoint receiving the events it subscribed to, as `account` may see them.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "webhook",
                    fields.ForeignKeyField(
                        "models.Webhook",
                        source_field="webhook_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "event",
                    fields.CharEnumField(
                        description="TICKET_CREATED: TICKET_CREATED\nTICKET_UPDATED: TICKET_UPDATED\nTICKET_STATUS_CHANGED: TICKET_STATUS_CHANGED\nTICKET_ASSIGNED: TICKET_ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nCOMMENT_EDITED: COMMENT_EDITED\nATTACHMENT_ADDED: ATTACHMENT_ADDED\nATTACHMENT_REMOVED: ATTACHMENT_REMOVED\nFORM_SUBMITTED: FORM_SUBMITTED",
                        enum_type=WebhookEvent,
                        max_length=32,
                    ),
                ),
                ("message_id", fields.CharField(unique=True, max_length=64)),
                ("ticket_id", fields.IntField(null=True)),
                ("comment_id", fields.IntField(null=True)),
                ("attachment_id", fields.IntField(null=True)),
                ("submission_id", fields.IntField(null=True)),
                ("detail", fields.CharField(null=True, max_length=200)),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=WebhookDeliveryStatus.PENDING,
                        description="PENDING: PENDING\nDELIVERED: DELIVERED\nRETRYING: RETRYING\nFAILED: FAILED\nSKIPPED: SKIPPED",
                        enum_type=WebhookDeliveryStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("claim_token", fields.CharField(null=True, max_length=36)),
                ("http_status", fields.IntField(null=True)),
                ("duration_ms", fields.IntField(null=True)),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("delivered_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "webhook_delivery",
                "app": "models",
                "indexes": [Index(fields=["status", "next_attempt_at"]), Index(fields=["webhook_id", "created_at"])],
                "pk_attr": "id",
                "table_description": "One event for one webhook: queued in the transaction of the change, sent by the sender.",
            },
            bases=["Model"],
        ),
        AlterEnumChoices(
            model_name="OutboxMail",
            name="kind",
            field=fields.CharEnumField(
                description="TICKET_CREATED: TICKET_CREATED\nASSIGNED: ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nSTATUS_CHANGED: STATUS_CHANGED\nWEBHOOK_DISABLED: WEBHOOK_DISABLED",
                enum_type=NotificationKind,
                max_length=24,
            ),
        ),
    ]
