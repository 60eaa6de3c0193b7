from tortoise import migrations
from tortoise.migrations import operations as ops
from models.tickets import TicketEventKind, TicketSource, TicketStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SiteObject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='objects', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('address', fields.CharField(default='', max_length=500)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'site_object', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'name'])], 'pk_attr': 'id', 'table_description': 'A site the company serves (Objekt): a building, a floor, a school.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomerUserObject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer_user', fields.ForeignKeyField('models.CustomerUser', source_field='customer_user_id', db_constraint=True, to_field='id', related_name='object_links', on_delete=OnDelete.CASCADE)),
                ('object', fields.ForeignKeyField('models.SiteObject', source_field='object_id', db_constraint=True, to_field='id', related_name='user_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'customer_user_object', 'app': 'models', 'unique_together': (('customer_user', 'object'),), 'pk_attr': 'id', 'table_description': "An object assigned to a customer user: the user's window into the portal."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.IntField(unique=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=TicketStatus.OPEN, description='OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nDONE: DONE', enum_type=TicketStatus, max_length=16)),
                ('ticket_type', fields.ForeignKeyField('models.TicketType', source_field='ticket_type_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('object', fields.ForeignKeyField('models.SiteObject', source_field='object_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('assignee', fields.ForeignKeyField('models.Employee', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='assigned_tickets', on_delete=OnDelete.SET_NULL)),
                ('due_date', fields.DateField(null=True)),
                ('created_by', fields.ForeignKeyField('models.Account', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_tickets', on_delete=OnDelete.SET_NULL)),
                ('form_submission_id', fields.IntField(null=True)),
                ('source', fields.CharEnumField(description='BACKOFFICE: BACKOFFICE\nPORTAL: PORTAL\nFORM: FORM\nIMPORT: IMPORT', enum_type=TicketSource, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('external_ref', fields.CharField(null=True, unique=True, max_length=100)),
            ],
            options={'table': 'ticket', 'app': 'models', 'indexes': [Index(fields=['object_id', 'created_at']), Index(fields=['ticket_type_id', 'status']), Index(fields=['assignee_id', 'status']), Index(fields=['created_by_id']), Index(fields=['updated_at']), Index(fields=['due_date'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('uploaded_by', fields.ForeignKeyField('models.Account', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('filename', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('storage_key', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attachment', 'app': 'models', 'indexes': [Index(fields=['ticket_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.Account', source_field='author_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.RESTRICT)),
                ('body', fields.TextField(unique=False)),
                ('internal', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'comment', 'app': 'models', 'indexes': [Index(fields=['ticket_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'ticket_counter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The last ticket number handed out (one row), bumped inside the creating transaction.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CREATED: CREATED\nUPDATED: UPDATED\nSTATUS_CHANGED: STATUS_CHANGED\nASSIGNEE_CHANGED: ASSIGNEE_CHANGED\nCOMMENT_ADDED: COMMENT_ADDED\nCOMMENT_EDITED: COMMENT_EDITED\nCOMMENT_DELETED: COMMENT_DELETED\nATTACHMENT_ADDED: ATTACHMENT_ADDED\nATTACHMENT_REMOVED: ATTACHMENT_REMOVED', enum_type=TicketEventKind, max_length=24)),
                ('actor', fields.ForeignKeyField('models.Account', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='ticket_events', on_delete=OnDelete.SET_NULL)),
                ('from_value', fields.CharField(null=True, max_length=200)),
                ('to_value', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_event', 'app': 'models', 'indexes': [Index(fields=['ticket_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One entry of a ticket's history: what changed, from what to what, by whom, when."},
            bases=['Model'],
        ),
    ]
