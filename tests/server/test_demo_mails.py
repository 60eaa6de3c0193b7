"""The demo's mails: its history queues them as the API does, and none of them ever goes out."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from core.ids import to_global_id
from mail.sender import deliver_due, utcnow
from models.accounts import Account
from models.notifications import DeliveryStatus, NotificationKind, OutboxMail
from models.tickets import Ticket, TicketSource, TicketStatus
from server.demo import DEMO_MAIL_NOTE, EMPLOYEES, seed_demo
from tests.conftest import LOGIN

LIST = """query($id: ID!) { notifications(ticketId: $id) { edges { node {
  kind status attempts note sentAt nextAttemptAt } } } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""


class Recording:
    """A transport that keeps every message it is given."""

    note = None

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def open(self) -> None:
        return None

    async def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        self.sent.append(message)

    async def close(self) -> None:
        return None


async def test_the_demo_history_queues_its_mails_and_none_of_them_goes_out(settings, gql):
    logins = await seed_demo(settings)
    rows = await OutboxMail.all()
    assert {r.kind for r in rows} >= {
        NotificationKind.ASSIGNED,
        NotificationKind.STATUS_CHANGED,
        NotificationKind.COMMENT_ADDED,
    }
    assert {(r.status, r.note, r.attempts, r.sent_at) for r in rows} == {
        (DeliveryStatus.FAILED, DEMO_MAIL_NOTE, 0, None)
    }
    transport = Recording()
    assert (await deliver_due(settings, now=utcnow() + timedelta(days=1), transport=transport)).claimed == 0

    # Employees see them, and why they were not sent.
    email, password, _ = next(login for login in logins if login[0] == EMPLOYEES[0][0])
    login = await gql.ok(LOGIN, {"email": email, "password": password})
    petra = gql.as_viewer(login["login"]["accessToken"])
    ticket = await Ticket.filter(source=TicketSource.PORTAL, status=TicketStatus.DONE).order_by("number").first()
    ticket_id = str(to_global_id("Ticket", ticket.id))
    nodes = [e["node"] for e in (await petra.ok(LIST, {"id": ticket_id}))["notifications"]["edges"]]
    assert "STATUS_CHANGED" in {n["kind"] for n in nodes}
    assert all(
        (n["status"], n["attempts"], n["note"], n["sentAt"], n["nextAttemptAt"])
        == ("FAILED", 0, DEMO_MAIL_NOTE, None, None)
        for n in nodes
    )

    # What happens after the seeding is mailed as usual.
    await petra.ok(
        COMMENT,
        {"input": {"ticketId": ticket_id, "body": "Wir schauen noch einmal nach."}},
    )
    delivery = await deliver_due(settings, transport=transport)
    assert (delivery.claimed, delivery.sent) == (1, 1)
    creator = await Account.get(id=ticket.created_by_id)
    assert creator.email in transport.sent[0]["To"]
