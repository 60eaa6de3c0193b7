"""What SQL a block runs, through Tortoise's statement log: counted (`counting_statements`, also
used by `bench/run.py`) or recorded with its parameters (`recording_statements`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

H = TypeVar("H", bound=logging.Handler)


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        # The client also logs opening and closing connections: not statements.
        if not str(record.msg).startswith(("Created connection", "Closed connection")):
            self.count += 1


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
def _attached(handler: H) -> Iterator[H]:
    logger = logging.getLogger("tortoise.db_client")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def counting_statements() -> Any:
    """A counter of the statements run inside the block (`with counting_statements() as counter`)."""
    return _attached(StatementCounter())


def recording_statements() -> Any:
    """The statements, with their parameters, run inside the block (`with … as recorder`)."""
    return _attached(StatementRecorder())


async def count_statements(
    client: Any, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """(statements run, `data`) of a request that must succeed."""
    with counting_statements() as counter:
        data = await client.ok(query, variables)
    return counter.count, data
