"""Fill a fresh, migrated database with N tickets for the benchmark.

Rows go in with bulk inserts (stdlib `sqlite3.executemany` on SQLite, COPY
through asyncpg on PostgreSQL, the search index built once at the end there),
never one ORM save per row: 100 k tickets
take seconds, 1 M about a minute. Every random choice comes from one seeded
`random.Random`, so two runs with the same N hold the same data.

Shape (per N tickets): N/2000 customers (at least 5, every other one with the
ticket evaluation on) with 20 objects and 5
portal users each (10 objects per user, 3 enabled ticket types per
customer), 40 employees, 6 ticket types (2 absence requests), about 3
comments per ticket (20 % internal), one attachment on every second ticket
pointing at one of a few real stored files, one history entry per ticket.
About 30 % of the tickets are in the first customer user's scope (`VIEWER_SHARE`).
The first customer user and a few "detail" tickets with 25 comments each
are the benchmark's viewers and subjects (`World`).

    python -m bench.generate --tickets 100000 [--database-url URL] [--files-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sqlite3
import struct
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from core.database import migrate
from core.settings import settings_from_env
from files.storage import store
from models.search import postgres_document_sql
from resolvers.evaluations import whole_days

SEED = 7
PASSWORD = "bench-password-2026"
OBJECTS_PER_CUSTOMER = 20
USERS_PER_CUSTOMER = 5
OBJECTS_PER_USER = 10
EMPLOYEES = 40
TYPES = [
    ("Reinigungsmangel", False),
    ("Schaden", False),
    ("Leistungsnachweis", False),
    ("Nachreinigung", False),
    ("Urlaub", True),
    ("Krankmeldung", True),
]
# Share of the tickets put on the benchmark customer user's objects with one of
# their customer's enabled types; with the random rest that lands there too,
# about 30 % of all tickets are in their scope (as in issue 13's probe).
VIEWER_SHARE = 0.275
DETAIL_TICKETS = 5
DETAIL_COMMENTS = 25
CHUNK = 50_000
WORDS = (
    "Fenster Boden Teppich WC Küche Flur Treppenhaus Eingang Büro Glas Staub Fleck Geruch "
    "Mülleimer Papier Seife Spiegel Tür Heizung Lampe Wasser Kaffee Besprechungsraum"
).split()


@dataclass
class World:
    """What the benchmark needs to know about the generated data."""

    tickets: int
    customer_user_account: int
    customer_id: int
    employee_account: int
    employee_id: int
    object_id: int
    ticket_type_id: int
    detail_ticket_ids: list[int]
    commentable_ticket_id: int

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> World:
        return cls(**json.loads(path.read_text()))


def _png(seed: int) -> bytes:
    """A tiny valid PNG (8×8, one colour) so stored files sniff as images."""
    width = height = 8
    raw = b"".join(b"\x00" + bytes([seed * 40 % 256, 120, 200]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Writer:
    """Bulk inserts of plain tuples into one table at a time."""

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class SqliteWriter(Writer):
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("BEGIN")

    @staticmethod
    def _value(value: Any) -> Any:
        # As Tortoise stores them: ISO text for datetimes and dates, 0/1 for booleans.
        if isinstance(value, (datetime, date)):
            return str(value)
        if isinstance(value, bool):
            return int(value)
        return value

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        convert = self._value
        self.db.executemany(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})', (tuple(convert(v) for v in row) for row in rows)
        )

    def finish(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("ANALYZE")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()


class PostgresWriter(Writer):
    def __init__(self, url: str) -> None:
        import asyncpg

        self.loop = asyncio.new_event_loop()
        dsn = urlparse(url)._replace(scheme="postgresql", query="").geturl()
        self.db = self.loop.run_until_complete(asyncpg.connect(dsn))
        # The search index's triggers would rebuild a ticket's document for every copied row:
        # off for this session, the index is built once in `finish`.
        self.loop.run_until_complete(self.db.execute("SET session_replication_role = replica"))
        self.tables: set[str] = set()
        self.index_seconds = 0.0

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        if "id" in columns:  # tables with a serial key get their sequence moved past the rows
            self.tables.add(table)
        self.loop.run_until_complete(self.db.copy_records_to_table(table, records=list(rows), columns=list(columns)))

    def finish(self) -> None:
        for table in sorted(self.tables):
            self.loop.run_until_complete(
                self.db.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
                )
            )
        started = time.perf_counter()
        self.loop.run_until_complete(self.db.execute("SET maintenance_work_mem = '256MB'"))
        self.loop.run_until_complete(self.db.execute(postgres_document_sql("TRUE", "TRUE")))
        self.index_seconds = time.perf_counter() - started
        # VACUUM too: a freshly copied table has no visibility map, so no scan is index-only.
        self.loop.run_until_complete(self.db.execute("VACUUM ANALYZE"))
        self.loop.run_until_complete(self.db.close())
        self.loop.close()


def _chunks(rows: Iterator[tuple], size: int = CHUNK) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(writer: Writer, n_tickets: int, files_dir: Path) -> World:
    """Insert everything; returns the benchmark's viewers and subjects."""
    rng = random.Random(SEED)
    t0 = datetime(2026, 11, 1, 8, 0, 0, 123456, tzinfo=UTC)
    password_hash = PasswordHasher.from_parameters(CHEAPEST).hash(PASSWORD)
    n_customers = max(5, n_tickets // 2000)
    n_objects = n_customers * OBJECTS_PER_CUSTOMER
    n_users = n_customers * USERS_PER_CUSTOMER

    # Accounts: employees first (ids 1..EMPLOYEES), then customer users.
    account_cols = (
        "id",
        "kind",
        "email",
        "name",
        "password_hash",
        "is_active",
        "token_version",
        "locale",
        "created_at",
    )
    accounts = [
        (i, "employee", f"mitarbeiter{i}@bench.example", f"Mitarbeiter {i}", password_hash, True, 1, "de", t0)
        for i in range(1, EMPLOYEES + 1)
    ]
    accounts += [
        (EMPLOYEES + u, "customer_user", f"kunde{u}@bench.example", f"Kundin {u}", password_hash, True, 1, "de", t0)
        for u in range(1, n_users + 1)
    ]
    writer.insert("account", account_cols, accounts)
    writer.insert(
        "permission_group",
        ("id", "name", "permissions", "created_at"),
        [
            (1, "Objektleitung", json.dumps(["MANAGE_CHECK_TEMPLATES"]), t0),
            (2, "Personalbüro", json.dumps(["MANAGE_ABSENCES"]), t0),
        ],
    )
    writer.insert(
        "employee", ("id", "account_id", "is_system_admin"), [(i, i, i == EMPLOYEES) for i in range(1, EMPLOYEES + 1)]
    )
    # The benchmark's employee (id 1) holds a group without MANAGE_ABSENCES: the scoped case.
    writer.insert(
        "employee_permission_group",
        ("employee_id", "permissiongroup_id"),
        [(1, 1)] + [(i, 2) for i in range(EMPLOYEES - 2, EMPLOYEES + 1)],
    )
    writer.insert(
        "ticket_type",
        ("id", "name", "is_absence_request", "created_at"),
        [(i, name, absence, t0) for i, (name, absence) in enumerate(TYPES, 1)],
    )
    # Each type's three default states, as a new type gets them (tickets keep state_id NULL: the default).
    writer.insert(
        "ticket_state",
        ("id", "ticket_type_id", "name", "category", "position", "is_default"),
        [
            (3 * (t - 1) + p + 1, t, name, category, p, True)
            for t in range(1, len(TYPES) + 1)
            for p, (name, category) in enumerate(
                (("Offen", "OPEN"), ("In Bearbeitung", "IN_PROGRESS"), ("Erledigt", "DONE"))
            )
        ],
    )
    normal_types = [i for i, (_, absence) in enumerate(TYPES, 1) if not absence]
    absence_types = [i for i, (_, absence) in enumerate(TYPES, 1) if absence]

    # Every other customer shows its users the ticket evaluation (groups of a week).
    writer.insert(
        "customer",
        ("id", "name", "created_at", "ticket_evaluation_enabled", "ticket_evaluation_group_size_days"),
        [(c, f"Kunde {c} GmbH", t0, c % 2 == 1, 7) for c in range(1, n_customers + 1)],
    )
    writer.insert(
        "site_object",
        ("id", "customer_id", "name", "address", "is_active", "created_at"),
        [
            (o, (o - 1) // OBJECTS_PER_CUSTOMER + 1, f"Objekt {o}", f"Hauptstraße {o}, 12345 Musterstadt", True, t0)
            for o in range(1, n_objects + 1)
        ],
    )
    enabled = {c: sorted(rng.sample(normal_types, 3)) for c in range(1, n_customers + 1)}
    enabled[1] = normal_types[:3]
    writer.insert(
        "customer_ticket_type",
        ("id", "customer_id", "ticket_type_id"),
        [(i, c, t) for i, (c, t) in enumerate(((c, t) for c in range(1, n_customers + 1) for t in enabled[c]), 1)],
    )
    writer.insert(
        "customer_user",
        ("id", "account_id", "customer_id"),
        [(u, EMPLOYEES + u, (u - 1) // USERS_PER_CUSTOMER + 1) for u in range(1, n_users + 1)],
    )
    links = []
    for u in range(1, n_users + 1):
        customer = (u - 1) // USERS_PER_CUSTOMER + 1
        first_object = (customer - 1) * OBJECTS_PER_CUSTOMER + 1
        own = range(first_object, first_object + OBJECTS_PER_CUSTOMER)
        links += [(u, o) for o in sorted(rng.sample(own, OBJECTS_PER_USER))]
    writer.insert(
        "customer_user_object",
        ("id", "customer_user_id", "object_id"),
        [(i, u, o) for i, (u, o) in enumerate(links, 1)],
    )
    users_of_object: dict[int, list[int]] = {}
    for u, o in links:
        users_of_object.setdefault(o, []).append(EMPLOYEES + u)

    # A few real small files that attachment rows point at.
    stored = [store(files_dir, io.BytesIO(_png(i)), 1 << 20) for i in range(3)]

    viewer_objects = [o for u, o in links if u == 1]
    bench_object = viewer_objects[0]
    detail_ids = list(range(1, DETAIL_TICKETS + 1))

    ticket_cols = (
        "id",
        "number",
        "title",
        "description",
        "status",
        "ticket_type_id",
        "object_id",
        "assignee_id",
        "due_date",
        "created_by_id",
        "source",
        "created_at",
        "updated_at",
        "done_at",
        "resolution_days",
    )
    comment_cols = ("id", "ticket_id", "author_id", "body", "internal", "created_at", "edited_at")
    attachment_cols = (
        "id",
        "ticket_id",
        "uploaded_by_id",
        "filename",
        "content_type",
        "size",
        "sha256",
        "storage_key",
        "created_at",
    )
    event_cols = ("id", "ticket_id", "kind", "actor_id", "from_value", "to_value", "created_at")
    span = 2 * 365 * 86400
    comment_id = attachment_id = 0

    def tickets() -> Iterator[tuple[tuple, list[tuple], list[tuple], tuple]]:
        nonlocal comment_id, attachment_id
        for tid in range(1, n_tickets + 1):
            if tid in detail_ids:
                obj, kind = bench_object, enabled[1][0]  # visible to the benchmark's customer user too
            elif rng.random() < VIEWER_SHARE:
                obj, kind = rng.choice(viewer_objects), rng.choice(enabled[1])
            else:
                obj = rng.randint(1, n_objects)
                kind = rng.choice(absence_types) if rng.random() < 0.05 else rng.choice(normal_types)
            created = t0 - timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1, 999999))
            status = rng.choices(("OPEN", "IN_PROGRESS", "DONE"), (2, 1, 7))[0]
            done = created + timedelta(seconds=rng.randrange(3600, 40 * 86400)) if status == "DONE" else None
            portal_users = users_of_object.get(obj)
            if portal_users and kind in normal_types and rng.random() < 0.4:
                creator, source = rng.choice(portal_users), "PORTAL"
            else:
                creator, source = rng.randint(1, EMPLOYEES), "BACKOFFICE"
            assignee = rng.randint(1, EMPLOYEES) if rng.random() < 0.8 else None
            due = (created + timedelta(days=rng.randint(1, 30))).date() if rng.random() < 0.3 else None
            words = rng.sample(WORDS, 3)
            title = f"{words[0]} {words[1]}: {words[2]} prüfen"
            description = " ".join(rng.choices(WORDS, k=rng.randint(0, 25)))
            n_comments = (
                DETAIL_COMMENTS if tid in detail_ids else rng.choices((0, 1, 2, 3, 5, 8), (2, 2, 2, 2, 1, 1))[0]
            )
            comments = []
            at = created
            for _ in range(n_comments):
                comment_id += 1
                at = at + timedelta(minutes=rng.randint(5, 600))
                internal = rng.random() < 0.2
                author = (
                    rng.randint(1, EMPLOYEES)
                    if internal or not portal_users or rng.random() < 0.6
                    else rng.choice(portal_users)
                )
                comments.append(
                    (comment_id, tid, author, " ".join(rng.choices(WORDS, k=rng.randint(3, 20))), internal, at, None)
                )
            attachments = []
            if tid % 2 == 0 or tid in detail_ids:
                attachment_id += 1
                item = stored[tid % len(stored)]
                attachments.append(
                    (
                        attachment_id,
                        tid,
                        creator,
                        f"foto-{tid}.png",
                        item.content_type,
                        item.size,
                        item.sha256,
                        item.storage_key,
                        created,
                    )
                )
            updated = max(done or created, at)
            yield (
                (
                    tid,
                    tid,
                    title,
                    description,
                    status,
                    kind,
                    obj,
                    assignee,
                    due,
                    creator,
                    source,
                    created,
                    updated,
                    done,
                    whole_days(created, done) if done else None,
                ),
                comments,
                attachments,
                (tid, tid, "CREATED", creator, None, str(tid), created),
            )

    for batch in _chunks(tickets(), CHUNK):
        writer.insert("ticket", ticket_cols, [b[0] for b in batch])
        writer.insert("comment", comment_cols, [c for b in batch for c in b[1]])
        writer.insert("attachment", attachment_cols, [a for b in batch for a in b[2]])
        writer.insert("ticket_event", event_cols, [b[3] for b in batch])
    writer.insert("ticket_counter", ("id", "last_number"), [(1, n_tickets)])
    writer.finish()
    return World(
        tickets=n_tickets,
        customer_user_account=EMPLOYEES + 1,
        customer_id=1,
        employee_account=1,
        employee_id=1,
        object_id=bench_object,
        ticket_type_id=enabled[1][0],
        detail_ticket_ids=detail_ids,
        commentable_ticket_id=detail_ids[-1],
    )


async def _fresh_postgres(url: str, name: str, template: str | None = None) -> str:
    """A new empty database `name` on the server (or a copy of `template`), replacing `name`; its URL."""
    import asyncpg

    parsed = urlparse(url)
    admin = await asyncpg.connect(parsed._replace(scheme="postgresql", path="/postgres", query="").geturl())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await admin.close()
    return parsed._replace(path=f"/{name}").geturl()


async def database_exists(server_url: str, name: str) -> bool:
    import asyncpg

    admin_url = urlparse(server_url)._replace(scheme="postgresql", path="/postgres", query="").geturl()
    admin = await asyncpg.connect(admin_url)
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def copy_database(server_url: str, template: str, name: str) -> str:
    """A fresh copy `name` of the database `template` on the server (replacing `name`); its URL."""
    return await _fresh_postgres(server_url, name, template)


def drop_postgres(database_url: str) -> None:
    """Drop a database `generate` created on a PostgreSQL server (its URL names it)."""
    import asyncpg

    async def drop() -> None:
        parsed = urlparse(database_url)
        name = parsed.path.lstrip("/")
        if not name.startswith("sitedesk_bench_"):
            raise ValueError(f"not a benchmark database: {name!r}")
        admin = await asyncpg.connect(parsed._replace(scheme="postgresql", path="/postgres", query="").geturl())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


def generate(n_tickets: int, database_url: str, files_dir: Path, name: str | None = None) -> tuple[str, World]:
    """Create a fresh database at `database_url` (a file path URL or a PostgreSQL server), migrate, fill.

    On PostgreSQL the database is `name` (default `sitedesk_bench_N`), replaced if it exists.
    """
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        path = Path(parsed.netloc + parsed.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = database_url
    else:
        url = asyncio.run(_fresh_postgres(database_url, name or f"sitedesk_bench_{n_tickets}"))
    settings = settings_from_env(
        {"SITEDESK_DATABASE_URL": url, "SITEDESK_ENV": "test", "SITEDESK_FILES_DIR": str(files_dir)}
    )
    asyncio.run(migrate(settings))
    writer: Writer = SqliteWriter(str(path)) if parsed.scheme == "sqlite" else PostgresWriter(url)
    return url, fill(writer, n_tickets, files_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--files-dir", default="bench/var/files")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite://{Path('bench/var').resolve()}/bench-{args.tickets}.db"
    started = time.perf_counter()
    url, world = generate(args.tickets, url, Path(args.files_dir).resolve())
    print(f"{args.tickets} tickets in {time.perf_counter() - started:.1f} s: {url}")
    print(world)


if __name__ == "__main__":
    main()
