"""Counting the SQL statements a GraphQL request runs, through Tortoise's statement log."""

from __future__ import annotations

import logging
from typing import Any


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        # The client also logs opening and closing connections: not statements.
        if not str(record.msg).startswith(("Created connection", "Closed connection")):
            self.count += 1


async def count_statements(client: Any, query: str, variables: dict[str, Any] | None = None
                           ) -> tuple[int, dict[str, Any]]:
    """(statements run, `data`) of a request that must succeed."""
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        data = await client.ok(query, variables)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    return counter.count, data
