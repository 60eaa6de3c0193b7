"""Every refusal: nothing stored, answered 250 (552 for size), logged and counted by outcome."""

from __future__ import annotations

import dataclasses

import pytest

from core.ids import to_global_id
from mail.inbound.tokens import ReplyToken, reply_address
from models.accounts import Account
from models.inbound_mail import InboundMail
from models.notifications import NotificationKind, OutboxMail
from models.tickets import Attachment
from server.inbound_mail import start_receiver, stop_receiver
from tests.inbound_mail.conftest import DOMAIN, MAIL_FROM, Channel, Thread, comments_of, counted, reply
from tests.notifications.conftest import free_port

SET_OBJECTS = """mutation($id: ID!, $objects: [ID!]!) {
  setCustomerUserObjects(customerUserId: $id, objectIds: $objects) { id } }"""


async def refused(channel: Channel, thread: Thread, message, outcome: str, code: str = "250") -> None:
    """Sent over SMTP: answered `code`, counted once as `outcome`, no comment and no file stored."""
    comments, files = len(await comments_of(thread.ticket.id)), await Attachment.all().count()
    before = counted(outcome)
    answer = await channel.send(message)
    assert answer.startswith(code), answer
    assert counted(outcome) == before + 1
    assert len(await comments_of(thread.ticket.id)) == comments
    assert await Attachment.all().count() == files


async def test_a_from_that_is_not_the_tokens_recipient_is_refused(channel: Channel, thread: Thread) -> None:
    # Bob (same customer) answers with Alice's reply address.
    await refused(
        channel, thread, reply(thread.to_alice, "Ich bin Bob.", sender=channel.world.bob.email), "refused_sender"
    )
    # Jonas (an employee who sees the ticket) cannot use Alice's token either.
    await refused(
        channel, thread, reply(thread.to_alice, "Als Alice?", sender=channel.world.staff.email), "refused_sender"
    )


async def test_a_changed_or_foreign_token_is_refused(channel: Channel, thread: Thread) -> None:
    address = str(thread.to_alice.message["Reply-To"])
    local, _, domain = address.partition("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    message = reply(thread.to_alice, "Geändert.", sender=channel.world.alice.email, to=f"{flipped}@{domain}")
    await refused(channel, thread, message, "refused_token")
    # The token of another ticket number with Alice's signature part: the signature no longer fits.
    ticket, account, rest = local[len("reply+") :].split("-", 2)
    forged = f"reply+{int(ticket) + 1}-{account}-{rest}@{domain}"
    await refused(
        channel,
        thread,
        reply(thread.to_alice, "Anderes Ticket.", sender=channel.world.alice.email, to=forged),
        "refused_token",
    )
    # Signed with a key Sitedesk does not hold (another installation).
    foreign_settings = dataclasses.replace(
        channel.settings, secret_keys=("another-installations-key-0123456789abcdef",)
    )
    foreign = reply_address(
        foreign_settings, DOMAIN, ReplyToken(thread.ticket.id, channel.world.alice.account.id, False)
    )
    await refused(
        channel, thread, reply(thread.to_alice, "Fremd.", sender=channel.world.alice.email, to=foreign), "refused_token"
    )
    # No token and References naming nothing of ours.
    plain = reply(thread.to_alice, "Ohne alles.", sender=channel.world.alice.email, to=f"info@{DOMAIN}")
    del plain["References"], plain["In-Reply-To"]
    await refused(channel, thread, plain, "refused_token")


async def test_a_person_no_longer_seeing_the_ticket_is_refused(channel: Channel, thread: Thread, gql) -> None:
    world = channel.world
    admin = gql.as_viewer(world.admin.token)
    await admin.ok(SET_OBJECTS, {"id": str(to_global_id("CustomerUser", world.alice.pk)), "objects": []})
    await refused(channel, thread, reply(thread.to_alice, "Noch da?", sender=world.alice.email), "refused_scope")


async def test_a_deactivated_person_is_refused(channel: Channel, thread: Thread) -> None:
    await Account.filter(id=channel.world.alice.account.id).update(is_active=False)
    await refused(
        channel, thread, reply(thread.to_alice, "Deaktiviert.", sender=channel.world.alice.email), "refused_scope"
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"Precedence": "junk"},
    ],
)
async def test_automatic_mail_is_refused(channel: Channel, thread: Thread, headers: dict[str, str]) -> None:
    message = reply(thread.to_alice, "Ich bin im Urlaub.", sender=channel.world.alice.email, headers=headers)
    await refused(channel, thread, message, "refused_auto")


async def test_auto_submitted_no_is_a_person_writing(channel: Channel, thread: Thread) -> None:
    message = reply(thread.to_alice, "Von Hand.", sender=channel.world.alice.email, headers={"Auto-Submitted": "no"})
    assert (await channel.send(message)).startswith("250")
    assert (await comments_of(thread.ticket.id))[-1].body == "Von Hand."


