"""The files backends (files/backends.py): configuration, S3 on a real S3 API (moto's server on
127.0.0.1, whatever SITEDESK_TEST_FILES says), and `sitedesk files gc` on the run's backend."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.ids import to_global_id
from core.settings import ConfigurationError, Settings, settings_from_env
from files.backends import DirectoryStore, S3Store, store_for
from files.storage import storage_key
from files.uploads import collect_garbage
from models.files import FileClaim
from models.tickets import Attachment
from server.app import create_app
from tests.conftest import GraphQLClient, World
from tests.factories import make_attachment, make_ticket
from tests.storage import TEST_BUCKET, files_env, s3_environment, stored_bytes

ROOT = Path(__file__).parents[2]
ADD_ATTACHMENT = """mutation($ticketId: ID!, $file: Upload!) {
  addAttachment(ticketId: $ticketId, file: $file) { id size downloadUrl }
}"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- configuration


def test_files_url_names_the_backend(tmp_path):
    directory = settings_from_env({"SITEDESK_FILES_URL": f"file://{tmp_path}/files"})
    assert directory.files_dir == tmp_path / "files" and directory.files_location == f"file://{tmp_path}/files"
    assert isinstance(store_for(directory), DirectoryStore)
    alias = settings_from_env({"SITEDESK_FILES_DIR": str(tmp_path / "old")})
    assert alias.files_location == f"file://{tmp_path}/old"
    bucket = settings_from_env({"SITEDESK_FILES_URL": "s3://photos/sitedesk/prod/", "SITEDESK_FILES_DIR": "/tmp/x"})
    assert bucket.files_location == "s3://photos/sitedesk/prod" and bucket.files_dir == Path("/tmp/x")


@pytest.mark.parametrize("url", ["ftp://host/files", "file://relative/path", "s3:///no-bucket", "/just/a/path"])
def test_a_files_url_of_another_kind_is_a_configuration_error(url):
    with pytest.raises(ConfigurationError):
        settings_from_env({"SITEDESK_FILES_URL": url})


# ---------------------------------------------------------------- S3


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str, tmp_path: Path) -> Settings:
    """The run's settings with files in a fresh prefix of the test bucket."""
    env = s3_environment(s3_endpoint)
    return dataclasses.replace(
        settings,
        files_dir=tmp_path / "spool",
        files_url=env["SITEDESK_FILES_URL"],
        s3_endpoint_url=s3_endpoint,
    )


@pytest.fixture
async def s3_gql(s3_settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(s3_settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield GraphQLClient(http)


async def upload(gql: GraphQLClient, world: World, ticket_id: int, data: bytes) -> dict:
    response = await gql.upload(
        ADD_ATTACHMENT,
        {"ticketId": to_global_id("Ticket", ticket_id), "file": None},
        {"variables.file": ("bericht.txt", data)},
        token=world.alice.token,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["addAttachment"]


async def test_a_large_upload_goes_to_s3_in_parts_and_streams_back(world, s3_settings, s3_gql):
    ticket = await make_ticket(world.a1, world.defect, "Großes Protokoll", by=world.staff)
    data = (uuid.uuid4().hex * (10 * 1024 * 1024 // 32)).encode()  # 10 MB: above the 8 MB threshold
    attachment = await upload(s3_gql, world, ticket.id, data)
    assert attachment["size"] == len(data)
    store = store_for(s3_settings)
    assert isinstance(store, S3Store)
    head = store.client.head_object(Bucket=TEST_BUCKET, Key=store.prefix + storage_key(sha(data)))
    assert head["ETag"].strip('"').endswith("-2")  # a multipart upload of two parts
    assert head["ContentType"] == "text/plain"
    # Nothing stays in the local spool directory.
    assert not [p for p in s3_settings.files_dir.rglob("*") if p.is_file()]

    response = await s3_gql.http.get(attachment["downloadUrl"])
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(data))
    assert hashlib.sha256(response.content).hexdigest() == sha(data)
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_downloads_redirect_to_a_presigned_url_when_configured(world, s3_settings, settings):
    redirecting = dataclasses.replace(s3_settings, files_redirect=True)
    ticket = await make_ticket(world.a1, world.defect, "Foto", by=world.staff)
    data = f"Messprotokoll {uuid.uuid4()}".encode()
    row = await make_attachment(redirecting, ticket, world.alice, "protokoll.txt", data)
    app = create_app(redirecting, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        gql = GraphQLClient(http, world.alice.token)
        query = "query($id: ID!) { node(id: $id) { ... on Attachment { downloadUrl } } }"
        url = (await gql.ok(query, {"id": to_global_id("Attachment", row.id)}))["node"]["downloadUrl"]
        response = await http.get(url)
        assert response.status_code == 307
        assert response.headers["cache-control"] == "no-store"
        location = response.headers["location"]
        assert location.startswith(s3_settings.s3_endpoint_url + "/")
        assert "X-Amz-Expires=60" in location
        # A changed signature of ours still answers 403, never a redirect.
        tampered = await http.get(url.replace("signature=", "signature=0"))
        assert tampered.status_code == 403
    fetched = httpx.get(location)
    assert fetched.status_code == 200 and fetched.content == data
    assert 'filename="protokoll.txt"' in fetched.headers["content-disposition"]


async def test_a_store_that_fails_leaves_no_row(world, s3_settings):
    missing_bucket = dataclasses.replace(s3_settings, files_url=f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/x")
    ticket = await make_ticket(world.a1, world.defect, "Ohne Speicher", by=world.staff)
    app = create_app(missing_bucket, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        response = await GraphQLClient(http).upload(
            ADD_ATTACHMENT,
            {"ticketId": to_global_id("Ticket", ticket.id), "file": None},
            {"variables.file": ("x.txt", b"nirgends gespeichert")},
            token=world.alice.token,
        )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "bucket" not in str(body).lower()  # no internals
    assert await Attachment.filter(ticket_id=ticket.id).count() == 0
    assert not list(missing_bucket.files_dir.glob(".upload-*"))


# ---------------------------------------------------------------- garbage collection (the run's backend)


async def test_gc_removes_old_orphans_and_keeps_what_rows_name(world, settings):
    ticket = await make_ticket(world.a1, world.defect, "Mit Anhang", by=world.staff)
    kept = f"referenced {uuid.uuid4()}".encode()
    await make_attachment(settings, ticket, world.alice, "kept.txt", kept)
    store = store_for(settings)
    orphan = store.store(io.BytesIO(f"orphan {uuid.uuid4()}".encode()), 1 << 20)
    # A dead process's claim on the orphan does not keep it once it is old.
    await FileClaim.create(storage_key=orphan.storage_key, in_flight=1)

    young = await collect_garbage(settings)  # the default: only files older than a day
    assert orphan.storage_key not in young.removed
    assert stored_bytes(settings, orphan.storage_key) is not None

    done = await collect_garbage(settings, older_than_seconds=-60)  # everything counts as old
    assert orphan.storage_key in done.removed
    assert stored_bytes(settings, orphan.storage_key) is None
    assert stored_bytes(settings, storage_key(sha(kept))) == kept
    assert storage_key(sha(kept)) not in done.removed


def test_files_gc_command_reports_what_it_did(settings):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SITEDESK_FILES")},
        "SITEDESK_DATABASE_URL": settings.database_url,
        **files_env(settings),
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "files", "gc"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "orphans removed" in done.stdout and time.monotonic() - started < 60
