from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields



async def forward(apps, state_editor) -> None:
    # Rows stored before: last used when they were stored (the clean-up and eviction order by it).
    await state_editor.client.execute_query(
        'UPDATE "persisted_query" SET "last_used_at" = "created_at" WHERE "last_used_at" IS NULL'
    )


async def backward(apps, state_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('models', '0014_http_pipeline')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LiveSocket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_id', fields.IntField(db_index=True)),
                ('process', fields.CharField(db_index=True, max_length=32)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'live_socket', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One open live socket (server/live.py), so the per-account cap holds across server processes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersistedQueryQuota',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('address', fields.CharField(unique=True, max_length=100)),
                ('registrations', fields.IntField(default=0)),
                ('window_started', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'persisted_query_quota', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PersistedQuery',
            name='last_used_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(forward, backward),
    ]
