from datetime import UTC, datetime

from tortoise import migrations
from tortoise.migrations import operations as ops

# Issue 14: every stored datetime is UTC. SQLite keeps a datetime as ISO text with
# the offset it was written with (imports used to keep the client's `+02:00`), and
# `created_at >= ?` then compares text, not instants. Every TIMESTAMP value on SQLite
# not already in the form Tortoise writes for UTC (`2026-03-01 08:00:00[.ffffff]+00:00`)
# is rewritten to it, the instant unchanged. PostgreSQL stores timestamptz: nothing to do.
CANONICAL_UTC = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]*+00:00"


def _as_utc_text(text: str) -> str | None:
    """The canonical UTC text of a stored value (naive means UTC); None when it is no datetime."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(" ")


async def rewrite_to_utc(connection) -> int:
    """Rewrite the non-UTC datetimes of every table on SQLite; how many values changed (0 elsewhere)."""
    if connection.capabilities.dialect != "sqlite":
        return 0
    changed = 0
    tables = await connection.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in (row["name"] for row in tables):
        columns = await connection.execute_query_dict(f'PRAGMA table_info("{table}")')
        for column in (c["name"] for c in columns if c["type"].upper() in ("TIMESTAMP", "DATETIME")):
            rows = await connection.execute_query_dict(
                f'SELECT rowid AS r, "{column}" AS v FROM "{table}" '
                f'WHERE "{column}" IS NOT NULL AND typeof("{column}") = \'text\' AND "{column}" NOT GLOB ?',
                [CANONICAL_UTC],
            )
            for row in rows:
                text = _as_utc_text(row["v"])
                if text is not None and text != row["v"]:
                    await connection.execute_query(
                        f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', [text, row["r"]]
                    )
                    changed += 1
    return changed


async def forward(apps, state_editor) -> None:
    await rewrite_to_utc(state_editor.client)


async def nothing(apps, state_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0008_file_claims_and_object_responsibles")]

    initial = False

    operations = [
        ops.RunPython(forward, nothing),
    ]
