"""CPU spent per request, by the server process and by the database server's backends.

Read from /proc (Linux): a process's user + system time, and the sum over
PostgreSQL's backends serving one database (their process title names it:
`postgres: 15/main: <user> <database> <client> <state>`). During one side's
load round the other sides idle, so the backends of the database that side
reads are that side's: the product and the baseline share the bench
database and take turns; PostGraphile reads its own copy.

With N processes behind a load balancer the database's CPU is the part that
does not scale out, which is why it is reported apart from the server's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone or /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state is field 3, utime 14 and stime 15 (1-based) of the whole line.
    return (int(fields[11]) + int(fields[12])) / TICKS


def database_seconds(database: str | None) -> float:
    """CPU seconds of the PostgreSQL backends connected to `database` (0 for None: SQLite runs in-process)."""
    if not database:
        return 0.0
    marker = f" {database} ".encode()
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:
            total += process_seconds(int(entry.name))
    return total


@dataclass
class Sample:
    """CPU seconds of a server process and of its database's backends, at one moment."""

    app: float
    database: float

    @classmethod
    def take(cls, pid: int, database: str | None) -> Sample:
        return cls(process_seconds(pid), database_seconds(database))


@dataclass
class PerRequest:
    """Milliseconds of CPU per request, summed over load rounds."""

    app_seconds: float = 0.0
    database_seconds: float = 0.0
    requests: float = 0.0

    def add(self, before: Sample, after: Sample, requests: float) -> None:
        self.app_seconds += after.app - before.app
        self.database_seconds += after.database - before.database
        self.requests += requests

    @property
    def app_ms(self) -> float | None:
        return 1000 * self.app_seconds / self.requests if self.requests else None

    @property
    def database_ms(self) -> float | None:
        return 1000 * self.database_seconds / self.requests if self.requests else None

    def text(self) -> str:
        if not self.requests:
            return "—"
        return f"{self.app_ms:.2f} + {self.database_ms:.2f}"
