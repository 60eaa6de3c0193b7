"""Receiving one message: the checks every message passes, in order, and what it is answered.

1. parsed (standard library, policy `default`); its Message-ID seen before: `duplicate`;
2. counted for its sender (every message, across processes: an upsert per sender and hour);
3. our own mail coming back (our sender address, our domain, our loop header): `refused_loop`;
4. a delivery status notification: the failed address is marked as bouncing (`bounce`);
5. `Auto-Submitted` other than `no`, `Precedence: bulk/list/junk`: `refused_auto`;
6. over `SITEDESK_INBOUND_PER_SENDER_PER_HOUR`: `refused_rate`;
7. the address: `reply+<token>@` (a forged or changed token: `refused_token`), an object's intake
   address, or any other address of the domain whose References name one of our mails to this
   sender (else `refused_token`);
8. over the size limit: `refused_size`, answered 552 (the sender, when the token's, is told once);
9. stored (`store.py`): a comment or a ticket, with the claim of its Message-ID in the same
   transaction, so a retry after the commit is `duplicate` and N processes store it once.

Refusals store nothing but the message's record, are logged and counted
(`sitedesk_inbound_mail_total{outcome}`) and answered 250: no backscatter.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parseaddr

from tortoise.transactions import in_transaction

from core.database import dialect
from core.metrics import INBOUND_MAIL
from core.settings import Settings
from mail.inbound.parse import InboundMessage, read_message
from mail.inbound.tokens import BOUNCE_PREFIX, REPLY_PREFIX, ReplyToken, read_reply_token
from mail.render import mail_domain, mail_is_internal
from models.customers import SiteObject
from models.inbound_mail import InboundMail, InboundOutcome, InboundSenderHour
from models.notifications import OutboxMail
from resolvers.inbound_mail import store
from resolvers.inbound_mail.outcome import Received

logger = logging.getLogger("sitedesk.inbound_mail")

AUTO_PRECEDENCE = {"bulk", "list", "junk"}


def _now() -> datetime:
    return datetime.now(UTC)


def transport_limit(settings: Settings) -> int:
    """The largest raw message the receiver reads at all: the upload limit in base64, plus room for text."""
    return settings.max_upload_bytes * 4 // 3 + 1024 * 1024


def _too_large(settings: Settings, raw: bytes, message: InboundMessage) -> bool:
    files = [len(part.data) for part in message.attachments]
    total = sum(files) + len(message.text.encode())
    return (
        len(raw) > transport_limit(settings)
        or total > settings.max_upload_bytes
        or any(size > settings.max_upload_bytes for size in files)
        or len(files) > settings.max_files_per_request
    )


async def _count_sender(sender: str) -> int:
    """This message counted for `sender` in the current clock hour: the count so far (all processes)."""
    hour = int(time.time()) // 3600
    sender_p, hour_p = ("?", "?") if dialect() == "sqlite" else ("$1", "$2")
    async with in_transaction() as connection:
        rows = await connection.execute_query_dict(
            f'INSERT INTO "inbound_sender_hour" ("sender", "hour", "count") VALUES ({sender_p}, {hour_p}, 1) '
            'ON CONFLICT ("sender", "hour") DO UPDATE SET "count" = "inbound_sender_hour"."count" + 1 '
            'RETURNING "count"',
            [sender[:254], hour],
        )
        # Old hours are of no use: the row of this hour stays, earlier ones of this sender go.
        await InboundSenderHour.filter(sender=sender[:254], hour__lt=hour).using_db(connection).delete()
    return int(rows[0]["count"])


def _local_parts(settings: Settings, addresses: list[str]) -> list[str]:
    """The local parts of the addresses at SITEDESK_INBOUND_DOMAIN, in order."""
    domain = settings.inbound_domain or ""
    found = []
    for address in addresses:
        local, _, at = parseaddr(address)[1].lower().rpartition("@")
        if at == domain and local:
            found.append(local)
    return found


async def _token_from_references(settings: Settings, message: InboundMessage) -> ReplyToken | None:
    """The token of our mail to this sender that the reply's References / In-Reply-To name, all about one ticket."""
    ours = "@" + mail_domain(settings.mail_from)
    keys = [ref[: -len(ours)] for ref in message.in_reply_to + message.references if ref.lower().endswith(ours)]
    if not keys or not message.sender:
        return None
    rows = await OutboxMail.filter(mail_key__in=keys[:50], ticket_id__isnull=False, recipient_id__isnull=False).values(
        "ticket_id", "recipient_id", "to_address", "kind", "context"
    )
    rows = [row for row in rows if row["to_address"].lower() == message.sender]
    if len({(row["ticket_id"], row["recipient_id"]) for row in rows}) != 1:
        return None
    internal = any(mail_is_internal(row["kind"].value, row["context"]) for row in rows)
    return ReplyToken(ticket_id=rows[0]["ticket_id"], account_id=rows[0]["recipient_id"], internal=internal)


def _own_mail(settings: Settings, message: InboundMessage) -> bool:
    own = parseaddr(settings.mail_from)[1].lower()
    domain = message.sender.rpartition("@")[2]
    return bool(
        message.loop_marker
        or (own and message.sender == own)
        or (settings.inbound_domain and domain == settings.inbound_domain)
    )


