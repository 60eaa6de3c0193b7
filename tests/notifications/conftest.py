"""A real SMTP server (aiosmtpd, in-process, on a free port) and a portal ticket on the shared world
with the people who hear of it."""

from __future__ import annotations

import dataclasses
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.ids import to_global_id
from core.settings import Settings
from models.customers import SiteObject
from models.tickets import TicketType
from permissions.policy import Permission
from tests.conftest import GraphQLClient, World
from tests.factories import Person, make_customer_user, make_employee, make_site_object, make_ticket


@dataclass
class Received:
    """One mail as the SMTP server got it: envelope recipients and the parsed message."""

    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    envelope_from: str = ""  # MAIL FROM: where bounces go

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class Inbox:
    """The aiosmtpd handler: keeps every accepted message; refuses recipients named `bounce…`."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self._lock:
            self.messages.append(Received(list(envelope.rcpt_tos), message, envelope.content, envelope.mail_from))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An SMTP server that tests can take down and bring back on the same port."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.users = users
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.users is not None
            and self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        if ok:
            self.inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.users is not None:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    return smtp_server.inbox


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return dataclasses.replace(settings, smtp_url=smtp_server.url, mail_from="Sitedesk Service <desk@sitedesk.test>")


@dataclass
class Mailing:
    """Ticket #1, from the portal on customer A's "Rathaus Mitte", and who may hear of it.

    The mails name people and the object, so they have names of their own here; Jonas Weber,
    Petra Schulz and the ticket type are the shared world's.
    """

    gql: GraphQLClient
    alice: Person  # "Alice Kundin", customer user, created the portal ticket
    bob: Person  # customer user of the same customer, same object
    staff: Person  # world.staff, Jonas Weber: the assignee where a test assigns one
    petra: Person  # world.petra, another employee
    admin: Person  # "Anna Admin", system admin with every permission
    site: SiteObject
    defect: TicketType  # world.defect
    ticket_id: str  # the portal ticket's global ID

    def as_(self, person: Person) -> GraphQLClient:
        return self.gql.as_viewer(person.token)


CREATE = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
STATUS = """mutation($id: ID!, $status: TicketStatus!) { setTicketStatus(id: $id, status: $status) { status } }"""
ASSIGN = """mutation($id: ID!, $assigneeId: ID) { assignTicket(id: $id, assigneeId: $assigneeId) { id } }"""
SETTINGS = """mutation($input: UpdateNotificationSettingsInput!) {
  updateNotificationSettings(input: $input) { locale comments statusChanges assignments newTickets } }"""


@pytest.fixture
async def mailing(world: World, settings: Settings) -> Mailing:
    site = await make_site_object(world.a, "Rathaus Mitte", address="Markt 1")
    alice = await make_customer_user(settings, world.a, objects=[site], name="Alice Kundin", email="alice@kunde.test")
    bob = await make_customer_user(settings, world.a, objects=[site], name="Bob Kunde", email="bob@kunde.test")
    admin = await make_employee(
        settings, name="Anna Admin", email="anna.admin@firma.test", admin=True, permissions=Permission
    )
    ticket = await make_ticket(site, world.defect, "Flur im 2. OG nicht gewischt", description="Seit Montag.", by=alice)
    return Mailing(
        world.gql, alice, bob, world.staff, world.petra, admin, site, world.defect, to_global_id("Ticket", ticket.id)
    )
