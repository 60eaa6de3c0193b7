from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_api_tokens')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotentRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_id', fields.IntField()),
                ('key', fields.CharField(max_length=255)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('status', fields.CharField(max_length=8)),
                ('http_status', fields.IntField(null=True)),
                ('content_type', fields.CharField(null=True, max_length=100)),
                ('headers', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('body', fields.BinaryField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotent_request', 'app': 'models', 'unique_together': (('account_id', 'key'),), 'pk_attr': 'id', 'table_description': 'The first response to a request that carried an `Idempotency-Key`, per account and key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersistedQuery',
            fields=[
                ('sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('query', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'persisted_query', 'app': 'models', 'pk_attr': 'sha256', 'table_description': "A document registered by Apollo's automatic persisted queries, by its SHA-256."},
            bases=['Model'],
        ),
    ]
