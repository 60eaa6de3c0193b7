from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# The history names the comment or attachment an entry is about, so that change feeds
# (webhooks, subscriptions) can load it. Older entries keep NULL: their comment id is in
# to_value/from_value, their attachment known only by file name.


class Migration(migrations.Migration):
    dependencies = [("models", "0009_utc_datetimes")]

    initial = False

    operations = [
        ops.AddField(model_name="TicketEvent", name="comment_id", field=fields.IntField(null=True)),
        ops.AddField(model_name="TicketEvent", name="attachment_id", field=fields.IntField(null=True)),
    ]
