from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_hardening')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Ticket',
            name=None,
            fields=['updated_at'],
        ),
        ops.RemoveIndex(
            model_name='Ticket',
            name=None,
            fields=['due_date'],
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['updated_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['due_date', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['object_id', 'ticket_type_id', 'created_at']),
        ),
    ]
