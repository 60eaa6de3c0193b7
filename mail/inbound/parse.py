"""A received message, read with the standard library's `email` package (policy `default`).

`read_message` gives everything the email channel decides on: the sender, the recipients the
message names, the threading ids, the auto-reply markers, the new text (plain, or the HTML
turned into text) and the attachments, and for a delivery status notification (RFC 3464) the
failed recipients and the original's Message-ID.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr

from mail.inbound.text import html_to_text

MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
# Embedded pictures of an HTML mail (logos in a signature) are not attachments; larger ones
# (a photo pasted into the text) are.
EMBEDDED_KEEP_BYTES = 20_000


@dataclass(frozen=True)
class Part:
    """One attached file as received."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification reports."""

    failed: list[str]  # Final-Recipient addresses with Action: failed (lower-cased)
    original_message_ids: list[str]


@dataclass
class InboundMessage:
    message_id: str | None
    sender: str  # the From address, lower-cased ("" when there is none)
    subject: str
    to: list[str]
    delivered_to: list[str]
    in_reply_to: list[str]
    references: list[str]
    auto_submitted: str
    precedence: str
    loop_marker: str
    text: str  # the body as text (HTML turned into text), quotes not yet removed
    from_html: bool
    attachments: list[Part] = field(default_factory=list)
    bounce: Bounce | None = None

    def key(self, raw: bytes) -> str:
        """The claim key: SHA-256 of the Message-ID, or of the bytes when there is none."""
        source = self.message_id.encode() if self.message_id else raw
        return hashlib.sha256(source).hexdigest()


def message_ids(value: str | None) -> list[str]:
    """The ids inside angle brackets of a Message-ID / In-Reply-To / References header, in order."""
    return MESSAGE_ID.findall(value or "")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot read counts as absent
        return ""
    return str(value or "").strip()


def _addresses(message: Message, name: str) -> list[str]:
    try:
        values = message.get_all(name) or []
    except Exception:
        return []
    return [address.lower() for _, address in getaddresses([str(v) for v in values]) if "@" in address]


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]  # EmailMessage under policy default
    except (LookupError, ValueError, AttributeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _body(message: EmailMessage) -> tuple[str, bool, set[int]]:
    """(text, whether it came from HTML, ids of the parts used as the body)."""
    used: set[int] = set()
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    for part in (plain, html):
        if part is not None:
            used.add(id(part))
    if plain is not None:
        return _text_of(plain), False, used
    if html is not None:
        return html_to_text(_text_of(html)), True, used
    return "", False, used


def _attachments(message: EmailMessage, used: set[int]) -> list[Part]:
    found: list[Part] = []

    def walk(part: Message, in_related: bool) -> None:
        if part.is_multipart():
            related = in_related or part.get_content_type() == "multipart/related"
            for child in part.get_payload():
                if isinstance(child, Message):
                    walk(child, related)
            return
        if id(part) in used or part.get_content_maintype() == "message":
            return
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if part.get_content_type() in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            return  # another text alternative of the body
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            return
        if in_related and disposition != "attachment" and part.get("Content-ID") and len(data) < EMBEDDED_KEEP_BYTES:
            return
        found.append(Part(filename=filename, content_type=part.get_content_type(), data=data))

    walk(message, False)
    return found


def _bounce(message: EmailMessage) -> Bounce | None:
    if message.get_content_type() != "multipart/report":
        return None
    failed: list[str] = []
    originals: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():  # one Message per field group
                if not isinstance(block, Message):
                    continue
                action = _header(block, "Action").lower()
                recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
                address = recipient.partition(";")[2].strip() if ";" in recipient else recipient
                if action == "failed" and "@" in address:
                    failed.append(parseaddr(address)[1].lower() or address.lower())
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            if kind == "message/rfc822":
                inner = part.get_payload()
                original = inner[0] if isinstance(inner, list) and inner else None
            else:
                headers = part.get_payload(decode=True)
                original = message_from_bytes(headers if isinstance(headers, bytes) else b"", policy=policy.default)
            if isinstance(original, Message):
                originals += message_ids(_header(original, "Message-ID"))
    return Bounce(failed=failed, original_message_ids=originals)


def read_message(raw: bytes, headers_only: bool = False) -> InboundMessage:
    """Everything the email channel reads of one RFC 5322 message (`headers_only`: its headers,
    for a message too large to be stored anyway: no body is parsed)."""
    if headers_only:
        message = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    else:
        message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage objects
    text, from_html, used = ("", False, set()) if headers_only else _body(message)
    sender = _addresses(message, "From")
    ids = message_ids(_header(message, "Message-ID"))
    return InboundMessage(
        message_id=ids[0] if ids else None,
        sender=sender[0] if sender else "",
        subject=" ".join(_header(message, "Subject").split()),
        to=_addresses(message, "To") + _addresses(message, "Cc"),
        delivered_to=_addresses(message, "Delivered-To") + _addresses(message, "X-Original-To"),
        in_reply_to=message_ids(_header(message, "In-Reply-To")),
        references=message_ids(_header(message, "References")),
        auto_submitted=_header(message, "Auto-Submitted").lower(),
        precedence=_header(message, "Precedence").lower(),
        loop_marker=_header(message, "X-Sitedesk-Loop"),
        text=text,
        from_html=from_html,
        attachments=[] if headers_only else _attachments(message, used),
        bounce=None if headers_only else _bounce(message),
    )
