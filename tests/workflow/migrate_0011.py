"""Run by `test_migration.py` in a process of its own (Tortoise's registry is global): migrate the
database named by argv[1] to 0010, insert types and tickets the old way, migrate to the newest,
and print what the tickets hold as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate

from core.database import tortoise_config
from core.settings import settings_from_env

OLD_ROWS = (
    "INSERT INTO customer (id, name, created_at, ticket_evaluation_enabled, ticket_evaluation_group_size_days) "
    "VALUES (1, 'Kunde', '2026-01-01 00:00:00+00:00', FALSE, 7)",
    "INSERT INTO site_object (id, customer_id, name, address, is_active, created_at) "
    "VALUES (1, 1, 'Rathaus', '', TRUE, '2026-01-01 00:00:00+00:00')",
    "INSERT INTO ticket_type (id, name, is_absence_request, created_at) "
    "VALUES (1, 'Reinigungsmangel', FALSE, '2026-01-01 00:00:00+00:00'), "
    "(2, 'Urlaub', TRUE, '2026-01-01 00:00:00+00:00')",
    "INSERT INTO ticket (id, number, title, description, status, ticket_type_id, object_id, source, "
    "created_at, updated_at, done_at, resolution_days) VALUES "
    "(1, 1, 'offen', '', 'OPEN', 1, 1, 'BACKOFFICE', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', "
    "NULL, NULL), "
    "(2, 2, 'dran', '', 'IN_PROGRESS', 1, 1, 'BACKOFFICE', '2026-01-01 00:00:00+00:00', "
    "'2026-01-02 00:00:00+00:00', NULL, NULL), "
    "(3, 3, 'fertig', '', 'DONE', 1, 1, 'BACKOFFICE', '2026-01-01 00:00:00+00:00', '2026-01-03 00:00:00+00:00', "
    "'2026-01-03 00:00:00+00:00', 2), "
    "(4, 4, 'Urlaub', '', 'DONE', 2, 1, 'BACKOFFICE', '2026-01-01 00:00:00+00:00', '2026-01-03 00:00:00+00:00', "
    "'2026-01-03 00:00:00+00:00', 2)",
)

AFTER = (
    "SELECT t.id, t.status, t.done_at IS NOT NULL AS done, t.resolution_days, t.reopen_count, "
    "s.name AS state, s.category, s.is_default, s.ticket_type_id = t.ticket_type_id AS own_type "
    "FROM ticket t LEFT JOIN ticket_state s ON s.id = t.state_id ORDER BY t.id"
)
STATES = "SELECT ticket_type_id, name, category, position FROM ticket_state ORDER BY ticket_type_id, position"


async def main(url: str) -> None:
    config = tortoise_config(settings_from_env({"SITEDESK_DATABASE_URL": url}))
    await migrate(config=config, target="models.0010_event_subjects")
    connection = get_connection("default")
    for statement in OLD_ROWS:
        await connection.execute_query(statement)
    await Tortoise.close_connections()
    await migrate(config=config)
    connection = get_connection("default")
    result = {
        "tickets": [dict(r) for r in await connection.execute_query_dict(AFTER)],
        "states": [dict(r) for r in await connection.execute_query_dict(STATES)],
    }
    await Tortoise.close_connections()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