def _is_bounce(message: InboundMessage, locals_: list[str], envelope_sender: str | None) -> bool:
    if message.bounce is not None:
        return True
    local = message.sender.partition("@")[0]
    from_daemon = envelope_sender == "" or local in ("mailer-daemon", "postmaster")
    return from_daemon and any(part.startswith(BOUNCE_PREFIX) for part in locals_)


async def _refuse(
    outcome: InboundOutcome, message: InboundMessage, key: str, recipient: str, why: str, code: int = 250
) -> Received:
    """Record (once) and answer a refusal: nothing else is stored."""
    await InboundMail.bulk_create(
        [
            InboundMail(
                message_key=key,
                message_id=(message.message_id or "")[:255],
                outcome=outcome,
                sender=message.sender[:254],
                recipient=recipient[:254],
                received_at=_now(),
            )
        ],
        ignore_conflicts=True,
    )
    logger.info(
        "inbound mail %s from %s to %s refused (%s): %s",
        message.message_id,
        message.sender or "<none>",
        recipient,
        outcome.value,
        why,
    )
    if code == 552:
        return Received(outcome, 552, "5.3.4 Message too big: nothing was stored")
    return Received(outcome)


def _count(received: Received) -> Received:
    INBOUND_MAIL.labels(outcome=received.outcome.value).inc()
    return received


async def receive_message(
    settings: Settings, raw: bytes, recipients: list[str] | None = None, envelope_sender: str | None = None
) -> Received:
    """Handle one RFC 5322 message: store what it causes or refuse it, and say what happened.

    `recipients`: the envelope's RCPT TO (SMTP) or `--recipient`; without them the
    Delivered-To, else the To and Cc headers name the address. Raises when the database fails
    (the caller answers a temporary failure, so the MTA retries).
    """
    return _count(await _receive(settings, raw, recipients or [], envelope_sender))


async def _receive(settings: Settings, raw: bytes, recipients: list[str], envelope_sender: str | None) -> Received:
    # A message over the transport limit is refused whatever it says: only its headers are read.
    message = read_message(raw, headers_only=len(raw) > transport_limit(settings))
    key = message.key(raw)
    addresses = recipients or message.delivered_to or message.to
    locals_ = _local_parts(settings, addresses)
    recipient = f"{locals_[0]}@{settings.inbound_domain}" if locals_ else (addresses[0] if addresses else "")
    if await InboundMail.filter(message_key=key).exists():
        logger.info("inbound mail %s from %s: handled before (duplicate)", message.message_id, message.sender)
        return Received(InboundOutcome.DUPLICATE)
    count = await _count_sender(message.sender) if message.sender else 0

    if _own_mail(settings, message):
        return await _refuse(InboundOutcome.REFUSED_LOOP, message, key, recipient, "our own mail came back")
    if _is_bounce(message, locals_, envelope_sender):
        return await store.record_bounce(settings, message, key, recipient, locals_)
    if message.auto_submitted not in ("", "no") or message.precedence in AUTO_PRECEDENCE:
        why = f"Auto-Submitted: {message.auto_submitted or '-'}, Precedence: {message.precedence or '-'}"
        return await _refuse(InboundOutcome.REFUSED_AUTO, message, key, recipient, why)
    if count > settings.inbound_per_sender_per_hour:
        why = f"{count} messages this hour (limit {settings.inbound_per_sender_per_hour})"
        return await _refuse(InboundOutcome.REFUSED_RATE, message, key, recipient, why)
    if not settings.inbound_domain:
        return await _refuse(InboundOutcome.REFUSED_TOKEN, message, key, recipient, "SITEDESK_INBOUND_DOMAIN is unset")

    token: ReplyToken | None = None
    intake: SiteObject | None = None
    replies = [local for local in locals_ if local.startswith(REPLY_PREFIX)]
    if replies:
        token = read_reply_token(settings, replies[0][len(REPLY_PREFIX) :])
        if token is None:
            return await _refuse(InboundOutcome.REFUSED_TOKEN, message, key, recipient, "a changed or foreign token")
    else:
        candidates = [local for local in locals_ if not local.startswith(BOUNCE_PREFIX)]
        intake = await SiteObject.filter(intake_key__in=candidates).first() if candidates else None
        if intake is None:
            token = await _token_from_references(settings, message)
            if token is None:
                return await _refuse(
                    InboundOutcome.REFUSED_TOKEN, message, key, recipient, "no reply token and no known References"
                )

    if _too_large(settings, raw, message):
        if token is not None:
            await store.explain_too_large(settings, message, token, key)
        return await _refuse(
            InboundOutcome.REFUSED_SIZE, message, key, recipient, f"over {settings.max_upload_mb} MB", code=552
        )
    if token is not None:
        decided = await store.store_reply(settings, message, token, key, recipient)
    else:
        assert intake is not None
        decided = await store.store_intake(settings, message, intake, key, recipient)
    if decided.outcome is InboundOutcome.ACCEPTED or decided.outcome is InboundOutcome.DUPLICATE:
        logger.info(
            "inbound mail %s from %s to %s: %s (ticket %s, comment %s)",
            message.message_id,
            message.sender,
            recipient,
            decided.outcome.value,
            decided.ticket_id,
            decided.comment_id,
        )
        return decided
    return await _refuse(decided.outcome, message, key, recipient, decided.text)
