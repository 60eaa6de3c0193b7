from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# Issue 25: a customer user's page is read (object, type) by (object, type) (core/partitioned.py),
# and SiteObject.tickets object by object (core.queries.prepared_pages_per_key); each walk needs
# the page's whole order, id included, to stop after a page instead of sorting.


class Migration(migrations.Migration):
    dependencies = [("models", "0020_search")]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name="Ticket",
            name=None,
            fields=["object_id", "ticket_type_id", "created_at"],
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["object_id", "ticket_type_id", "created_at", "id"]),
        ),
        ops.RemoveIndex(
            model_name="Ticket",
            name=None,
            fields=["object_id", "created_at"],
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["object_id", "created_at", "id"]),
        ),
    ]
