"""The database connection as the service configures it (core/database.py)."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection

from core.database import POSTGRES_STATEMENTS
from core.settings import Settings


async def test_postgresql_keeps_the_hot_statements_prepared(settings: Settings) -> None:
    client = get_connection("default")
    if client.capabilities.dialect != "postgres":
        pytest.skip("asyncpg's statement cache is PostgreSQL's")
    sql = 'SELECT "id" FROM "ticket" WHERE "object_id" = $1 LIMIT 1'
    async with client.acquire_connection() as connection:
        cache = connection._stmt_cache
        assert cache.get_max_size() == POSTGRES_STATEMENTS["statement_cache_size"]
        await connection.fetch(sql, 1)
        held = len(cache)
        await connection.fetch(sql, 2)
        assert len(cache) == held  # prepared once, run again with other values
