"""A reply to a notification mail becomes a comment by its recipient (real SMTP both ways)."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from models.inbound_mail import InboundMail
from models.tickets import Attachment, CommentSource
from resolvers.inbound_mail import receive_message
from tests.inbound_mail.conftest import DOMAIN, Channel, Thread, comments_of, counted, reply

COMMENTS = """query($id: ID!) { node(id: $id) { ... on Ticket {
  comments(first: 20) { edges { node { body source internal author { name } } } } } } }"""


def _png() -> bytes:
    # A real image: stored photos are decoded and cleaned of their metadata (files/images.py).
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


async def test_a_notification_carries_a_signed_reply_address_and_threads(channel: Channel, thread: Thread) -> None:
    mail = thread.to_alice.message
    assert str(mail["Reply-To"]).startswith("reply+") and str(mail["Reply-To"]).endswith("@" + DOMAIN)
    assert str(mail["Message-ID"]).startswith("<") and mail["In-Reply-To"] and mail["References"]
    assert thread.to_alice.rcpt_tos and "Ihre Antwort darauf wird als Kommentar" in thread.to_alice.text
    # Alice's and Jonas's tokens differ: each names its own recipient.
    assert mail["Reply-To"] != thread.to_staff.message["Reply-To"]


async def test_a_customer_reply_becomes_a_public_comment_without_the_quote(channel: Channel, thread: Thread, gql):
    world = channel.world
    before = counted("accepted")
    answer = await channel.send(reply(thread.to_alice, "Der Flur ist jetzt sauber, danke.", sender=world.alice.email))
    assert answer.startswith("250")
    comments = await comments_of(thread.ticket.id)
    newest = comments[-1]
    assert newest.body == "Der Flur ist jetzt sauber, danke."
    assert newest.source is CommentSource.EMAIL and not newest.internal
    assert newest.author_id == world.alice.account.id
    assert counted("accepted") == before + 1
    data = await gql.as_viewer(world.staff.token).ok(COMMENTS, {"id": thread.global_id})
    bodies = [e["node"] for e in data["node"]["comments"]["edges"]]
    assert bodies[-1] == {
        "body": "Der Flur ist jetzt sauber, danke.",
        "source": "EMAIL",
        "internal": False,
        "author": {"name": "Alice"},
    }
    assert bodies[0]["source"] == "APP"
    # Jonas (the assignee) hears of it as of any customer comment.
    sent = await channel.notifications()
    assert any(world.staff.email in m.rcpt_tos and "Der Flur ist jetzt sauber" in m.text for m in sent)


async def test_the_from_address_is_compared_ignoring_case(channel: Channel, thread: Thread) -> None:
    sender = channel.world.alice.email.upper()
    assert (await channel.send(reply(thread.to_alice, "Gross geschrieben.", sender=sender))).startswith("250")
    assert (await comments_of(thread.ticket.id))[-1].body == "Gross geschrieben."


async def test_an_employee_reply_is_public_unless_marked_intern(channel: Channel, thread: Thread) -> None:
    staff = channel.world.staff.email
    await channel.send(reply(thread.to_staff, "Wir schicken jemanden.", sender=staff))
    await channel.send(reply(thread.to_staff, "#intern\nKunde ist schwierig.", sender=staff))
    await channel.send(reply(thread.to_staff, "#internal\nSecond note.", sender=staff))
    comments = (await comments_of(thread.ticket.id))[-3:]
    assert [(c.body, c.internal) for c in comments] == [
        ("Wir schicken jemanden.", False),
        ("Kunde ist schwierig.", True),
        ("Second note.", True),
    ]


async def test_a_customer_user_cannot_make_a_reply_internal(channel: Channel, thread: Thread) -> None:
    await channel.send(reply(thread.to_alice, "#intern\nGeheim?", sender=channel.world.alice.email))
    newest = (await comments_of(thread.ticket.id))[-1]
    assert newest.body == "Geheim?" and newest.internal is False


async def test_a_reply_to_a_mail_about_something_internal_stays_internal(channel: Channel, thread: Thread) -> None:
    from mail.inbound.tokens import ReplyToken, reply_address

    world = channel.world
    # The token a mail about something internal (e.g. a service-level warning) carries.
    address = reply_address(channel.settings, DOMAIN, ReplyToken(thread.ticket.id, world.staff.account.id, True))
    await channel.send(reply(thread.to_staff, "Frist wird knapp.", sender=world.staff.email, to=address))
    newest = (await comments_of(thread.ticket.id))[-1]
    assert newest.body == "Frist wird knapp." and newest.internal is True


async def test_the_same_message_twice_is_stored_once(channel: Channel, thread: Thread) -> None:
    message = reply(thread.to_alice, "Nur einmal bitte.", sender=channel.world.alice.email)
    before = counted("duplicate")
    assert (await channel.send(message)).startswith("250")
    assert (await channel.send(message)).startswith("250")
    assert [c.body for c in await comments_of(thread.ticket.id)].count("Nur einmal bitte.") == 1
    assert counted("duplicate") == before + 1


async def test_the_same_message_at_once_is_stored_once(channel: Channel, thread: Thread) -> None:
    """Two deliveries racing (as from two processes): the Message-ID claim lets one store it."""
    raw = reply(thread.to_alice, "Gleichzeitig.", sender=channel.world.alice.email).as_bytes()
    rcpt = [str(thread.to_alice.message["Reply-To"])]
    results = await asyncio.gather(*(receive_message(channel.settings, raw, rcpt) for _ in range(4)))
    assert sorted(r.outcome.value for r in results).count("accepted") == 1
    assert [c.body for c in await comments_of(thread.ticket.id)].count("Gleichzeitig.") == 1
    assert await InboundMail.filter(outcome="accepted").count() == 1


async def test_attachments_become_the_tickets_attachments(channel: Channel, thread: Thread) -> None:
    message = reply(
        thread.to_alice,
        "Foto anbei.",
        sender=channel.world.alice.email,
        attachments=[("flur.png", "application/octet-stream", PNG), ("notiz.txt", "text/plain", b"Keller auch")],
    )
    assert (await channel.send(message)).startswith("250")
    files = await Attachment.filter(ticket_id=thread.ticket.id).order_by("id")
    assert [(f.filename, f.content_type, f.uploaded_by_id) for f in files] == [
        ("flur.png", "image/png", channel.world.alice.account.id),
        ("notiz.txt", "text/plain", channel.world.alice.account.id),
    ]
    assert (await comments_of(thread.ticket.id))[-1].body == "Foto anbei."


async def test_an_html_only_reply_is_turned_into_text(channel: Channel, thread: Thread) -> None:
    html = (
        '<html><body><div dir="ltr">Bitte auch <b>das Treppenhaus</b>.<br>Danke</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">Am Mo. schrieb Sitedesk:</div>'
        "<blockquote>Hallo Alice, alter Text</blockquote></div></body></html>"
    )
    message = reply(thread.to_alice, "", sender=channel.world.alice.email, html=html, quote=False)
    assert (await channel.send(message)).startswith("250")
    assert (await comments_of(thread.ticket.id))[-1].body == "Bitte auch das Treppenhaus.\nDanke"


async def test_a_reply_without_token_counts_when_its_references_name_our_mail(channel: Channel, thread: Thread) -> None:
    message = reply(
        thread.to_alice, "Ohne Token, aber mit References.", sender=channel.world.alice.email, to=f"service@{DOMAIN}"
    )
    assert (await channel.send(message)).startswith("250")
    newest = (await comments_of(thread.ticket.id))[-1]
    assert newest.body == "Ohne Token, aber mit References." and newest.author_id == channel.world.alice.account.id


async def test_a_message_with_bare_newlines_is_read_too(channel: Channel, thread: Thread) -> None:
    """smtplib sends bytes as they are: `as_bytes()` has LF line ends, not CRLF."""
    raw = reply(thread.to_alice, "Mit LF.", sender=channel.world.alice.email).as_bytes()
    assert b"\r\n" not in raw
    answer = await channel.send(raw, to=[str(thread.to_alice.message["Reply-To"])])
    assert answer.startswith("250"), answer
    assert (await comments_of(thread.ticket.id))[-1].body == "Mit LF."
