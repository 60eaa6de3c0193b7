from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

# Whole days from creation to the last DONE, for tickets stored before the column existed.
# SQLite keeps datetimes as ISO text: julianday() reads the offset, and rounding to the
# millisecond before the integer division keeps exact multiples of a day exact.
BACKFILL_RESOLUTION_DAYS = {
    "sqlite": 'UPDATE "ticket" SET "resolution_days" = '
              'CAST(ROUND((julianday("done_at") - julianday("created_at")) * 86400000.0) AS INTEGER) / 86400000 '
              'WHERE "done_at" IS NOT NULL',
    "postgres": 'UPDATE "ticket" SET "resolution_days" = '
                'FLOOR(EXTRACT(EPOCH FROM ("done_at" - "created_at")) / 86400)::INTEGER '
                'WHERE "done_at" IS NOT NULL',
}


async def backfill_resolution_days(apps, state_editor) -> None:
    await state_editor._run_sql(BACKFILL_RESOLUTION_DAYS[state_editor.client.capabilities.dialect])


async def nothing(apps, state_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('models', '0002_tickets_and_portal')]

    initial = False

    # Issue 5: document rules, evaluation settings, resolution days.
    operations = [
        ops.CreateModel(
            name='DocumentRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='document_rules', on_delete=OnDelete.CASCADE)),
                ('ticket_type', fields.ForeignKeyField('models.TicketType', source_field='ticket_type_id', db_constraint=True, to_field='id', related_name='document_rules', on_delete=OnDelete.CASCADE)),
                ('content_types', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'document_rule', 'app': 'models', 'unique_together': (('customer', 'ticket_type'),), 'pk_attr': 'id', 'table_description': "Attachments of one ticket type that a customer's users see as documents on their objects."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='ticket_evaluation_enabled',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Customer',
            name='ticket_evaluation_group_size_days',
            field=fields.IntField(default=7),
        ),
        ops.AddField(
            model_name='Ticket',
            name='resolution_days',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['object_id', 'status', 'ticket_type_id', 'done_at', 'resolution_days']),
        ),
        ops.RunPython(backfill_resolution_days, nothing),
    ]
