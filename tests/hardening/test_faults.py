"""Faults: the database going away and coming back, failing file writes, shutdown mid-request."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.hardening import private_postgres
from tests.hardening.servers import ROOT, running_servers

ADMIN = ("ops@example.test", "ops-password-2026")
LOGIN = """mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"""
RESUME_TIMEOUT = 60.0


def cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(private_postgres.missing() is not None, reason=str(private_postgres.missing()))
def test_database_outage_gives_a_clear_error_and_service_resumes(tmp_path):
    with private_postgres.private_cluster() as cluster:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SITEDESK_DATABASE_URL": cluster.url,
            "SITEDESK_FILES_DIR": str(tmp_path / "files"),
            "SITEDESK_ENV": "test",
            "SITEDESK_SECRET_KEYS": "fault-test-key-" + "f" * 30,
        }
        cli(env, "migrate")
        cli(env, "create-admin", "--email", ADMIN[0], "--password", ADMIN[1])
        with running_servers(env, 1, tmp_path) as [server]:
            http = httpx.Client(base_url=server.url, timeout=30)
            login = http.post("/graphql", json={"query": LOGIN, "variables": {"e": ADMIN[0], "p": ADMIN[1]}})
            token = login.json()["data"]["login"]["accessToken"]
            auth = {"authorization": f"Bearer {token}"}
            query = {"query": "{ ticketTypes { name } }"}
            assert http.post("/graphql", json=query, headers=auth).json()["data"] == {"ticketTypes": []}

            cluster.stop()
            for _ in range(3):
                response = http.post("/graphql", json=query, headers=auth)
                body = response.json()
                assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
                assert "Traceback" not in response.text and "asyncpg" not in response.text
            anonymous = http.post("/graphql", json={"query": LOGIN, "variables": {"e": ADMIN[0], "p": "x"}})
            assert anonymous.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            health = http.get("/health")
            assert health.status_code == 503
            assert health.json() == {"status": "unavailable", "database": "unreachable"}

            cluster.start()
            deadline = time.monotonic() + RESUME_TIMEOUT
            while http.get("/health").status_code != 200:
                assert time.monotonic() < deadline, "service did not resume"
                time.sleep(0.2)
            for _ in range(5):
                assert http.post("/graphql", json=query, headers=auth).json()["data"] == {"ticketTypes": []}
            assert server.process.poll() is None  # the same process, never restarted
            http.close()
        print(server.output())


# ------------------------------------------------------------ failing file writes

CREATE_TICKET = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }"""
ADD_ATTACHMENT = """mutation($t: ID!, $f: Upload!) { addAttachment(ticketId: $t, file: $f) { id } }"""
DISK_LIMIT = 100_000


@pytest.fixture
def full_disk(monkeypatch):
    """Writes into storage fail with ENOSPC once a file passes DISK_LIMIT bytes (a filling disk)."""
    import errno
    import tempfile

    real = tempfile.NamedTemporaryFile

    def temporary(*args, **kwargs):
        temp = real(*args, **kwargs)
        write, written = temp.file.write, 0

        def limited(data):
            nonlocal written
            if written + len(data) > DISK_LIMIT:
                write(data[: DISK_LIMIT - written])
                raise OSError(errno.ENOSPC, "No space left on device")
            written += len(data)
            return write(data)

        temp.write = limited
        return temp

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", temporary)


def stored_files(files_dir) -> set[str]:
    return {str(p.relative_to(files_dir)) for p in files_dir.rglob("*") if p.is_file()} if files_dir.exists() else set()


async def test_a_failing_file_write_leaves_no_ticket_and_no_file(world, tickets, gql, settings, full_disk):
    import uuid

    from core.ids import to_global_id
    from models.tickets import Attachment, Ticket

    before_files = stored_files(settings.files_dir)
    before_tickets, before_attachments = await Ticket.all().count(), await Attachment.all().count()
    variables = {
        "input": {
            "objectId": to_global_id("SiteObject", world.a1.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": "Volle Platte",
            "attachments": [None, None],
        }
    }
    small = f"fits {uuid.uuid4()}".encode()
    large = uuid.uuid4().bytes * (3 * DISK_LIMIT // 16)
    response = await gql.upload(
        CREATE_TICKET,
        variables,
        {"variables.input.attachments.0": ("small.txt", small), "variables.input.attachments.1": ("large.bin", large)},
        token=world.alice.token,
    )
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "No space left" not in response.text
    ticket = tickets["Flur nicht gewischt"]
    response = await gql.upload(
        ADD_ATTACHMENT,
        {"t": to_global_id("Ticket", ticket.id), "f": None},
        {"variables.f": ("large.bin", large)},
        token=world.alice.token,
    )
    assert response.json()["data"] is None
    assert await Ticket.all().count() == before_tickets
    assert await Attachment.all().count() == before_attachments
    assert stored_files(settings.files_dir) == before_files  # no partial, temporary or orphaned file
    for attachment in await Attachment.all():
        assert (settings.files_dir / attachment.storage_key).is_file()


def test_what_counts_as_the_database_being_unavailable():
    import asyncpg
    from tortoise.exceptions import IntegrityError, OperationalError

    from core.database import database_unavailable

    assert database_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert database_unavailable(asyncpg.exceptions.CannotConnectNowError("starting up"))
    assert database_unavailable(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    wrapped = OperationalError("query failed")
    wrapped.__cause__ = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    assert database_unavailable(wrapped)
    assert not database_unavailable(IntegrityError("duplicate key"))
    assert not database_unavailable(OperationalError("syntax error"))
    assert not database_unavailable(ValueError("bad"))
    assert not database_unavailable(OSError(28, "No space left on device"))


# ------------------------------------------------------------ graceful shutdown


def wait_for_log(server, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.output():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{server.output()}"
        time.sleep(0.05)


async def test_sigterm_lets_the_request_in_flight_finish(world, settings, tmp_path):
    import json
    import signal
    import socket

    from core.ids import to_global_id
    from models.tickets import Ticket
    from tests.hardening.servers import server_env

    payload = json.dumps(
        {
            "query": CREATE_TICKET,
            "variables": {
                "input": {
                    "objectId": to_global_id("SiteObject", world.a1.id),
                    "ticketTypeId": to_global_id("TicketType", world.defect.id),
                    "title": "Während des Herunterfahrens",
                }
            },
        }
    ).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {world.admin.token}\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with running_servers(server_env(settings), 1, tmp_path) as [server]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head + payload[:20])  # the request has begun; its body is still coming
            # Let the server read the headers: a later request on another connection
            # being answered means the loop has passed ours (ordering only, nothing is timed).
            time.sleep(0.5)
            assert httpx.get(server.url + "/health", timeout=30).status_code == 200
            server.process.send_signal(signal.SIGTERM)
            wait_for_log(server, "Waiting for connections to close")
            with pytest.raises(httpx.TransportError):  # no new connections while draining
                httpx.get(server.url + "/health", timeout=2)
            sock.sendall(payload[20:])
            response = b""
            while chunk := sock.recv(65536):
                response += chunk
                if b"\r\n\r\n" in response and response.rstrip().endswith(b"}"):
                    break
        # uvicorn re-raises the signal once it has shut down cleanly
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
    status, _, rest = response.partition(b"\r\n")
    assert status == b"HTTP/1.1 200 OK", response
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert "errors" not in body, body
    assert await Ticket.filter(title="Während des Herunterfahrens").count() == 1
    assert "Finished server process" in server.output()
