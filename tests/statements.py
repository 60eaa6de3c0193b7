"""Counting the SQL statements a GraphQL request runs, through Tortoise's statement log
(also used by `bench/run.py`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        # The client also logs opening and closing connections: not statements.
        if not str(record.msg).startswith(("Created connection", "Closed connection")):
            self.count += 1


@contextmanager
def counting_statements() -> Iterator[StatementCounter]:
    """A counter of the statements run inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)


async def count_statements(
    client: Any, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """(statements run, `data`) of a request that must succeed."""
    with counting_statements() as counter:
        data = await client.ok(query, variables)
    return counter.count, data


class StatementRecorder(logging.Handler):
    """Keeps (sql, parameters) of every statement Tortoise's clients log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The clients log `"%s: %s", query, values`; a script or a connection event has no values.
        if record.msg == "%s: %s" and isinstance(record.args, tuple) and len(record.args) == 2:
            sql, values = record.args
            self.statements.append((str(sql), list(values or [])))


@contextmanager
def recording_statements() -> Iterator[StatementRecorder]:
    """The statements (with their parameters) run inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    recorder = StatementRecorder()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(old_level)
