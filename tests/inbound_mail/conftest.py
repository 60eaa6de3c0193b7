"""The email channel against real parts: notifications sent over SMTP to an in-process server
(aiosmtpd), replies sent with smtplib to Sitedesk's own receiver on a free port, the app's
GraphQL with the channel switched on."""

from __future__ import annotations

import asyncio
import dataclasses
import smtplib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid

import httpx
import pytest

from core.ids import to_global_id
from core.metrics import INBOUND_MAIL
from core.settings import Settings
from mail.sender import deliver_due
from models.tickets import Comment, Ticket
from server.app import create_app
from server.inbound_mail import start_receiver, stop_receiver
from tests.conftest import GraphQLClient, World
from tests.factories import Person, make_ticket
from tests.notifications.conftest import Received, SmtpServer, free_port

DOMAIN = "desk.sitedesk.test"
MAIL_FROM = "Sitedesk Service <desk@sitedesk.test>"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def channel_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return dataclasses.replace(
        settings,
        smtp_url=smtp_server.url,
        mail_from=MAIL_FROM,
        inbound_domain=DOMAIN,
        inbound_per_sender_per_hour=60,
    )


@pytest.fixture
async def client(channel_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(channel_settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield http


def counted(outcome: str) -> float:
    return INBOUND_MAIL.labels(outcome=outcome)._value.get()


@dataclass
class Channel:
    """Sitedesk's receiver on `port`, the SMTP server notifications go to, and helpers around them."""

    settings: Settings
    smtp: SmtpServer
    port: int
    world: World

    async def notifications(self) -> list[Received]:
        """Send what the outbox holds over SMTP; the messages the SMTP server got (all so far)."""
        await deliver_due(self.settings)
        return list(self.smtp.inbox.messages)

    async def send(self, message: EmailMessage | bytes, to: list[str] | None = None, envelope_from: str = "") -> str:
        """One real SMTP session with the receiver; the answer to DATA as "<code> <text>"."""
        # On the wire every line ends in CRLF (smtplib sends bytes as they are).
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=SMTP_POLICY)
        if to is None:
            assert isinstance(message, EmailMessage)
            to = [str(message["To"])]

        def session() -> str:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
                try:
                    client.sendmail(envelope_from, to, raw)
                except smtplib.SMTPResponseException as exc:
                    return f"{exc.smtp_code} {exc.smtp_error.decode()}"
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    return f"{code} {text.decode()}"
                return "250"

        return await asyncio.to_thread(session)


@pytest.fixture
async def channel(channel_settings: Settings, smtp_server: SmtpServer, world: World) -> AsyncIterator[Channel]:
    port = free_port()
    server = await start_receiver(channel_settings, f"127.0.0.1:{port}")
    try:
        yield Channel(channel_settings, smtp_server, port, world)
    finally:
        await stop_receiver(server)


def reply(
    notification: Received,
    body: str,
    *,
    sender: str,
    html: str | None = None,
    quote: bool = True,
    headers: dict[str, str] | None = None,
    to: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> EmailMessage:
    """A reply as a mail client writes it: to the Reply-To, threaded, the original quoted below."""
    original = notification.message
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to or str(original["Reply-To"])
    message["Subject"] = "Re: " + str(original["Subject"])
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="client.test")
    message["In-Reply-To"] = str(original["Message-ID"])
    message["References"] = f"{original['References']} {original['Message-ID']}"
    for name, value in (headers or {}).items():
        message[name] = value
    text = body
    if quote:
        quoted = "\n".join("> " + line for line in notification.text.splitlines())
        text += f"\n\nAm Mo., 7. Dez. 2026 um 10:15 Uhr schrieb Sitedesk Service <desk@sitedesk.test>:\n{quoted}\n"
    if html is None:
        message.set_content(text)
    else:
        message.set_content(html, subtype="html")
    for filename, kind, data in attachments:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


async def comments_of(ticket_id: int) -> list[Comment]:
    return await Comment.filter(ticket_id=ticket_id).order_by("id")


@dataclass
class Thread:
    """Alice's portal ticket on a1 ("Rathaus"), assigned to Jonas Weber, and one mail to each of them."""

    ticket: Ticket
    to_alice: Received  # the COMMENT_ADDED mail about Jonas's comment
    to_staff: Received  # the COMMENT_ADDED mail about Alice's comment

    @property
    def global_id(self) -> str:
        return str(to_global_id("Ticket", self.ticket.id))


COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""


@pytest.fixture
async def thread(channel: Channel, world: World, gql: GraphQLClient) -> Thread:
    ticket = await make_ticket(world.a1, world.defect, "Flur nicht gewischt", by=world.alice, assignee=world.staff)
    gid = str(to_global_id("Ticket", ticket.id))
    await gql.as_viewer(world.staff.token).ok(COMMENT, {"input": {"ticketId": gid, "body": "Wir kommen morgen."}})
    await gql.as_viewer(world.alice.token).ok(COMMENT, {"input": {"ticketId": gid, "body": "Danke!"}})
    sent = await channel.notifications()
    to_alice = [m for m in sent if world.alice.email in m.rcpt_tos]
    to_staff = [m for m in sent if world.staff.email in m.rcpt_tos]
    assert len(to_alice) == 1 and len(to_staff) == 1, [m.rcpt_tos for m in sent]
    channel.smtp.inbox.clear()
    return Thread(ticket, to_alice[0], to_staff[0])


def person_address(person: Person) -> str:
    return person.email
