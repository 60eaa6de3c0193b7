"""`sitedesk backup` / `sitedesk restore`: tickets, attachments and form submissions come back,
files byte for byte."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from tortoise.connection import get_connection

from core.ids import to_global_id
from core.settings import settings_from_env
from files.backends import store_for
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.storage import another_backend, files_env

ROOT = Path(__file__).parents[2]
CREATE_TICKET = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id attachments { id } } }"""
QUERIES = {
    "tickets": 'SELECT "id", "number", "title", "object_id", "created_by_id" FROM "ticket" ORDER BY "id"',
    "comments": 'SELECT "id", "ticket_id", "body", "internal" FROM "comment" ORDER BY "id"',
    "attachments": 'SELECT "id", "ticket_id", "filename", "storage_key", "size" FROM "attachment" ORDER BY "id"',
    "accounts": 'SELECT "id", "email", "password_hash" FROM "account" ORDER BY "id"',
    "submissions": (
        'SELECT "id", "template_id", "version_id", "client_submission_id" FROM "form_submission" ORDER BY "id"'
    ),
    "form_files": 'SELECT "id", "submission_id", "role", "storage_key", "size" FROM "form_file" ORDER BY "id"',
}
PUBLIC_FORM = """mutation($input: CreateFormTemplateInput!) { createFormTemplate(input: $input) { id } }"""
PUBLISH = """mutation($id: ID!) { publishFormTemplate(id: $id) { publicToken } }"""
SUBMIT_PUBLIC = """mutation($token: String!, $answers: [AnswerInput!]!) {
  submitPublicForm(token: $token, answers: $answers) { id pdfUrl } }"""


def cli(args: list[str], database_url: str, files: dict[str, str]) -> subprocess.CompletedProcess:
    """`sitedesk ARGS` on a database and a files backend (`files`: its variables, tests/storage.py)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SITEDESK_FILES")},
        "SITEDESK_DATABASE_URL": database_url,
        **files,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


async def rows_now() -> dict[str, list[tuple]]:
    connection = get_connection("default")
    return {
        name: [tuple(row.values()) for row in await connection.execute_query_dict(sql)] for name, sql in QUERIES.items()
    }


async def rows_in(database_url: str) -> dict[str, list[tuple]]:
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite://"))
        try:
            return {name: [tuple(row) for row in connection.execute(sql)] for name, sql in QUERIES.items()}
        finally:
            connection.close()
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return {name: [tuple(row.values()) for row in await connection.fetch(sql)] for name, sql in QUERIES.items()}
    finally:
        await connection.close()


@pytest.fixture
async def fresh_database(settings, tmp_path):
    """A database URL nobody has used yet, of the suite's kind."""
    server_url = os.environ.get("SITEDESK_TEST_DATABASE_URL", "")
    if server_url.startswith("postgres"):
        url = await _create_postgres_database(server_url)
        yield url
        await _drop_postgres_database(url, server_url)
    else:
        yield f"sqlite://{tmp_path / 'restored' / 'sitedesk.db'}"


async def test_backup_restores_every_ticket_comment_attachment_and_file(
    world, tickets, settings, gql, tmp_path, fresh_database
):
    payloads = {f"photo-{i}.txt": f"backup payload {i} {uuid.uuid4()}".encode() * (i + 1) for i in range(3)}
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Mit Fotos",
            "attachments": [None] * len(payloads),
        }
    }
    response = await gql.upload(
        CREATE_TICKET,
        variables,
        {f"variables.input.attachments.{i}": (name, data) for i, (name, data) in enumerate(payloads.items())},
        token=world.alice.token,
    )
    assert len(response.json()["data"]["createTicket"]["attachments"]) == 3
    admin = gql.as_viewer(world.admin.token)
    template = (
        await admin.ok(
            PUBLIC_FORM,
            {
                "input": {
                    "name": "Feedback",
                    "isPublic": True,
                    "elements": [{"key": "note", "kind": "TEXT", "label": "Ihre Nachricht", "required": True}],
                }
            },
        )
    )["createFormTemplate"]
    token = (await admin.ok(PUBLISH, {"id": template["id"]}))["publishFormTemplate"]["publicToken"]
    await gql.ok(SUBMIT_PUBLIC, {"token": token, "answers": [{"key": "note", "text": "Alles sauber, danke"}]})

    archive = tmp_path / "sitedesk-backup.tar"
    made = cli(["backup", str(archive)], settings.database_url, files_env(settings))
    assert made.returncode == 0, made.stderr
    assert "backup written" in made.stdout
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and not any(".upload-" in n for n in names)

    restored_env = another_backend(settings, tmp_path / "restored-files")
    restored_store = store_for(settings_from_env({"SITEDESK_DATABASE_URL": fresh_database, **restored_env}))
    assert not list(restored_store.list())
    done = cli(["restore", str(archive)], fresh_database, restored_env)
    assert done.returncode == 0, done.stderr

    original = await rows_now()
    restored = await rows_in(fresh_database)
    assert restored == original
    assert len(original["tickets"]) == 4 and len(original["attachments"]) == 3
    assert len(original["submissions"]) == 1 and [f[2] for f in original["form_files"]] == ["PDF"]
    for _, _, _, key, size in original["form_files"]:
        data = restored_store.read_bytes(key)
        assert data[:5] == b"%PDF-" and len(data) == size
    for _, _, filename, key, size in original["attachments"]:
        data = restored_store.read_bytes(key)
        assert data == payloads[filename] and len(data) == size
        assert hashlib.sha256(data).hexdigest() == key.rsplit("/", 1)[1]

    # A restored database with data is not overwritten by accident.
    again = cli(["restore", str(archive)], fresh_database, restored_env)
    assert again.returncode == 1 and "--force" in again.stderr
    forced = cli(["restore", "--force", str(archive)], fresh_database, restored_env)
    assert forced.returncode == 0, forced.stderr
    assert await rows_in(fresh_database) == original
    # The restored database is a working Sitedesk database: nothing left to migrate.
    migrated = cli(["migrate"], fresh_database, restored_env)
    assert migrated.returncode == 0, migrated.stderr


def test_backup_refuses_to_overwrite_and_restore_refuses_foreign_archives(settings, tmp_path):
    existing = tmp_path / "exists.tar"
    existing.write_bytes(b"")
    result = cli(["backup", str(existing)], settings.database_url, files_env(settings))
    assert result.returncode == 1 and "exists already" in result.stderr
    foreign = tmp_path / "foreign.tar"
    with tarfile.open(foreign, "w") as tar:
        tar.add(__file__, "manifest.json")
    result = cli(
        ["restore", str(foreign)], f"sqlite://{tmp_path / 'x.db'}", {"SITEDESK_FILES_DIR": str(tmp_path / "files")}
    )
    assert result.returncode == 1 and "not a Sitedesk backup" in result.stderr
