"""The GraphQL side: the outbox per ticket for employees, one's own settings for everyone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.settings import ConfigurationError
from mail.render import render
from mail.sender import SmtpConfig, parse_smtp_url, retry_delay
from tests.notifications.conftest import COMMENT, SETTINGS, STATUS

LIST = """query($id: ID!) { notifications(ticketId: $id) { totalCount edges { node {
  id kind audience recipientName recipientEmail locale subject status attempts } } } }"""
ME = """{ me { ... on CustomerUser { notificationSettings { locale comments statusChanges } }
              ... on Employee { notificationSettings { locale assignments newTickets } } } }"""
TICKET_PEOPLE = """query($id: ID!) { node(id: $id) { ... on Ticket {
  createdBy { ... on CustomerUser { name notificationSettings { locale } } } } } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename ... on Notification { subject } } }"""


async def test_employees_see_what_was_queued_customers_are_refused(mailing, gql):
    await mailing.as_(mailing.staff).ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Hallo"}})
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    listed = await mailing.as_(mailing.petra).ok(LIST, {"id": mailing.ticket_id})
    nodes = [e["node"] for e in listed["notifications"]["edges"]]
    assert listed["notifications"]["totalCount"] == 2
    assert [(n["kind"], n["audience"], n["recipientEmail"], n["status"], n["locale"]) for n in nodes] == [
        ("STATUS_CHANGED", "CUSTOMER_USER", "alice@kunde.test", "PENDING", "DE"),
        ("COMMENT_ADDED", "CUSTOMER_USER", "alice@kunde.test", "PENDING", "DE"),
    ]
    assert nodes[0]["subject"] == "[#1] Flur im 2. OG nicht gewischt – Erledigt"
    assert (await mailing.as_(mailing.petra).ok(NODE, {"id": nodes[0]["id"]}))["node"]["subject"] == nodes[0]["subject"]

    assert await mailing.as_(mailing.alice).error_code(LIST, {"id": mailing.ticket_id}) == "FORBIDDEN"
    assert (await mailing.as_(mailing.alice).ok(NODE, {"id": nodes[0]["id"]}))["node"] is None
    assert await gql.error_code(LIST, {"id": mailing.ticket_id}) == "UNAUTHENTICATED"
    assert await mailing.as_(mailing.petra).error_code(LIST, {"id": "VGlja2V0Ojk5OQ"}) == "NOT_FOUND"


async def test_settings_are_ones_own(mailing, gql):
    assert (await mailing.as_(mailing.alice).ok(ME))["me"]["notificationSettings"] == {
        "locale": "DE",
        "comments": True,
        "statusChanges": True,
    }
    changed = await mailing.as_(mailing.staff).ok(SETTINGS, {"input": {"locale": "EN", "newTickets": False}})
    assert changed["updateNotificationSettings"] == {
        "locale": "EN",
        "comments": True,
        "statusChanges": True,
        "assignments": True,
        "newTickets": False,
    }
    assert (await mailing.as_(mailing.staff).ok(ME))["me"]["notificationSettings"] == {
        "locale": "EN",
        "assignments": True,
        "newTickets": False,
    }
    assert (await mailing.as_(mailing.staff).ok("{ notificationSettings { locale } }"))["notificationSettings"] == {
        "locale": "EN"
    }
    # Someone else's settings are not for an employee to read.
    seen = await mailing.as_(mailing.staff).ok(TICKET_PEOPLE, {"id": mailing.ticket_id})
    assert seen["node"]["createdBy"] == {"name": "Alice Kundin", "notificationSettings": None}
    assert await gql.error_code(SETTINGS, {"input": {"locale": "EN"}}) == "UNAUTHENTICATED"


def test_smtp_url_forms():
    assert parse_smtp_url("smtp://127.0.0.1:1025") == SmtpConfig("127.0.0.1", 1025)
    assert parse_smtp_url("smtp://mail.example") == SmtpConfig("mail.example", 25)
    assert parse_smtp_url("smtp+starttls://u%40x:p%3Aw@mail.example") == SmtpConfig(
        "mail.example", 587, "u@x", "p:w", start_tls=True
    )
    assert parse_smtp_url("smtp://u:p@mail.example:2525?starttls=true") == SmtpConfig(
        "mail.example", 2525, "u", "p", start_tls=True
    )
    assert parse_smtp_url("smtps://u:p@mail.example") == SmtpConfig("mail.example", 465, "u", "p", use_tls=True)
    for bad in ("http://mail.example", "smtp://", "smtps://h?starttls=true", "smtp://h:99999"):
        with pytest.raises(ConfigurationError):
            parse_smtp_url(bad)


def test_back_off_doubles_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert retry_delay(20) == timedelta(hours=1)


def test_user_text_is_escaped_in_html_and_kept_in_text():
    context = {
        "ticket_id": 1,
        "ticket_id_global": "VGlja2V0OjE",
        "ticket_number": 7,
        "ticket_title": "<img src=x onerror=alert(1)>",
        "object_name": "A & B",
        "ticket_type_name": "T",
        "status": "OPEN",
        "actor_name": "Eve <eve@x>",
        "comment_author": "Eve <eve@x>",
        "comment_body": "<script>alert(1)</script>",
    }
    rendered = render("COMMENT_ADDED", context, "de", "Alice", "https://x.test")
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<img" not in rendered.html and "A &amp; B" in rendered.html
    assert "> <script>alert(1)</script>" in rendered.text
    assert rendered.subject == "[#7] <img src=x onerror=alert(1)> – Neuer Kommentar"


def test_mail_settings_from_the_environment():
    from core.settings import settings_from_env

    assert (
        settings_from_env({"SITEDESK_PUBLIC_URL": "https://desk.example.com"}).mail_from
        == "Sitedesk <no-reply@desk.example.com>"
    )
    assert settings_from_env({}).mail_from == "Sitedesk <no-reply@sitedesk.invalid>"
    given = settings_from_env(
        {"SITEDESK_MAIL_FROM": "Service <service@firma.example>", "SITEDESK_MAIL_SENDER": "false"}
    )
    assert (given.mail_from, given.mail_sender) == ("Service <service@firma.example>", False)
    with pytest.raises(ConfigurationError):
        settings_from_env({"SITEDESK_MAIL_FROM": "not an address"})
