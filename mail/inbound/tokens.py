"""Signed reply and bounce addresses.

`reply+<token>@<domain>`: the token names a ticket, a recipient (account) and whether the mail
was about something internal, with an HMAC over the three keyed with a key of
`SITEDESK_SECRET_KEYS` (the newest signs; any listed key verifies, so keys rotate as for
download URLs). `bounces+<mail key>-<mac>@<domain>` is the envelope sender of each notification:
a delivery status notification comes back to it and names the outbox row.

Tokens are lower-case letters and digits only: mail systems may change the case of a local part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from core.settings import Settings

MAC_BYTES = 10  # 80 bits, 16 base32 characters: short enough for a 64-character local part
REPLY_PREFIX = "reply+"
BOUNCE_PREFIX = "bounces+"
REPLY_TOKEN = re.compile(r"^([0-9]+)-([0-9]+)-([pi])([a-z2-7]{16})$")
BOUNCE_TOKEN = re.compile(r"^([0-9a-f-]{36})-([a-z2-7]{16})$")


@dataclass(frozen=True)
class ReplyToken:
    """Who may answer about which ticket, and whether the answer stays internal."""

    ticket_id: int
    account_id: int
    internal: bool


def _mac(key: str, message: str) -> str:
    digest = hmac.digest(key.encode(), message.encode(), hashlib.sha256)[:MAC_BYTES]
    return base64.b32encode(digest).decode().lower().rstrip("=")


def _verifies(settings: Settings, message: str, mac: str) -> bool:
    return any(hmac.compare_digest(_mac(key, message), mac) for key in settings.secret_keys)


def reply_token(settings: Settings, token: ReplyToken) -> str:
    """The signed token, e.g. `1042-17-p3k5…`."""
    flag = "i" if token.internal else "p"
    body = f"{token.ticket_id}-{token.account_id}-{flag}"
    return body + _mac(settings.secret_key, "reply:" + body)


def reply_address(settings: Settings, domain: str, token: ReplyToken) -> str:
    return f"{REPLY_PREFIX}{reply_token(settings, token)}@{domain}"


def read_reply_token(settings: Settings, text: str) -> ReplyToken | None:
    """The token's content when it is well-formed and signed by one of our keys, else None."""
    found = REPLY_TOKEN.match(text.strip().lower())
    if found is None:
        return None
    ticket, account, flag, mac = found.groups()
    if not _verifies(settings, f"reply:{ticket}-{account}-{flag}", mac):
        return None
    return ReplyToken(ticket_id=int(ticket), account_id=int(account), internal=flag == "i")


def bounce_address(settings: Settings, domain: str, mail_key: str) -> str:
    """The envelope sender of the outbox mail `mail_key`: its bounces come back naming it."""
    return f"{BOUNCE_PREFIX}{mail_key}-{_mac(settings.secret_key, 'bounce:' + mail_key)}@{domain}"


def read_bounce_token(settings: Settings, text: str) -> str | None:
    """The outbox mail key a signed bounce address names, else None."""
    found = BOUNCE_TOKEN.match(text.strip().lower())
    if found is None or not _verifies(settings, "bounce:" + found.group(1), found.group(2)):
        return None
    return found.group(1)


def intake_key() -> str:
    """A new secret local part for an object's intake address (lower-case base32, 100 bits)."""
    import secrets

    return base64.b32encode(secrets.token_bytes(15)).decode().lower()
