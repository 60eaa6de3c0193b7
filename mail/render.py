"""Notification mails as text and HTML, in German (default) or English.

Rendering is pure: everything a mail says comes from the `context` chosen for
its audience when it was queued (`resolvers/notifications.py`), plus the
public URL for the link. User-written text is escaped in the HTML part.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"

STATUS_NAMES = {
    "de": {"OPEN": "Offen", "IN_PROGRESS": "In Bearbeitung", "DONE": "Erledigt"},
    "en": {"OPEN": "Open", "IN_PROGRESS": "In progress", "DONE": "Done"},
}

WORDS = {
    "de": {
        "hello": "Hallo {name},",
        "ticket": "Ticket",
        "object": "Objekt",
        "type": "Art",
        "status": "Status",
        "wrote": "{author} schrieb:",
        "description": "Beschreibung:",
        "open": "Zum Ticket",
        "footer": "Diese E-Mail wurde automatisch von Sitedesk versandt. Antworten darauf erreichen niemanden.",
        "settings": "Welche Benachrichtigungen Sie erhalten, legen Sie in Ihren Einstellungen fest.",
        "footer.reply": (
            "Diese E-Mail wurde automatisch von Sitedesk versandt. Ihre Antwort darauf wird als Kommentar "
            "zum Ticket gespeichert; schreiben Sie oberhalb des zitierten Textes."
        ),
        "event.MAIL_TOO_LARGE": "Antwort nicht gespeichert",
        "headline.MAIL_TOO_LARGE": (
            "Ihre Antwort per E-Mail war größer als {limit} MB (zusammen oder eine Datei) und wurde nicht "
            "gespeichert. Bitte laden Sie große Dateien im Portal hoch."
        ),
        "event.COMMENT_ADDED": "Neuer Kommentar",
        "event.ASSIGNED": "Ihnen zugewiesen",
        "event.TICKET_CREATED": "Neues Ticket",
        "headline.COMMENT_ADDED": "{actor} hat einen Kommentar zum Ticket geschrieben.",
        "headline.ASSIGNED": "{actor} hat Ihnen ein Ticket zugewiesen.",
        "headline.TICKET_CREATED": "{actor} hat ein Ticket erstellt, das Ihnen zugewiesen ist.",
        "headline.TICKET_CREATED.RESPONSIBLE": (
            "{actor} hat ein Ticket für ein Objekt erstellt, für das Sie zuständig sind."
        ),
        "headline.STATUS_CHANGED.DONE": "Ihr Ticket ist erledigt.",
        "headline.STATUS_CHANGED.IN_PROGRESS": "Ihr Ticket wird jetzt bearbeitet.",
        "headline.STATUS_CHANGED.OPEN": "Ihr Ticket ist wieder offen.",
        "event.REOPENED": "Wieder geöffnet",
        "event.RATED_LOW": "Niedrige Bewertung",
        "headline.REOPENED": "{actor} hat das Ticket wieder geöffnet.",
        "headline.RATED_LOW": "{actor} hat die Erledigung bestätigt und mit {rating} von 5 bewertet.",
        "reason": "Begründung:",
        "feedback": "Rückmeldung:",
        "confirm_until": (
            "Bitte bestätigen Sie die Erledigung im Portal oder öffnen Sie das Ticket wieder, bis zum {date}."
        ),
    },
    "en": {
        "hello": "Hello {name},",
        "ticket": "Ticket",
        "object": "Object",
        "type": "Type",
        "status": "Status",
        "wrote": "{author} wrote:",
        "description": "Description:",
        "open": "Open the ticket",
        "footer": "This email was sent automatically by Sitedesk. Replies to it reach no one.",
        "settings": "You choose which notifications you receive in your settings.",
        "footer.reply": (
            "This email was sent automatically by Sitedesk. Your reply to it is stored as a comment on the "
            "ticket; write above the quoted text."
        ),
        "event.MAIL_TOO_LARGE": "Reply not stored",
        "headline.MAIL_TOO_LARGE": (
            "Your reply by email was larger than {limit} MB (in all, or one file) and was not stored. Please "
            "upload large files in the portal."
        ),
        "event.COMMENT_ADDED": "New comment",
        "event.ASSIGNED": "Assigned to you",
        "event.TICKET_CREATED": "New ticket",
        "headline.COMMENT_ADDED": "{actor} commented on the ticket.",
        "headline.ASSIGNED": "{actor} assigned a ticket to you.",
        "headline.TICKET_CREATED": "{actor} created a ticket assigned to you.",
        "headline.TICKET_CREATED.RESPONSIBLE": "{actor} created a ticket on an object you are responsible for.",
        "headline.STATUS_CHANGED.DONE": "Your ticket is done.",
        "headline.STATUS_CHANGED.IN_PROGRESS": "Your ticket is being worked on.",
        "headline.STATUS_CHANGED.OPEN": "Your ticket is open again.",
        "event.REOPENED": "Reopened",
        "event.RATED_LOW": "Low rating",
        "headline.REOPENED": "{actor} reopened the ticket.",
        "headline.RATED_LOW": "{actor} confirmed the resolution and rated it {rating} out of 5.",
        "reason": "Reason:",
        "feedback": "Feedback:",
        "confirm_until": "Please confirm the resolution in the portal, or reopen the ticket, by {date}.",
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def locale_of(value: str | None) -> str:
    return value if value in LOCALES else DEFAULT_LOCALE


def _event(kind: str, context: dict[str, Any], locale: str) -> str:
    if kind == "STATUS_CHANGED":
        return STATUS_NAMES[locale][context["status"]]
    return WORDS[locale][f"event.{kind}"]


def _confirm_until(context: dict[str, Any], locale: str) -> str:
    """The line naming the last day to confirm or reopen (DONE of a confirming type), or ''."""
    day = context.get("confirm_until")
    if not day:
        return ""
    year, month, date = day.split("-")
    shown = f"{date}.{month}.{year}" if locale == "de" else day
    return WORDS[locale]["confirm_until"].format(date=shown)


def render_subject(kind: str, context: dict[str, Any], locale: str) -> str:
    """`[#1042] Flur nicht gewischt – Erledigt`: number, title, what happened."""
    locale = locale_of(locale)
    if kind == "WEBHOOK_DISABLED":
        return WEBHOOK_WORDS[locale]["subject"].format(url=context["webhook_url"])[:300]
    subject = f"[#{context['ticket_number']}] {context['ticket_title']} – {_event(kind, context, locale)}"
    # Header injection is impossible through EmailMessage, but keep it one line.
    return " ".join(subject.split())[:300]


def ticket_link(public_url: str, context: dict[str, Any]) -> str:
    return f"{public_url.rstrip('/')}/tickets/{context['ticket_id_global']}"


WEBHOOK_WORDS = {
    "de": {
        "subject": "Webhook deaktiviert: {url}",
        "body": "Sitedesk hat den Webhook an {url} deaktiviert und sendet ihm keine Ereignisse mehr.",
        "reason": "Grund: {reason}",
        "again": "Prüfen Sie den Empfänger und schalten Sie den Webhook mit updateWebhook (enabled: true) "
        "wieder ein; liegengebliebene Zustellungen werden dann nachgeholt.",
    },
    "en": {
        "subject": "Webhook disabled: {url}",
        "body": "Sitedesk disabled the webhook to {url} and sends it no more events.",
        "reason": "Reason: {reason}",
        "again": "Check the receiver and enable the webhook again with updateWebhook (enabled: true); "
        "deliveries held back are then sent.",
    },
}


def render_webhook_disabled(context: dict[str, Any], locale: str, recipient_name: str) -> Rendered:
    """The mail to a webhook's creator when Sitedesk disabled it (410 Gone, or failing for days)."""
    words, common = WEBHOOK_WORDS[locale], WORDS[locale]
    paragraphs = [
        common["hello"].format(name=recipient_name),
        words["body"].format(url=context["webhook_url"]),
        words["reason"].format(reason=context["reason"]),
        words["again"],
    ]
    text = "\n\n".join(paragraphs) + "\n\n-- \n" + common["footer"] + "\n"
    e = html.escape
    html_part = (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8"></head><body style="font-family:sans-serif">'
        + "".join(f"<p>{e(p)}</p>" for p in paragraphs)
        + f'<p style="color:#777;font-size:small">{e(common["footer"])}</p></body></html>\n'
    )
    return Rendered(subject=render_subject("WEBHOOK_DISABLED", context, locale), text=text, html=html_part)


