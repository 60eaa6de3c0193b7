from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0005_forms')]

    initial = False

    # Issue 8: login throttling and other hardening state.
    operations = [
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=100)),
                ('attempts', fields.IntField(default=0)),
                ('window_started', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'login_throttle', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
