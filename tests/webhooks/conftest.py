"""A real HTTP receiver on 127.0.0.1 (taken down and brought back on the same port), an app whose
settings let webhooks point at it (http, private addresses), and the mutations the tests use."""

from __future__ import annotations

import dataclasses
import json
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from core.settings import Settings
from server.app import create_app
from server.webhooks import payload_builder
from tests.forms.conftest import company  # noqa: F401  (the forms tests' fixture, for form events)
from tests.notifications.conftest import free_port
from webhooks.sender import Round, deliver_due

CREATE_WEBHOOK = """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  secret webhook { id url events description enabled createdAt account { __typename id name } } } }"""
UPDATE_WEBHOOK = """mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) {
  id url events enabled disabledReason } }"""
DELETE_WEBHOOK = """mutation($id: ID!) { deleteWebhook(id: $id) }"""
WEBHOOKS = """{ webhooks(first: 20) { totalCount edges { node { id url events enabled disabledReason } } } }"""
DELIVERIES = """query($id: ID!) { webhookDeliveries(webhookId: $id, first: 50) { totalCount edges { node {
  id event status httpStatus attempts durationMs lastError createdAt deliveredAt nextAttemptAt messageId } } } }"""
REDELIVER = """mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status messageId attempts } }"""
CREATE_TICKET = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
EDIT_COMMENT = """mutation($input: EditCommentInput!) { editComment(input: $input) { id } }"""
STATUS = """mutation($id: ID!, $status: TicketStatus!) { setTicketStatus(id: $id, status: $status) { status } }"""


@dataclass
class Request:
    """One POST as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A threaded HTTP server recording every request; `answers[path]` sets the status it replies."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = free_port()
        self.requests: list[Request] = []
        self.answers: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.get(self.path, 200)
                payload = b"received" if status < 300 else b"nope " * 2000  # longer than the sender reads
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """Webhooks may go to the receiver: plain http and 127.0.0.1 allowed (tests and on-premise only)."""
    return dataclasses.replace(settings, webhook_allow_http=True, webhook_allow_private=True)


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    """Production rules for addresses, but plain http allowed, so the address check is what refuses."""
    return dataclasses.replace(settings, webhook_allow_http=True, webhook_allow_private=False)


@pytest.fixture
async def client(hook_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The shared `world` talks to an app with `hook_settings`."""
    app = create_app(hook_settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield http


async def run_round(settings: Settings, **kwargs: Any) -> Round:
    """One round of the sender, with the payloads built as the server builds them."""
    return await deliver_due(settings, payload_builder(settings), **kwargs)


async def make_webhook(world: Any, url: str, events: list[str], account_id: str, description: str = "") -> dict:
    data = await world.as_(world.admin).ok(
        CREATE_WEBHOOK,
        {"input": {"url": url, "events": events, "accountId": account_id, "description": description}},
    )
    return data["createWebhook"]


async def deliveries(world: Any, webhook_id: str) -> list[dict]:
    data = await world.as_(world.admin).ok(DELIVERIES, {"id": webhook_id})
    return [edge["node"] for edge in data["webhookDeliveries"]["edges"]]
