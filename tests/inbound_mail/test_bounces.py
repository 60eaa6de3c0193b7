"""A delivery status notification marks the address as bouncing; no mail until it is cleared."""

from __future__ import annotations

from email.utils import make_msgid

from core.ids import to_global_id
from models.notifications import OutboxMail
from tests.inbound_mail.conftest import COMMENT, Channel, Thread, counted

BOUNCING = """query($id: ID!) { node(id: $id) { ... on CustomerUser { mailBouncing } } }"""
CLEAR = """mutation($id: ID!) { clearMailBouncing(personId: $id) { ... on CustomerUser { mailBouncing } } }"""


def dsn(failed: str, original_id: str, action: str = "failed") -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes it, CRLF line ends."""
    text = f"""From: MAILER-DAEMON@mx.kunde.test (Mail Delivery System)
To: desk@sitedesk.test
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.kunde.test")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.kunde.test

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: {action}
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B1
Content-Type: text/rfc822-headers

Message-ID: {original_id}
Subject: [#1] Flur nicht gewischt

--B1--
"""
    return text.replace("\n", "\r\n").encode()


async def test_a_bounce_marks_the_address_and_stops_mail_until_cleared(channel: Channel, thread: Thread, gql) -> None:
    world = channel.world
    notification = thread.to_alice
    envelope_sender = notification.envelope_from
    assert envelope_sender.startswith("bounces+")
    before = counted("bounce")
    answer = await channel.send(
        dsn(world.alice.email, str(notification.message["Message-ID"])), to=[envelope_sender], envelope_from=""
    )
    assert answer.startswith("250")
    assert counted("bounce") == before + 1
    user_id = str(to_global_id("CustomerUser", world.alice.pk))
    staff = gql.as_viewer(world.staff.token)
    assert (await staff.ok(BOUNCING, {"id": user_id}))["node"] == {"mailBouncing": True}
    # Customer users do not see it, not even their own.
    assert (await gql.as_viewer(world.alice.token)(BOUNCING, {"id": user_id}))["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN"
    )
    # Jonas comments: Alice would hear of it, but her address bounces.
    mails_before = await OutboxMail.filter(to_address=world.alice.email).count()
    await staff.ok(COMMENT, {"input": {"ticketId": thread.global_id, "body": "Noch eine Frage."}})
    assert await OutboxMail.filter(to_address=world.alice.email).count() == mails_before
    # Only system administrators clear it; then mail flows again.
    assert await staff.error_code(CLEAR, {"id": user_id}) == "FORBIDDEN"
    cleared = await gql.as_viewer(world.admin.token).ok(CLEAR, {"id": user_id})
    assert cleared["clearMailBouncing"] == {"mailBouncing": False}
    await staff.ok(COMMENT, {"input": {"ticketId": thread.global_id, "body": "Und noch eine."}})
    sent = await channel.notifications()
    assert any(world.alice.email in m.rcpt_tos and "Und noch eine." in m.text for m in sent)


async def test_a_forged_report_naming_no_mail_of_ours_marks_nothing(channel: Channel, thread: Thread, gql) -> None:
    world = channel.world
    await channel.send(
        dsn(world.alice.email, "<nothing@elsewhere.test>"), to=["info@" + channel.settings.inbound_domain]
    )
    user_id = str(to_global_id("CustomerUser", world.alice.pk))
    assert (await gql.as_viewer(world.staff.token).ok(BOUNCING, {"id": user_id}))["node"] == {"mailBouncing": False}


async def test_a_delayed_delivery_marks_nothing(channel: Channel, thread: Thread, gql) -> None:
    world = channel.world
    notification = thread.to_alice
    report = dsn(world.alice.email, str(notification.message["Message-ID"]), action="delayed")
    await channel.send(report, to=[notification.envelope_from], envelope_from="")
    user_id = str(to_global_id("CustomerUser", world.alice.pk))
    assert (await gql.as_viewer(world.staff.token).ok(BOUNCING, {"id": user_id}))["node"] == {"mailBouncing": False}


async def test_a_changed_address_is_mailed_again(channel: Channel, thread: Thread, gql) -> None:
    from models.accounts import Account

    world = channel.world
    notification = thread.to_alice
    await channel.send(dsn(world.alice.email, str(notification.message["Message-ID"])), to=[notification.envelope_from])
    user_id = str(to_global_id("CustomerUser", world.alice.pk))
    staff = gql.as_viewer(world.staff.token)
    assert (await staff.ok(BOUNCING, {"id": user_id}))["node"] == {"mailBouncing": True}
    # The address changes (no API changes addresses yet; an operator's update does): the mark no longer applies.
    await Account.filter(id=world.alice.account.id).update(email="alice.neu@kunde.test")
    assert (await staff.ok(BOUNCING, {"id": user_id}))["node"] == {"mailBouncing": False}
    await staff.ok(COMMENT, {"input": {"ticketId": thread.global_id, "body": "An die neue Adresse."}})
    sent = await channel.notifications()
    assert any("alice.neu@kunde.test" in m.rcpt_tos and "An die neue Adresse." in m.text for m in sent)