async def test_our_own_mail_coming_back_is_refused(channel: Channel, thread: Thread) -> None:
    await refused(channel, thread, reply(thread.to_alice, "Schleife.", sender=MAIL_FROM), "refused_loop")
    # A forwarder that sends our notification back unchanged carries our loop header.
    await refused(channel, thread, _forwarded(thread), "refused_loop")


def _forwarded(thread: Thread):
    message = thread.to_alice.message
    copy = reply(thread.to_alice, "weitergeleitet", sender="someone@elsewhere.test")
    copy["X-Sitedesk-Loop"] = str(message["X-Sitedesk-Loop"])
    return copy


async def test_more_than_the_hourly_limit_per_sender_is_refused(channel: Channel, thread: Thread) -> None:
    limited = dataclasses.replace(channel.settings, inbound_per_sender_per_hour=2)
    port = free_port()
    server = await start_receiver(limited, f"127.0.0.1:{port}")
    try:
        other = dataclasses.replace(channel, port=port, settings=limited)
        alice = channel.world.alice.email
        for text in ("Eins.", "Zwei."):
            assert (await other.send(reply(thread.to_alice, text, sender=alice))).startswith("250")
        await refused(other, thread, reply(thread.to_alice, "Drei.", sender=alice), "refused_rate")
        # Every message counts, refused ones too: a fourth is refused as well.
        await refused(other, thread, reply(thread.to_alice, "Vier.", sender=alice.upper()), "refused_rate")
    finally:
        await stop_receiver(server)


async def test_a_message_over_the_size_limit_stores_nothing_and_is_explained_once(
    channel: Channel, thread: Thread
) -> None:
    small = dataclasses.replace(channel.settings, max_upload_mb=1)
    port = free_port()
    server = await start_receiver(small, f"127.0.0.1:{port}")
    try:
        other = dataclasses.replace(channel, port=port, settings=small)
        big = reply(
            thread.to_alice,
            "Großes Foto.",
            sender=channel.world.alice.email,
            attachments=[("gross.bin", "application/octet-stream", b"\x01" * (1024 * 1024 + 10))],
        )
        await refused(other, thread, big, "refused_size", code="552")
        explained = await OutboxMail.filter(kind=NotificationKind.MAIL_TOO_LARGE).values("to_address", "ticket_id")
        assert explained == [{"to_address": channel.world.alice.email, "ticket_id": thread.ticket.id}]
        # The same message again: refused again, not explained twice.
        assert (await other.send(big)).startswith(("552", "250"))
        assert await OutboxMail.filter(kind=NotificationKind.MAIL_TOO_LARGE).count() == 1
    finally:
        await stop_receiver(server)
    sent = await channel.notifications()
    assert any("größer als 1 MB" in m.text for m in sent)


async def test_a_reply_with_nothing_but_the_quote_is_refused(channel: Channel, thread: Thread) -> None:
    await refused(channel, thread, reply(thread.to_alice, "", sender=channel.world.alice.email), "refused_empty")


async def test_refusals_are_recorded_once_per_message(channel: Channel, thread: Thread) -> None:
    message = reply(thread.to_alice, "Ich bin Bob.", sender=channel.world.bob.email)
    await channel.send(message)
    await channel.send(message)
    rows = await InboundMail.filter(sender=channel.world.bob.email).values("outcome")
    assert [row["outcome"].value for row in rows] == ["refused_sender"]


async def test_a_message_over_the_transport_limit_is_refused_from_its_headers(channel: Channel, thread: Thread) -> None:
    small = dataclasses.replace(channel.settings, max_upload_mb=1)
    port = free_port()
    server = await start_receiver(small, f"127.0.0.1:{port}")
    try:
        other = dataclasses.replace(channel, port=port, settings=small)
        # About 4 MB on the wire: over the 1 MB limit in base64 plus 1 MB, under what the receiver reads.
        huge = reply(
            thread.to_alice,
            "Riesig.",
            sender=channel.world.alice.email,
            attachments=[("riesig.bin", "application/octet-stream", b"\x02" * (3 * 1024 * 1024))],
        )
        await refused(other, thread, huge, "refused_size", code="552")
        assert await OutboxMail.filter(kind=NotificationKind.MAIL_TOO_LARGE).count() == 1
        # Beyond what the receiver reads at all: aiosmtpd answers 552 itself, counted as well.
        beyond = reply(
            thread.to_alice,
            "Zu viel.",
            sender=channel.world.alice.email,
            attachments=[("mehr.bin", "application/octet-stream", b"\x03" * (4 * 1024 * 1024))],
        )
        await refused(other, thread, beyond, "refused_size", code="552")
    finally:
        await stop_receiver(server)
