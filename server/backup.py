"""Backups: the database and the stored files in one tar archive, and restoring one.

The archive holds `manifest.json`, the database (`database.sqlite3`, made with
SQLite's online backup API, or `database.pgdump`, made with
`pg_dump --format=custom`) and `files/` (the content-addressed attachments, read from and
restored to whichever files backend `SITEDESK_FILES_URL` names: a directory or an S3 bucket).
The database is copied first and the files after: files are only ever added
before the rows that name them commit, so every file the copied database
names is in the archive. Both work while Sitedesk serves requests.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlparse

from core.settings import Settings
from files.backends import FileStore, store_for
from files.storage import KEY_PATTERN

FORMAT = 1
SQLITE_NAME = "database.sqlite3"
POSTGRES_NAME = "database.pgdump"


class BackupError(Exception):
    """A backup or restore cannot proceed; the message says why."""


@dataclass(frozen=True)
class Summary:
    database: str
    files: int
    path: Path


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgres"


def sqlite_path(settings: Settings) -> Path:
    parsed = urlparse(settings.database_url)
    path = parsed.netloc + parsed.path
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _postgres_args(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """libpq connection options and environment (the password goes into PGPASSWORD, not argv)."""
    parsed = urlparse(settings.database_url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
    args = [
        "--host",
        parsed.hostname or "127.0.0.1",
        "--port",
        str(parsed.port or 5432),
        "--username",
        unquote(parsed.username or "postgres"),
        "--dbname",
        unquote(parsed.path.lstrip("/") or "postgres"),
    ]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"`{command[0]}` is not installed (Debian: postgresql-client)")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def _stored_files(store: FileStore) -> list[str]:
    return sorted(item.key for item in store.list())


def backup(settings: Settings, target: Path) -> Summary:
    """Write a backup archive to `target` (which must not exist); blocking."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".sitedesk-backup-") as work:
        work_dir = Path(work)
        if settings.is_sqlite:
            source_path = sqlite_path(settings)
            if not source_path.exists():
                raise BackupError(f"no database at {source_path}")
            database_name = SQLITE_NAME
            source = sqlite3.connect(source_path)
            copy = sqlite3.connect(work_dir / database_name)
            try:
                source.backup(copy)  # the online backup API: consistent while others write
            finally:
                copy.close()
                source.close()
        else:
            database_name = POSTGRES_NAME
            args, env = _postgres_args(settings)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(work_dir / database_name),
                    *args,
                ],
                env,
            )
        store = store_for(settings)
        keys = _stored_files(store)
        manifest = {
            "format": FORMAT,
            "database": _kind(settings),
            "files": len(keys),
            "createdAt": datetime.now(UTC).isoformat(),
        }
        (work_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = work_dir / "archive.tar"
        with tarfile.open(partial, "w") as archive:
            archive.add(work_dir / "manifest.json", "manifest.json")
            archive.add(work_dir / database_name, database_name)
            for key in keys:
                try:
                    size, stream = store.reader(key)
                except FileNotFoundError:
                    continue  # removed since listed: no row of the copied database names it
                with stream:
                    info = tarfile.TarInfo(f"files/{key}")
                    info.size = size
                    info.mtime = int(datetime.now(UTC).timestamp())
                    archive.addfile(info, stream)
        os.replace(partial, target)
    return Summary(_kind(settings), len(keys), target)


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
        manifest = json.loads(member.read()) if member else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not a Sitedesk backup archive")
    return manifest


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists():
        return False
    connection = sqlite3.connect(path)
    try:
        tables: int = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        return tables > 0
    finally:
        connection.close()


def _postgres_has_tables(settings: Settings) -> bool:
    args, env = _postgres_args(settings)
    if shutil.which("psql") is None:
        raise BackupError("`psql` is not installed (Debian: postgresql-client)")
    done = subprocess.run(
        [
            "psql",
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            *args,
            "--command",
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"psql failed: {done.stderr.strip()}")
    return int(done.stdout.strip() or 0) > 0


def restore(settings: Settings, source: Path, *, force: bool = False) -> Summary:
    """Restore an archive into the configured database and files directory; blocking.

    Refuses a database that has tables unless `force` (then it is replaced).
    Stop Sitedesk first; run `sitedesk migrate` afterwards when the backup is
    older than the code.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup archive at {source}")
    with tarfile.open(source, "r") as archive, tempfile.TemporaryDirectory(prefix=".sitedesk-restore-") as work:
        manifest = _read_manifest(archive)
        if manifest["database"] != _kind(settings):
            raise BackupError(
                f"this backup holds a {manifest['database']} database, "
                f"but SITEDESK_DATABASE_URL names a {_kind(settings)} database"
            )
        work_dir = Path(work)
        if settings.is_sqlite:
            target = sqlite_path(settings)
            if _sqlite_has_tables(target) and not force:
                raise BackupError(
                    f"{target} holds data already; restore into an empty database or pass --force to replace it"
                )
            archive.extract(SQLITE_NAME, work_dir, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            copy = sqlite3.connect(work_dir / SQLITE_NAME)
            destination = sqlite3.connect(target)
            try:
                copy.backup(destination)  # page by page into the target, WAL files included
            finally:
                destination.close()
                copy.close()
        else:
            if _postgres_has_tables(settings) and not force:
                raise BackupError(
                    "the database holds tables already; restore into an empty database or pass --force to replace them"
                )
            archive.extract(POSTGRES_NAME, work_dir, filter="data")
            args, env = _postgres_args(settings)
            clean = ["--clean", "--if-exists"] if force else []
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    *clean,
                    *args,
                    str(work_dir / POSTGRES_NAME),
                ],
                env,
            )
        restored = 0
        store = store_for(settings)
        for member in archive.getmembers():
            key = member.name.removeprefix("files/")
            if not member.name.startswith("files/") or not member.isfile() or not KEY_PATTERN.match(key):
                continue
            data = archive.extractfile(member)
            assert data is not None  # a regular file (`member.isfile()` above)
            with data:
                store.put(key, cast(BinaryIO, data))
            restored += 1
    return Summary(_kind(settings), restored, source)