def render(kind: str, context: dict[str, Any], locale: str, recipient_name: str, public_url: str) -> Rendered:
    """Subject, plain text and HTML of one notification."""
    locale = locale_of(locale)
    if kind == "WEBHOOK_DISABLED":
        return render_webhook_disabled(context, locale, recipient_name)
    words = WORDS[locale]
    key = f"headline.{kind}.{context['status']}" if kind == "STATUS_CHANGED" else f"headline.{kind}"
    if context.get("responsible"):  # an unassigned ticket, mailed to the object's responsible employees
        key += ".RESPONSIBLE"
    headline = words[key].format(
        actor=context.get("actor_name") or "Sitedesk", rating=context.get("rating"), limit=context.get("limit_mb")
    )
    link = ticket_link(public_url, context)
    facts = [
        (words["ticket"], f"#{context['ticket_number']} {context['ticket_title']}"),
        (words["object"], context["object_name"]),
        (words["type"], context["ticket_type_name"]),
        (words["status"], STATUS_NAMES[locale][context["status"]]),
    ]
    comment = context.get("comment_body")
    wrote = words["wrote"].format(author=context.get("comment_author") or "") if comment else ""
    for quoted in ("reason", "feedback"):  # a reopening's reason, a low rating's feedback (employees only)
        if not comment and context.get(quoted):
            comment, wrote = context[quoted], words[quoted]
    if not comment and context.get("description"):
        comment, wrote = context["description"], words["description"]
    until = _confirm_until(context, locale)

    width = max(len(label) for label, _ in facts) + 2
    lines = [words["hello"].format(name=recipient_name), "", headline, ""]
    lines += [f"{(label + ':').ljust(width)}{value}" for label, value in facts]
    if comment:
        lines += ["", wrote, *("> " + line if line else ">" for line in comment.splitlines())]
    if until:
        lines += ["", until]
    footer = words["footer.reply"] if context.get("replyable") else words["footer"]
    lines += ["", f"{words['open']}: {link}", "", "-- ", footer, words["settings"], ""]
    text = "\n".join(lines)

    e = html.escape
    rows = "".join(
        f'<tr><th style="text-align:left;padding-right:12px">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in facts
    )
    comment_html = ""
    if comment:
        body = "<br>".join(e(line) for line in comment.splitlines())
        comment_html = (
            f'<p>{e(wrote)}</p><blockquote style="border-left:3px solid #ccc;margin:0;'
            f'padding-left:12px">{body}</blockquote>'
        )
    html_part = (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif">'
        f"<p>{e(words['hello'].format(name=recipient_name))}</p><p><strong>{e(headline)}</strong></p>"
        f"<table>{rows}</table>{comment_html}"
        f"{f'<p>{e(until)}</p>' if until else ''}"
        f'<p><a href="{e(link, quote=True)}">{e(words["open"])}</a></p>'
        f'<p style="color:#777;font-size:small">{e(footer)}<br>{e(words["settings"])}</p>'
        f"</body></html>\n"
    )
    return Rendered(subject=render_subject(kind, context, locale), text=text, html=html_part)


