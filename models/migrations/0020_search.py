from tortoise import migrations
from tortoise.migrations import operations as ops

from models.search import create_index, drop_index, reindex

# Issue 28: the ticket search index (models/search.py), filled from the tickets there are.


async def forward(apps, state_editor) -> None:
    await create_index(state_editor.client)
    await reindex(state_editor.client)


async def backward(apps, state_editor) -> None:
    await drop_index(state_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0019_data_protection")]

    initial = False

    operations = [
        ops.RunPython(forward, backward),
    ]
