from tortoise import migrations
from tortoise.migrations import operations as ops
from models.audit import AuditAction
from models.personal_data import ExportStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from models.migration_operations import AlterEnumChoices

# Issue 29 (data protection): person exports, thumbnails, erased accounts, two audit actions.

class Migration(migrations.Migration):
    dependencies = [('models', '0018_service_levels')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersonExport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='personal_data_exports', on_delete=OnDelete.CASCADE)),
                ('requested_by', fields.ForeignKeyField('models.Account', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='requested_personal_data_exports', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ExportStatus.PENDING, description='PENDING: PENDING\nREADY: READY\nFAILED: FAILED', enum_type=ExportStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('claim_token', fields.CharField(null=True, max_length=36)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('filename', fields.CharField(default='', max_length=255)),
                ('content_type', fields.CharField(default='application/zip', max_length=100)),
                ('size', fields.BigIntField(null=True)),
                ('sha256', fields.CharField(null=True, max_length=64)),
                ('storage_key', fields.CharField(null=True, max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'person_export', 'app': 'models', 'indexes': [Index(fields=['status', 'claimed_until']), Index(fields=['storage_key'])], 'pk_attr': 'id', 'table_description': 'One requested export. A builder claims the row with `claim_token` and a lease'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Thumbnail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source_key', fields.CharField(max_length=100)),
                ('size', fields.IntField()),
                ('storage_key', fields.CharField(max_length=100)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'thumbnail', 'app': 'models', 'unique_together': (('source_key', 'size'),), 'indexes': [Index(fields=['storage_key'])], 'pk_attr': 'id', 'table_description': 'A WebP thumbnail of a stored image at one size, made once and kept in the files backend.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='erased_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AlterEnumChoices(
            model_name='AuditEvent',
            name='action',
            field=fields.CharEnumField(db_index=True, description='IMPERSONATION_STARTED: IMPERSONATION_STARTED\nAPI_TOKEN_CREATED: API_TOKEN_CREATED\nAPI_TOKEN_REVOKED: API_TOKEN_REVOKED\nWEBHOOK_CREATED: WEBHOOK_CREATED\nWEBHOOK_UPDATED: WEBHOOK_UPDATED\nWEBHOOK_DELETED: WEBHOOK_DELETED\nACCOUNT_CREATED: ACCOUNT_CREATED\nACCOUNT_UPDATED: ACCOUNT_UPDATED\nACCOUNT_DEACTIVATED: ACCOUNT_DEACTIVATED\nPERMISSION_GROUP_CHANGED: PERMISSION_GROUP_CHANGED\nPERSON_DATA_EXPORTED: PERSON_DATA_EXPORTED\nPERSON_ERASED: PERSON_ERASED', enum_type=AuditAction, max_length=40),
        ),
    ]
