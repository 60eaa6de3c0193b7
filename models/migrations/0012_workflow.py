from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications import NotificationKind
from models.tickets import TicketEventKind, TicketStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from models.migration_operations import AlterEnumChoices

# Issue 18: statuses per ticket type. Every existing type gets the three default states
# ("Offen", "In Bearbeitung", "Erledigt"), and every ticket the default state of the
# category it has: `ticket.status` (the category) is not changed.
DEFAULT_STATES = (("Offen", "OPEN", 0), ("In Bearbeitung", "IN_PROGRESS", 1), ("Erledigt", "DONE", 2))


async def create_default_states(connection) -> None:
    """The three default states for every type (the table is new), and each ticket moved to its category's one."""
    for name, category, position in DEFAULT_STATES:
        await connection.execute_query(
            'INSERT INTO "ticket_state" ("ticket_type_id", "name", "category", "position", "is_default") '
            f"SELECT id, '{name}', '{category}', {position}, TRUE FROM \"ticket_type\""
        )
    await connection.execute_query(
        'UPDATE "ticket" SET "state_id" = (SELECT s.id FROM "ticket_state" s '
        'WHERE s.ticket_type_id = "ticket".ticket_type_id AND s.category = "ticket".status AND s.is_default) '
        'WHERE "state_id" IS NULL'
    )


async def forward(apps, state_editor) -> None:
    await create_default_states(state_editor.client)


async def backward(apps, state_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0011_webhooks")]

    initial = False

    operations = [
        ops.CreateModel(
            name="TicketState",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "ticket_type",
                    fields.ForeignKeyField(
                        "models.TicketType",
                        source_field="ticket_type_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="states",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "category",
                    fields.CharEnumField(
                        description="OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nDONE: DONE",
                        enum_type=TicketStatus,
                        max_length=16,
                    ),
                ),
                ("position", fields.IntField(default=0)),
                ("is_default", fields.BooleanField(default=False)),
                ("color", fields.CharField(null=True, max_length=7)),
            ],
            options={
                "table": "ticket_state",
                "app": "models",
                "unique_together": (("ticket_type", "name"),),
                "pk_attr": "id",
                "table_description": "One status in the workflow of a ticket type, in one of the three categories (issue 18).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TicketTransition",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "ticket_type",
                    fields.ForeignKeyField(
                        "models.TicketType",
                        source_field="ticket_type_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="transitions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "from_state",
                    fields.ForeignKeyField(
                        "models.TicketState",
                        source_field="from_state_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="transitions_out",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "to_state",
                    fields.ForeignKeyField(
                        "models.TicketState",
                        source_field="to_state_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="transitions_in",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "ticket_transition",
                "app": "models",
                "unique_together": (("from_state", "to_state"),),
                "pk_attr": "id",
                "table_description": "An allowed move between two states of one type (a type without any allows every move).",
            },
            bases=["Model"],
        ),
        AlterEnumChoices(
            model_name="OutboxMail",
            name="kind",
            field=fields.CharEnumField(
                description="TICKET_CREATED: TICKET_CREATED\nASSIGNED: ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nSTATUS_CHANGED: STATUS_CHANGED\nWEBHOOK_DISABLED: WEBHOOK_DISABLED\nREOPENED: REOPENED\nRATED_LOW: RATED_LOW",
                enum_type=NotificationKind,
                max_length=24,
            ),
        ),
        ops.AddField(
            model_name="Ticket",
            name="confirmed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="feedback",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="Ticket",
            name="rating",
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name="Ticket",
            name="reopen_count",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="Ticket",
            name="state",
            field=fields.ForeignKeyField(
                "models.TicketState",
                source_field="state_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="tickets",
                on_delete=OnDelete.RESTRICT,
            ),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["state_id"]),
        ),
        AlterEnumChoices(
            model_name="TicketEvent",
            name="kind",
            field=fields.CharEnumField(
                description="CREATED: CREATED\nUPDATED: UPDATED\nSTATUS_CHANGED: STATUS_CHANGED\nASSIGNEE_CHANGED: ASSIGNEE_CHANGED\nCOMMENT_ADDED: COMMENT_ADDED\nCOMMENT_EDITED: COMMENT_EDITED\nCOMMENT_DELETED: COMMENT_DELETED\nATTACHMENT_ADDED: ATTACHMENT_ADDED\nATTACHMENT_REMOVED: ATTACHMENT_REMOVED\nSTATE_CHANGED: STATE_CHANGED\nCONFIRMED: CONFIRMED\nREOPENED: REOPENED",
                enum_type=TicketEventKind,
                max_length=24,
            ),
        ),
        ops.AddField(
            model_name="TicketType",
            name="customer_confirmation",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="TicketType",
            name="reopen_window_days",
            field=fields.IntField(default=7, db_default=7),
        ),
        ops.RunPython(forward, backward),
    ]
