from tortoise import migrations
from tortoise.migrations import operations as ops
import datetime
from models.notifications import NotificationKind
from models.service_levels import TicketPriority
from models.tickets import TicketEventKind
from models.webhooks import WebhookEvent
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

from models.migration_operations import AlterEnumChoices

# Issue 26: service levels. Existing tickets get priority NORMAL and no service level; their
# RESOLUTION_DUE sort keys are written by the ORM (not left at the column default), so every row
# stores them in the one format SQLite compares as text.


async def forward(apps, state_editor) -> None:
    from models.tickets import NO_DUE_LAST_ASCENDING, NO_DUE_LAST_DESCENDING

    client = state_editor.client
    marks = ("?", "?") if client.capabilities.dialect == "sqlite" else ("$1", "$2")
    await client.execute_query(
        f'UPDATE "ticket" SET "sla_due_ascending" = {marks[0]}, "sla_due_descending" = {marks[1]}',
        [NO_DUE_LAST_ASCENDING, NO_DUE_LAST_DESCENDING],
    )


async def backward(apps, state_editor) -> None:
    return None

class Migration(migrations.Migration):
    dependencies = [('models', '0017_email_channel')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BusinessCalendar',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('time_zone', fields.CharField(max_length=64)),
                ('hours', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('holidays', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('holiday_region', fields.CharField(null=True, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'business_calendar', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Working hours in a time zone, with holidays: what business minutes are counted in.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceLevelTerms',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('policy_id', fields.IntField(null=True)),
                ('policy_name', fields.CharField(max_length=100)),
                ('calendar', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('targets', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('warn_at_percent', fields.SmallIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_level_terms', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A policy with its calendar as they were at one moment: what a ticket created then keeps.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceLevelPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('calendar', fields.ForeignKeyField('models.BusinessCalendar', source_field='calendar_id', db_constraint=True, to_field='id', related_name='policies', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='service_level_policies', on_delete=OnDelete.CASCADE)),
                ('ticket_type_ids', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('targets', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('warn_at_percent', fields.SmallIntField()),
                ('terms', fields.ForeignKeyField('models.ServiceLevelTerms', source_field='terms_id', db_constraint=True, to_field='id', related_name='current_of', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_level_policy', 'app': 'models', 'indexes': [Index(fields=['customer_id'])], 'pk_attr': 'id', 'table_description': 'Targets per priority for a customer (or any) and some ticket types (or any).'},
            bases=['Model'],
        ),
        AlterEnumChoices(
            model_name='OutboxMail',
            name='kind',
            field=fields.CharEnumField(description='TICKET_CREATED: TICKET_CREATED\nASSIGNED: ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nSTATUS_CHANGED: STATUS_CHANGED\nWEBHOOK_DISABLED: WEBHOOK_DISABLED\nREOPENED: REOPENED\nRATED_LOW: RATED_LOW\nSLA_WARNING: SLA_WARNING\nSLA_BREACHED: SLA_BREACHED\nMAIL_TOO_LARGE: MAIL_TOO_LARGE', enum_type=NotificationKind, max_length=24),
        ),
        ops.AddField(
            model_name='Ticket',
            name='priority',
            field=fields.CharEnumField(default=TicketPriority.NORMAL, description='LOW: LOW\nNORMAL: NORMAL\nHIGH: HIGH\nURGENT: URGENT', db_default='NORMAL', enum_type=TicketPriority, max_length=8),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_due_ascending',
            field=fields.DatetimeField(default=datetime.datetime.fromisoformat('9999-12-31T00:00:00+00:00'), db_default=datetime.datetime.fromisoformat('9999-12-31T00:00:00+00:00'), auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_due_descending',
            field=fields.DatetimeField(default=datetime.datetime.fromisoformat('0001-01-01T00:00:00+00:00'), db_default=datetime.datetime.fromisoformat('0001-01-01T00:00:00+00:00'), auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_first_responded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_first_response_breached',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_first_response_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_first_response_warn_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_next_check_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_notified',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_paused_seconds',
            field=fields.FloatField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_paused_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_resolution_breached',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_resolution_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_resolution_started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_resolution_warn_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_resolved_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_terms',
            field=fields.ForeignKeyField('models.ServiceLevelTerms', source_field='sla_terms_id', null=True, db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['sla_next_check_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['sla_due_ascending', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['sla_due_descending', 'id']),
        ),
        AlterEnumChoices(
            model_name='TicketEvent',
            name='kind',
            field=fields.CharEnumField(description='CREATED: CREATED\nUPDATED: UPDATED\nSTATUS_CHANGED: STATUS_CHANGED\nASSIGNEE_CHANGED: ASSIGNEE_CHANGED\nCOMMENT_ADDED: COMMENT_ADDED\nCOMMENT_EDITED: COMMENT_EDITED\nCOMMENT_DELETED: COMMENT_DELETED\nATTACHMENT_ADDED: ATTACHMENT_ADDED\nATTACHMENT_REMOVED: ATTACHMENT_REMOVED\nSTATE_CHANGED: STATE_CHANGED\nCONFIRMED: CONFIRMED\nREOPENED: REOPENED\nSLA_WARNING: SLA_WARNING\nSLA_BREACHED: SLA_BREACHED', enum_type=TicketEventKind, max_length=24),
        ),
        ops.AddField(
            model_name='TicketState',
            name='pauses_service_level',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        AlterEnumChoices(
            model_name='WebhookDelivery',
            name='event',
            field=fields.CharEnumField(description='TICKET_CREATED: TICKET_CREATED\nTICKET_UPDATED: TICKET_UPDATED\nTICKET_STATUS_CHANGED: TICKET_STATUS_CHANGED\nTICKET_ASSIGNED: TICKET_ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nCOMMENT_EDITED: COMMENT_EDITED\nATTACHMENT_ADDED: ATTACHMENT_ADDED\nATTACHMENT_REMOVED: ATTACHMENT_REMOVED\nFORM_SUBMITTED: FORM_SUBMITTED\nTICKET_SLA_WARNING: TICKET_SLA_WARNING\nTICKET_SLA_BREACHED: TICKET_SLA_BREACHED', enum_type=WebhookEvent, max_length=32),
        ),
        ops.RunPython(forward, backward),
    ]

