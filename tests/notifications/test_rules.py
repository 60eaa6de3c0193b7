"""Who receives which mail, as a real SMTP server receives it (aiosmtpd)."""

from __future__ import annotations

import os

from core.ids import to_global_id
from mail.sender import deliver_due
from models.customers import CustomerUserObject
from models.notifications import OutboxMail
from tests.factories import viewer_of
from tests.notifications.conftest import ASSIGN, COMMENT, CREATE, SETTINGS, STATUS

INTERNAL = "GEHEIM: Schlüssel liegt beim Hausmeister, Team B schicken"


async def deliver(settings) -> None:
    while (await deliver_due(settings)).claimed:
        pass


def employee_addresses(mailing) -> list[str]:
    return [mailing.staff.email, mailing.petra.email, mailing.admin.email]


async def test_customer_gets_public_comments_never_internal_ones(mailing, mail_settings, inbox):
    staff = mailing.as_(mailing.staff)
    await mailing.as_(mailing.admin).ok(
        ASSIGN, {"id": mailing.ticket_id, "assigneeId": to_global_id("Employee", mailing.staff.pk)}
    )
    await staff.ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": INTERNAL, "internal": True}})
    await staff.ok(
        COMMENT,
        {"input": {"ticketId": mailing.ticket_id, "body": "Wir schicken morgen früh jemanden.\n<b>Versprochen</b>"}},
    )
    await deliver(mail_settings)

    to_alice = inbox.to(mailing.alice.email)
    assert len(to_alice) == 1
    mail = to_alice[0]
    assert mail.rcpt_tos == [mailing.alice.email]
    assert "Wir schicken morgen früh jemanden." in mail.text
    assert "Jonas Weber schrieb:" in mail.text
    assert "&lt;b&gt;Versprochen&lt;/b&gt;" in mail.html and "<b>Versprochen</b>" not in mail.html
    # Nothing internal and no staff address anywhere in what the customer got.
    raw = mail.raw.decode("utf-8", "replace")
    for secret in [INTERNAL, "GEHEIM", *employee_addresses(mailing)]:
        assert secret not in mail.text and secret not in mail.html and secret not in raw
    # The assignee got the assignment mail only (they wrote both comments themselves).
    to_staff = inbox.to(mailing.staff.email)
    assert [m.message["Subject"] for m in to_staff] == ["[#1] Flur im 2. OG nicht gewischt – Ihnen zugewiesen"]
    assert len(inbox.messages) == 2
    if os.environ.get("SITEDESK_SHOW_MAILS"):
        for title, shown in (("customer mail", mail), ("employee mail", to_staff[0])):
            headers = "\n".join(f"{k}: {v}" for k, v in shown.message.items())
            print(f"\n===== {title} (envelope to {shown.rcpt_tos}) =====\n{headers}\n\n{shown.text}")


async def test_no_message_is_shared_and_no_one_mails_themselves(mailing, mail_settings, inbox):
    await mailing.as_(mailing.admin).ok(
        ASSIGN, {"id": mailing.ticket_id, "assigneeId": to_global_id("Employee", mailing.staff.pk)}
    )
    await deliver(mail_settings)
    assert [m.rcpt_tos for m in inbox.messages] == [[mailing.staff.email]]  # the assignment
    inbox.clear()
    # The creator comments on her own ticket: the assignee hears of it, she does not.
    await mailing.as_(mailing.alice).ok(
        COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Bitte auch Treppe."}}
    )
    await deliver(mail_settings)
    assert [m.rcpt_tos for m in inbox.messages] == [[mailing.staff.email]]
    assert "Alice Kundin schrieb:" in inbox.messages[0].text
    assert "Bitte auch Treppe." in inbox.messages[0].text
    inbox.clear()
    # Another customer user comments: the creator and the assignee each get their own message.
    await mailing.as_(mailing.bob).ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Bei uns auch."}})
    await deliver(mail_settings)
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted([mailing.alice.email, mailing.staff.email])
    assert all(len(m.rcpt_tos) == 1 and len(m.message.get_all("To")) == 1 for m in inbox.messages)
    inbox.clear()
    # An employee who is not the assignee comments: only the customer creator gets it.
    await mailing.as_(mailing.petra).ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Erledige ich."}})
    await deliver(mail_settings)
    assert [m.rcpt_tos for m in inbox.messages] == [[mailing.alice.email]]


async def test_status_mails_to_the_portal_creator(mailing, mail_settings, inbox):
    staff = mailing.as_(mailing.staff)
    await staff.ok(STATUS, {"id": mailing.ticket_id, "status": "IN_PROGRESS"})
    await deliver(mail_settings)
    assert [m.message["Subject"] for m in inbox.to(mailing.alice.email)] == [
        "[#1] Flur im 2. OG nicht gewischt – In Bearbeitung"
    ]
    assert "Ihr Ticket wird jetzt bearbeitet." in inbox.messages[0].text
    assert "Objekt:" in inbox.messages[0].text and "Rathaus Mitte" in inbox.messages[0].text
    inbox.clear()
    await staff.ok(STATUS, {"id": mailing.ticket_id, "status": "OPEN"})
    await staff.ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    await deliver(mail_settings)
    assert [m.message["Subject"] for m in inbox.messages] == ["[#1] Flur im 2. OG nicht gewischt – Erledigt"]
    assert inbox.messages[0].rcpt_tos == [mailing.alice.email]
    assert "https://sitedesk.test/tickets/" + mailing.ticket_id in inbox.messages[0].text


