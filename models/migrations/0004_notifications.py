from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications import Audience, DeliveryStatus, NotificationKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_documents_and_evaluation')]

    initial = False

    # Issue 4: the mail outbox and notification settings.
    operations = [
        ops.CreateModel(
            name='OutboxMail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('recipient', fields.ForeignKeyField('models.Account', source_field='recipient_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('audience', fields.CharEnumField(description='EMPLOYEE: EMPLOYEE\nCUSTOMER_USER: CUSTOMER_USER', enum_type=Audience, max_length=16)),
                ('kind', fields.CharEnumField(description='TICKET_CREATED: TICKET_CREATED\nASSIGNED: ASSIGNED\nCOMMENT_ADDED: COMMENT_ADDED\nSTATUS_CHANGED: STATUS_CHANGED', enum_type=NotificationKind, max_length=24)),
                ('to_address', fields.CharField(max_length=254)),
                ('to_name', fields.CharField(max_length=200)),
                ('locale', fields.CharField(max_length=5)),
                ('subject', fields.CharField(max_length=300)),
                ('context', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('mail_key', fields.CharField(unique=True, max_length=36)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=36)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('note', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_mail', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['ticket_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One mail to one recipient, delivered by the background sender.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='notify_assignments',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Account',
            name='notify_comments',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Account',
            name='notify_new_tickets',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Account',
            name='notify_status_changes',
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
