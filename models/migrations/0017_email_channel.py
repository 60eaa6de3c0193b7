from tortoise import migrations
from tortoise.migrations import operations as ops
from models.inbound_mail import InboundOutcome
from models.notifications import NotificationKind
from models.tickets import CommentSource, TicketSource
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from models.migration_operations import AlterEnumChoices

# Issue 27, the email channel: received mail and its per-sender count, Comment.source, the
# EMAIL ticket source, intake addresses per object, a customer's mail ticket type, bouncing addresses.


class Migration(migrations.Migration):
    dependencies = [("models", "0015_persisted_query_bounds")]

    initial = False

    operations = [
        ops.CreateModel(
            name="InboundMail",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("message_key", fields.CharField(unique=True, max_length=64)),
                ("message_id", fields.CharField(max_length=255)),
                (
                    "outcome",
                    fields.CharEnumField(
                        description="ACCEPTED: accepted\nDUPLICATE: duplicate\nBOUNCE: bounce\nREFUSED_SENDER: refused_sender\nREFUSED_TOKEN: refused_token\nREFUSED_SCOPE: refused_scope\nREFUSED_AUTO: refused_auto\nREFUSED_LOOP: refused_loop\nREFUSED_RATE: refused_rate\nREFUSED_SIZE: refused_size\nREFUSED_EMPTY: refused_empty",
                        enum_type=InboundOutcome,
                        max_length=16,
                    ),
                ),
                ("sender", fields.CharField(max_length=254)),
                ("recipient", fields.CharField(max_length=254)),
                ("ticket_id", fields.IntField(null=True)),
                ("comment_id", fields.IntField(null=True)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "inbound_mail",
                "app": "models",
                "indexes": [Index(fields=["received_at"])],
                "pk_attr": "id",
                "table_description": "One received message, claimed by its Message-ID in the transaction that stores what it causes.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="InboundSenderHour",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("sender", fields.CharField(max_length=254)),
                ("hour", fields.BigIntField()),
                ("count", fields.IntField(default=0)),
            ],
            options={
                "table": "inbound_sender_hour",
                "app": "models",
                "unique_together": (("sender", "hour"),),
                "pk_attr": "id",
                "table_description": "Messages from one sender address in one clock hour, bumped by an atomic upsert (all processes).",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Account",
            name="mail_bouncing_address",
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name="Comment",
            name="source",
            field=fields.CharEnumField(
                default=CommentSource.APP,
                description="APP: APP\nEMAIL: EMAIL",
                db_default="APP",
                enum_type=CommentSource,
                max_length=8,
            ),
        ),
        ops.AddField(
            model_name="Customer",
            name="mail_ticket_type",
            field=fields.ForeignKeyField(
                "models.TicketType",
                source_field="mail_ticket_type_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="mail_customers",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        AlterEnumChoices(
            model_name="OutboxMail",
            name="kind",
            field=fields.CharEnumField(
                description="TICKET_CREATED: TICKET_CREATED\nASSIGNED: ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nSTATUS_CHANGED: STATUS_CHANGED\nWEBHOOK_DISABLED: WEBHOOK_DISABLED\nREOPENED: REOPENED\nRATED_LOW: RATED_LOW\nMAIL_TOO_LARGE: MAIL_TOO_LARGE",
                enum_type=NotificationKind,
                max_length=24,
            ),
        ),
        ops.AddField(
            model_name="SiteObject",
            name="intake_key",
            field=fields.CharField(null=True, unique=True, max_length=40),
        ),
        AlterEnumChoices(
            model_name="Ticket",
            name="source",
            field=fields.CharEnumField(
                description="BACKOFFICE: BACKOFFICE\nPORTAL: PORTAL\nFORM: FORM\nIMPORT: IMPORT\nEMAIL: EMAIL",
                enum_type=TicketSource,
                max_length=16,
            ),
        ),
    ]