async def test_switched_off_mails_stay_off_but_done_always_goes(mailing, mail_settings, inbox):
    settings = await mailing.as_(mailing.alice).ok(SETTINGS, {"input": {"comments": False, "statusChanges": False}})
    assert settings["updateNotificationSettings"] == {
        "locale": "DE",
        "comments": False,
        "statusChanges": False,
        "assignments": True,
        "newTickets": True,
    }
    staff = mailing.as_(mailing.staff)
    await staff.ok(STATUS, {"id": mailing.ticket_id, "status": "IN_PROGRESS"})
    await staff.ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Sind dran."}})
    await staff.ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    await deliver(mail_settings)
    assert [m.message["Subject"] for m in inbox.messages] == ["[#1] Flur im 2. OG nicht gewischt – Erledigt"]


async def test_assignment_mails(mailing, mail_settings, inbox):
    admin, staff = mailing.as_(mailing.admin), mailing.as_(mailing.staff)
    staff_id, petra_id = (to_global_id("Employee", p.pk) for p in (mailing.staff, mailing.petra))
    await staff.ok(ASSIGN, {"id": mailing.ticket_id, "assigneeId": staff_id})  # to themselves: nothing
    await admin.ok(ASSIGN, {"id": mailing.ticket_id, "assigneeId": petra_id})  # Petra hears
    await admin.ok(ASSIGN, {"id": mailing.ticket_id, "assigneeId": None})  # unassigned: nothing
    await mailing.as_(mailing.petra).ok(SETTINGS, {"input": {"assignments": False}})
    await admin.ok(ASSIGN, {"id": mailing.ticket_id, "assigneeId": petra_id})  # switched off
    # A back-office ticket created with an assignee: the assignee hears, no customer does.
    created = await admin.ok(
        CREATE,
        {
            "input": {
                "objectId": to_global_id("SiteObject", mailing.site.id),
                "ticketTypeId": to_global_id("TicketType", mailing.defect.id),
                "title": "Fenster streifig",
                "assigneeId": staff_id,
            }
        },
    )
    await admin.ok(STATUS, {"id": created["createTicket"]["id"], "status": "DONE"})
    await deliver(mail_settings)
    got = [(m.rcpt_tos[0], m.message["Subject"]) for m in inbox.messages]
    assert got == [
        (mailing.petra.email, "[#1] Flur im 2. OG nicht gewischt – Ihnen zugewiesen"),
        (mailing.staff.email, "[#2] Fenster streifig – Ihnen zugewiesen"),
    ]
    assert "Anna Admin hat Ihnen ein Ticket zugewiesen." in inbox.messages[0].text


async def test_english_per_account(mailing, mail_settings, inbox):
    await mailing.as_(mailing.alice).ok(SETTINGS, {"input": {"locale": "EN"}})
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    await deliver(mail_settings)
    [mail] = inbox.messages
    assert mail.message["Subject"] == "[#1] Flur im 2. OG nicht gewischt – Done"
    assert mail.message["Content-Language"] == "en"
    assert "Hello Alice Kundin," in mail.text and "Your ticket is done." in mail.text
    assert 'lang="en"' in mail.html


async def test_customer_who_lost_access_gets_nothing(mailing, mail_settings, inbox):
    await CustomerUserObject.filter(customer_user_id=mailing.alice.pk).delete()
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    await deliver(mail_settings)
    assert inbox.messages == []
    assert await OutboxMail.all().count() == 0


async def test_threading_and_auto_reply_headers(mailing, mail_settings, inbox):
    staff = mailing.as_(mailing.staff)
    await staff.ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Eins"}})
    await staff.ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Zwei"}})
    await deliver(mail_settings)
    first, second = (m.message for m in inbox.messages)
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["From"] == "Sitedesk Service <desk@sitedesk.test>"
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Message-ID"].endswith("@sitedesk.test>")
    assert first["In-Reply-To"] == second["In-Reply-To"] == first["References"]
    assert first["In-Reply-To"].startswith("<ticket-") and first.is_multipart()
    assert {p.get_content_type() for p in first.iter_parts()} == {"text/plain", "text/html"}


async def test_customer_created_ticket_assigned_to_someone_mails_the_assignee(mailing, mail_settings, inbox):
    """The portal cannot assign yet (forms or auto-assignment might): the rule itself, called directly."""
    from tortoise.transactions import in_transaction

    from models.tickets import Ticket
    from resolvers.notifications import queue_ticket_created

    ticket = await Ticket.get(number=1)
    await Ticket.filter(id=ticket.id).update(assignee_id=mailing.staff.pk)
    ticket = await Ticket.get(id=ticket.id)
    alice = await viewer_of(mailing.alice)
    async with in_transaction() as connection:
        await queue_ticket_created(connection, ticket, alice)
    await deliver(mail_settings)
    [mail] = inbox.messages
    assert mail.rcpt_tos == [mailing.staff.email]
    assert mail.message["Subject"] == "[#1] Flur im 2. OG nicht gewischt – Neues Ticket"
    assert "Alice Kundin hat ein Ticket erstellt, das Ihnen zugewiesen ist." in mail.text
