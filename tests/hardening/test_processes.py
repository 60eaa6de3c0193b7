"""Several Sitedesk processes on one PostgreSQL database and one S3 bucket, as on several machines
behind a load balancer: what one process stores another serves, and a mail goes out once.

PostgreSQL only (several processes on one SQLite file is refused: tests/server/test_operations.py).
The S3 API is moto's server on 127.0.0.1, the SMTP server aiosmtpd's; the servers are real
`sitedesk serve` processes with JSON logs, whose every line is read back at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from core.ids import to_global_id
from models.notifications import DeliveryStatus, OutboxMail
from tests.hardening.servers import running_servers, server_env
from tests.notifications.conftest import SmtpServer
from tests.storage import s3_environment

pytestmark = pytest.mark.skipif(
    not os.environ.get("SITEDESK_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several processes need PostgreSQL",
)
METRICS_TOKEN = "metrics-token-" + "ab" * 16
CREATE_TICKET = """mutation CreateWithPhoto($input: CreateTicketInput!) {
  createTicket(input: $input) { id attachments { id size downloadUrl } } }"""
ASSIGN = """mutation Assign($id: ID!, $assigneeId: ID) { assignTicket(id: $id, assigneeId: $assigneeId) { id } }"""
ATTACHMENTS = """query Attachments($id: ID!) { node(id: $id) { ... on Ticket { attachments { downloadUrl } } } }"""


def post(url: str, token: str, query: str, variables: dict) -> dict:
    response = httpx.post(
        url + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def test_upload_via_one_process_download_via_another_and_mail_sent_once(world, settings, s3_endpoint, tmp_path):
    smtp = SmtpServer()
    smtp.start()
    env = server_env(
        settings,
        **s3_environment(s3_endpoint),
        SITEDESK_FILES_DIR=str(tmp_path / "spool"),
        SITEDESK_SMTP_URL=smtp.url,
        SITEDESK_LOG_FORMAT="json",
        SITEDESK_METRICS_TOKEN=METRICS_TOKEN,
    )
    photo = f"Foto vom Flur {uuid.uuid4()}".encode() * 1000
    try:
        with running_servers(env, 3, tmp_path) as [a, b, c]:
            # A: the portal user's new ticket with a photo, stored in S3 by process A.
            variables = {
                "input": {
                    "objectId": to_global_id("SiteObject", world.a1.id),
                    "ticketTypeId": to_global_id("TicketType", world.defect.id),
                    "title": "Flur verschmutzt",
                    "attachments": [None],
                }
            }
            response = httpx.post(
                a.url + "/graphql",
                data={
                    "operations": json.dumps({"query": CREATE_TICKET, "variables": variables}),
                    "map": json.dumps({"0": ["variables.input.attachments.0"]}),
                },
                files={"0": ("flur.txt", photo, "application/octet-stream")},
                headers={"Authorization": f"Bearer {world.alice.token}", "Apollo-Require-Preflight": "true"},
                timeout=60,
            )
            created = response.json()["data"]["createTicket"]
            ticket_id = created["id"]
            assert created["attachments"][0]["size"] == len(photo)
            # B: another process signs and serves it, streamed from S3.
            [listed] = post(b.url, world.alice.token, ATTACHMENTS, {"id": ticket_id})["node"]["attachments"]
            # downloadUrl is absolute (SITEDESK_PUBLIC_URL): the same path and signature, asked of B.
            signed = urlsplit(listed["downloadUrl"])
            downloaded = httpx.get(f"{b.url}{signed.path}?{signed.query}", timeout=30)
            assert downloaded.status_code == 200
            assert hashlib.sha256(downloaded.content).digest() == hashlib.sha256(photo).digest()
            # C: an employee assigns the ticket: one mail to the assignee, whichever process sends it.
            post(
                c.url,
                world.admin.token,
                ASSIGN,
                {"id": ticket_id, "assigneeId": to_global_id("Employee", world.staff.pk)},
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not smtp.inbox.to(world.staff.email):
                time.sleep(0.2)
            time.sleep(5)  # two more polling rounds of every sender: nobody sends it again
            mails = smtp.inbox.to(world.staff.email)
            assert len(mails) == 1
            rows = await OutboxMail.all()
            assert rows and all(row.status is DeliveryStatus.SENT for row in rows)
            assert len(smtp.inbox.messages) == len(rows)
            # Each process counts its own requests.
            for server in (a, b, c):
                scraped = httpx.get(server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
                assert "sitedesk_requests_total{" in scraped
            ready = httpx.get(b.url + "/ready").json()
            assert ready == {"status": "ready", "database": "ok", "migrations": "ok", "outbox": "ok", "files": "ok"}
            logs = [server.output() for server in (a, b, c)]
    finally:
        smtp.stop()
    signature = listed["downloadUrl"].split("signature=")[1]
    lines = [line for log in logs for line in log.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert not [line for line in lines if signature in line]
    assert not [line for line in lines if world.alice.token in line or world.admin.token in line]
    operations = {(e.get("operation"), e.get("outcome")) for e in entries if e["logger"] == "sitedesk.request"}
    assert {("CreateWithPhoto", "OK"), ("Attachments", "OK"), ("Assign", "OK")} <= operations
    downloads = [e for e in entries if e["logger"] == "uvicorn.access" and e.get("path", "").startswith("/files/")]
    assert downloads and all(re.search(r"signature=\[redacted\]", e["path"]) for e in downloads)


def worker_pids(output: str) -> set[str]:
    return set(re.findall(r"Started server process \[(\d+)\]", output))


async def test_workers_share_one_socket_and_their_metrics_add_up(world, settings, tmp_path):
    env = server_env(settings, SITEDESK_METRICS_TOKEN=METRICS_TOKEN, SITEDESK_MAIL_SENDER="false")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with running_servers(env, 1, tmp_path, args=("--workers", "2")) as [server]:
        # The socket answers once the first worker is up; wait (bounded) for the second to start too.
        deadline = time.monotonic() + 60
        while len(worker_pids(server.output())) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for _ in range(20):
                response = http.post(
                    "/graphql",
                    json={"query": "query Me { me { ... on Employee { name } } }"},
                    headers={"Authorization": f"Bearer {world.admin.token}"},
                )
                assert response.status_code == 200, response.text
            scraped = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        output = server.output()
    assert re.search(r'^sitedesk_requests_total\{operation="Me",outcome="OK"\} 20\.0$', scraped, re.M), scraped
    assert len(worker_pids(output)) == 2, output
