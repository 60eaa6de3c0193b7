from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_ticket_order_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FileClaim',
            fields=[
                ('storage_key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('in_flight', fields.IntField(default=0)),
            ],
            options={'table': 'file_claim', 'app': 'models', 'pk_attr': 'storage_key', 'table_description': 'One row per storage key ever stored, counting the requests in flight with it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ObjectResponsible',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('object', fields.ForeignKeyField('models.SiteObject', source_field='object_id', db_constraint=True, to_field='id', related_name='responsible_links', on_delete=OnDelete.CASCADE)),
                ('employee', fields.ForeignKeyField('models.Employee', source_field='employee_id', db_constraint=True, to_field='id', related_name='responsible_for_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'object_responsible', 'app': 'models', 'unique_together': (('object', 'employee'),), 'pk_attr': 'id', 'table_description': 'An employee responsible for an object: hears of unassigned tickets created on it (README).'},
            bases=['Model'],
        ),
    ]