# Kinds of mail about something only employees see (a service-level warning): a reply to one is internal.
INTERNAL_KINDS_PREFIX = "SLA_"


def mail_is_internal(kind: str, context: dict[str, Any]) -> bool:
    """Whether a mail was about something internal, so that a reply to it stays internal (issue 27)."""
    return bool(context.get("internal")) or kind.startswith(INTERNAL_KINDS_PREFIX)


def mail_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "sitedesk.invalid"


def thread_id(ticket_id: int | str, mail_from: str) -> str:
    """The per-ticket id every mail about a ticket replies to, so clients thread them."""
    return f"<ticket-{ticket_id}@{mail_domain(mail_from)}>"


def build_message(
    *,
    kind: str,
    context: dict[str, Any],
    locale: str,
    to_name: str,
    to_address: str,
    mail_key: str,
    mail_from: str,
    public_url: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """The complete MIME message of one outbox row (text and HTML alternatives).

    `reply_to`: the signed reply address (issue 27); the mail then says that replies are stored.
    """
    if reply_to:
        context = {**context, "replyable": True}
    rendered = render(kind, context, locale, to_name, public_url)
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = formataddr((to_name, to_address))
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{mail_key}@{mail_domain(mail_from)}>"
    if "ticket_id" in context:  # every mail about a ticket threads with the others
        thread = thread_id(context["ticket_id"], mail_from)
        message["In-Reply-To"] = thread
        message["References"] = thread
    # RFC 3834: stop vacation replies and auto-responders from answering.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # Marks our own mail: the email channel refuses a message carrying it back in (a forwarding loop).
    message["X-Sitedesk-Loop"] = mail_domain(mail_from)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    message["Content-Language"] = locale_of(locale)  # after set_content, which drops Content-* headers
    return message
