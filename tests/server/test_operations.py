"""Operating Sitedesk: `/metrics`, `/ready`, trusted proxies, log lines, `serve --workers` on SQLite.

Requests go through the ASGI app; the peer address is set on the transport, as a proxy or a
client would connect.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from core.ids import to_global_id
from core.settings import ConfigurationError, Settings, settings_from_env
from models.accounts import LoginThrottle
from models.notifications import Audience, DeliveryStatus, NotificationKind, OutboxMail
from server.app import create_app
from server.logs import JsonFormatter, TextFormatter, scrub
from server.observe import OTHER, OperationNames, operation_name
from tests.conftest import LOGIN, GraphQLClient
from tests.factories import make_attachment, make_ticket

ROOT = Path(__file__).parents[2]
METRICS_TOKEN = "metrics-" + "0123456789abcdef" * 2
ME = "query Me { me { ... on Employee { name } } }"

Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def app_client(settings: Settings) -> Client:
    """`app_client(peer=..., **settings changes)`: an HTTP client of an app with those settings."""

    def make(peer: str = "127.0.0.1", **changes: object) -> httpx.AsyncClient:
        app = create_app(dataclasses.replace(settings, **changes), manage_database=False)
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test")

    return make


@pytest.fixture
async def metered(app_client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(metrics_token=METRICS_TOKEN) as http:
        yield http


async def scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + ("{" + wanted + "}" if labels else "")) + r" ([0-9.e+-]+)$"
    for line in text.splitlines():
        if found := re.match(pattern, line):
            return float(found.group(1))
    return 0.0


# ---------------------------------------------------------------- /metrics


async def test_metrics_are_off_without_a_token(client):
    response = await client.get("/metrics")
    assert response.status_code == 404
    assert "sitedesk_" not in response.text


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x", "Bearer "]
)
async def test_metrics_need_the_token_as_bearer(metered, header):
    response = await metered.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert "sitedesk_requests_total" not in response.text


async def test_a_query_over_get_is_counted_and_the_graphiql_page_is_not(metered, world):
    before = await scrape(metered)
    answer = await metered.get(
        "/graphql", params={"query": ME}, headers={"Authorization": f"Bearer {world.admin.token}"}
    )
    assert answer.status_code == 200, answer.text
    await metered.get("/graphql", headers={"Accept": "text/html"})
    after = await scrape(metered)
    assert (
        sample(after, "sitedesk_requests_total", operation="Me", outcome="OK")
        - sample(before, "sitedesk_requests_total", operation="Me", outcome="OK")
        == 1
    )
    assert sample(after, "sitedesk_requests_total", operation=OTHER, outcome="OK") == sample(
        before, "sitedesk_requests_total", operation=OTHER, outcome="OK"
    )


async def test_metrics_count_requests_by_operation_and_outcome(metered, world):
    before = await scrape(metered)
    gql = GraphQLClient(metered, world.admin.token)
    await gql.ok(ME)
    await gql.ok(ME)
    anonymous = GraphQLClient(metered)
    assert await anonymous.error_code("query Me { me { ... on Employee { name } } nope }") == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    refused = await metered.post("/graphql", json={"query": ME}, headers={"Authorization": "Bearer nonsense"})
    assert refused.status_code == 401
    after = await scrape(metered)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("sitedesk_requests_total", operation="Me", outcome="OK") == 2
    # A document that did not validate never names a label; nor does a refused token.
    assert grew("sitedesk_requests_total", operation=OTHER, outcome="GRAPHQL_VALIDATION_FAILED") == 1
    assert grew("sitedesk_requests_total", operation=OTHER, outcome="UNAUTHENTICATED") == 1
    assert grew("sitedesk_request_duration_seconds_count", operation="Me") == 2
    assert grew("sitedesk_sql_statements_per_request_count", operation="Me") == 2
    # Loading the viewer takes SQL: the statements were counted.
    assert grew("sitedesk_sql_statements_per_request_sum", operation="Me") >= 2
    assert grew("sitedesk_sql_seconds_per_request_sum", operation="Me") > 0
    for family in (
        "sitedesk_outbox_backlog",
        "sitedesk_outbox_oldest_age_seconds",
        "sitedesk_delivery_failures_total",
        "sitedesk_active_subscriptions",
        "sitedesk_login_refusals_total",
    ):
        assert f"# TYPE {family.removesuffix('_total')}" in after, family
    assert sample(after, "sitedesk_outbox_backlog", channel="mail") == 0
    assert sample(after, "sitedesk_outbox_backlog", channel="webhooks") == 0


async def test_metrics_show_the_mail_backlog_and_its_age(metered, world):
    created = datetime.now(UTC) - timedelta(minutes=10)
    await OutboxMail.create(
        audience=Audience.EMPLOYEE,
        kind=NotificationKind.TICKET_CREATED,
        to_address="jonas@sitedesk.test",
        to_name="Jonas",
        locale="de",
        subject="Neues Ticket",
        context={},
        mail_key=str(uuid.uuid4()),
        next_attempt_at=created,
        created_at=created,
    )
    text = await scrape(metered)
    assert sample(text, "sitedesk_outbox_backlog", channel="mail") == 1
    assert 590 < sample(text, "sitedesk_outbox_oldest_age_seconds", channel="mail") < 1200
    assert sample(text, "sitedesk_outbox_backlog", channel="webhooks") == 0


async def test_failed_mail_deliveries_are_counted(metered, settings, tmp_path):
    from mail.sender import deliver_due

    before = await scrape(metered)
    await OutboxMail.create(
        audience=Audience.EMPLOYEE,
        kind=NotificationKind.TICKET_CREATED,
        to_address="jonas@sitedesk.test",
        to_name="Jonas",
        locale="de",
        subject="Neues Ticket",
        context={"ticketNumber": 1, "ticketTitle": "x", "ticketId": 1, "objectName": "y", "actorName": "z"},
        mail_key=str(uuid.uuid4()),
        next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
        created_at=datetime.now(UTC),
    )
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the SMTP connection is refused
    await deliver_due(dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}"))
    after = await scrape(metered)
    labels = {"channel": "mail", "final": "false"}
    assert (
        sample(after, "sitedesk_delivery_failures_total", **labels)
        - sample(before, "sitedesk_delivery_failures_total", **labels)
        == 1
    )


async def test_login_refusals_are_counted_by_reason(metered, world):
    before = await scrape(metered)
    anonymous = GraphQLClient(metered)
    for _ in range(2):
        code = await anonymous.error_code(LOGIN, {"email": world.alice.email, "password": "not her password"})
        assert code == "UNAUTHENTICATED"
    after = await scrape(metered)
    grown = sample(after, "sitedesk_login_refusals_total", reason="credentials") - sample(
        before, "sitedesk_login_refusals_total", reason="credentials"
    )
    assert grown == 2


async def test_operation_labels_are_bounded(metered, world):
    gql = GraphQLClient(metered, world.admin.token)
    before = await scrape(metered)
    # A name the document does not define, a name that is no GraphQL name, and no name at all.
    body = await metered.post(
        "/graphql",
        json={"query": ME, "operationName": "Unknown" + uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {world.admin.token}"},
    )
    assert body.json()["errors"]
    await gql.ok("{ me { ... on Employee { name } } }")
    after = await scrape(metered)
    assert "Unknown" not in after
    assert (
        sample(after, "sitedesk_requests_total", operation=OTHER, outcome="OK")
        - sample(before, "sitedesk_requests_total", operation=OTHER, outcome="OK")
        == 1
    )


def test_operation_names_stop_at_the_cap():
    names = OperationNames(limit=3)
    assert [names.label(f"Op{i}") for i in range(5)] == ["Op0", "Op1", "Op2", OTHER, OTHER]
    assert names.label("Op1") == "Op1"  # a known one stays
    assert names.label("no spaces allowed") == OTHER and names.label("x" * 65) == OTHER and names.label(None) == OTHER


def test_operation_name_comes_from_the_request_or_the_one_named_definition():
    assert operation_name("Given", "query Other { me }") == "Given"
    assert operation_name(None, "query Tickets($first: Int) { tickets(first: $first) { totalCount } }") == "Tickets"
    assert operation_name(None, "{ me }") is None
    assert operation_name(None, "query A { me } query B { me }") is None


# ---------------------------------------------------------------- /ready


async def test_ready_names_its_parts(client):
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "ok", "outbox": "ok", "files": "ok"}


async def test_not_ready_when_the_files_backend_does_not_answer(app_client, s3_endpoint, tmp_path):
    async with app_client(
        files_url=f"s3://missing-{uuid.uuid4().hex[:8]}", s3_endpoint_url=s3_endpoint, files_dir=tmp_path
    ) as http:
        response = await http.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == "ok"
    assert body["files"].startswith("unavailable")
    assert "missing-" not in json.dumps(body)  # no bucket names or internals


async def test_not_ready_when_mail_is_overdue(client):
    overdue = datetime.now(UTC) - timedelta(hours=1)
    await OutboxMail.create(
        audience=Audience.EMPLOYEE,
        kind=NotificationKind.TICKET_CREATED,
        to_address="a@sitedesk.test",
        to_name="A",
        locale="de",
        subject="x",
        context={},
        mail_key=str(uuid.uuid4()),
        status=DeliveryStatus.PENDING,
        next_attempt_at=overdue,
        created_at=overdue,
    )
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["outbox"].startswith("1 mails overdue")
    assert (await client.get("/health")).status_code == 200  # alive all the same


# ---------------------------------------------------------------- trusted proxies


async def throttle_addresses() -> set[str]:
    keys = await LoginThrottle.all().values_list("key", flat=True)
    return {k.removeprefix("address:") for k in keys if k.startswith("address:")}


async def failed_login(http: httpx.AsyncClient, email: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await http.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": "wrong"}}, headers=headers
    )


async def test_a_trusted_proxy_names_the_client_the_throttle_counts(app_client, world):
    async with app_client(peer="10.1.2.3", trusted_proxies=("10.0.0.0/8",)) as http:
        await failed_login(http, "a@example.test", "203.0.113.7")
        # A client may send its own X-Forwarded-For: the proxy appends; the right-most untrusted counts.
        await failed_login(http, "b@example.test", "198.51.100.1, 203.0.113.8")
        scheme = await http.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert scheme.status_code == 200
    assert await throttle_addresses() == {"203.0.113.7", "203.0.113.8"}


async def test_forwarded_headers_of_untrusted_peers_are_ignored(app_client, world):
    async with app_client(peer="192.0.2.50", trusted_proxies=("10.0.0.0/8",)) as http:
        await failed_login(http, "a@example.test", "203.0.113.7")
    async with app_client(peer="192.0.2.51") as http:  # no proxy trusted at all
        await failed_login(http, "b@example.test", "203.0.113.9")
    assert await throttle_addresses() == {"192.0.2.50", "192.0.2.51"}


async def test_a_client_rotating_forged_addresses_is_still_throttled(app_client, world):
    async with app_client(peer="192.0.2.60", login_max_failures_per_address=3) as http:
        codes = []
        for i in range(5):
            body = (await failed_login(http, f"user{i}@example.test", f"203.0.113.{i}")).json()
            codes.append(body["errors"][0]["extensions"]["code"])
    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"] * 2


async def test_behind_a_trusted_proxy_each_client_has_its_own_quota(app_client, world):
    async with app_client(peer="10.0.0.2", trusted_proxies=("10.0.0.2",), login_max_failures_per_address=2) as http:
        codes = []
        for i in range(4):
            body = (await failed_login(http, f"user{i}@example.test", f"203.0.113.{i}")).json()
            codes.append(body["errors"][0]["extensions"]["code"])
    assert codes == ["UNAUTHENTICATED"] * 4


@pytest.mark.parametrize("value", ["proxy.internal", "10.0.0.0/33", "10.0.0.1;10.0.0.2"])
def test_trusted_proxies_must_be_addresses_or_networks(value):
    with pytest.raises(ConfigurationError):
        settings_from_env({"SITEDESK_TRUSTED_PROXIES": value})
    assert settings_from_env({"SITEDESK_TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12,::1"}).trusted_proxies == (
        "10.0.0.1",
        "172.16.0.0/12",
        "::1",
    )


# ---------------------------------------------------------------- logs


def record(message: str, *args: object, name: str = "sitedesk", **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_signatures_are_scrubbed_in_both_formats():
    path = "/files/attachment/7?expires=1900000000&signature=c2VjcmV0LXNpZ25hdHVyZQ"
    access = record('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", path, "1.1", 200, name="uvicorn.access")
    for formatter in (TextFormatter(), JsonFormatter()):
        line = formatter.format(access)
        assert "c2VjcmV0" not in line and "signature=[redacted]" in line and "expires=1900000000" in line
    presigned = "https://s3.example/b/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abcdef0123&X-Amz-Expires=60"
    assert scrub(presigned) == (
        "https://s3.example/b/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Expires=60"
    )


def test_the_access_log_is_scrubbed_under_any_logging_configuration(client, caplog):
    # The app installs a filter on uvicorn's access logger itself (e.g. for `uvicorn --factory`).
    path = "/files/attachment/7?expires=1900000000&signature=c2VjcmV0LXNpZ25hdHVyZQ"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", path, "1.1", 200)
    [line] = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert "c2VjcmV0" not in line and "signature=[redacted]" in line


def test_json_lines_carry_the_request_fields():
    fields = {"request_id": "abc", "operation": "Me", "outcome": "OK", "viewer_kind": "employee", "account_id": 4}
    line = JsonFormatter().format(record("graphql Me OK", sitedesk={**fields, "duration_ms": 3.2}))
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["message"] == "graphql Me OK"
    assert {k: entry[k] for k in fields} == fields and entry["duration_ms"] == 3.2
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None


async def test_a_request_logs_one_line_with_viewer_and_outcome_but_no_token(client, world, caplog):
    gql = GraphQLClient(client, world.alice.token)
    with caplog.at_level(logging.INFO, logger="sitedesk.request"):
        await gql.ok(ME)
    [line] = [r for r in caplog.records if r.name == "sitedesk.request"]
    fields = line.sitedesk  # type: ignore[attr-defined]
    assert fields["operation"] == "Me" and fields["outcome"] == "OK" and fields["status"] == 200
    assert fields["viewer_kind"] == "customer_user" and fields["account_id"] == world.alice.account.id
    assert fields["duration_ms"] > 0 and fields["sql_statements"] >= 1
    text = JsonFormatter().format(line) + TextFormatter().format(line)
    assert world.alice.token not in text and world.alice.email not in text


async def test_a_signed_download_logs_no_signature(client, world, settings, caplog):
    ticket = await make_ticket(world.a1, world.defect, "Foto", by=world.staff)
    row = await make_attachment(settings, ticket, world.alice, "foto.txt", f"Bild {uuid.uuid4()}".encode())
    gql = GraphQLClient(client, world.alice.token)
    query = "query($id: ID!) { node(id: $id) { ... on Attachment { downloadUrl } } }"
    with caplog.at_level(logging.DEBUG):
        url = (await gql.ok(query, {"id": to_global_id("Attachment", row.id)}))["node"]["downloadUrl"]
        assert (await client.get(url)).status_code == 200
    signature = url.split("signature=")[1]
    formatted = [TextFormatter().format(r) for r in caplog.records] + [
        JsonFormatter().format(r) for r in caplog.records
    ]
    assert not [line for line in formatted if signature in line]


# ---------------------------------------------------------------- serve --workers


def test_several_workers_are_refused_on_sqlite(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SITEDESK_")},
        "SITEDESK_DATABASE_URL": f"sqlite://{tmp_path / 'one.db'}",
        "SITEDESK_FILES_DIR": str(tmp_path / "files"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--workers", "2", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers needs PostgreSQL" in done.stderr and "SQLite" in done.stderr
