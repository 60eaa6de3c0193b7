"""The background sender: delivers the outbox over SMTP, or to the log.

`deliver_due()` does one round: claim due rows, send them, mark each sent
or schedule its retry. `MailSender` runs rounds in the server process until
it is stopped. Rows are claimed with a lease (`claim_token`, and
`next_attempt_at` pushed forward) in a short transaction, and sent outside
it; on PostgreSQL the claim skips rows another process has locked
(`FOR UPDATE SKIP LOCKED`), so several processes never claim the same row.
A row is marked sent only by the claim that sent it.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.background import OutboxLoop
from core.database import dialect
from core.metrics import DELIVERY_FAILURES
from core.settings import ConfigurationError, Settings
from mail.inbound.tokens import ReplyToken, bounce_address, reply_address
from mail.render import build_message, mail_is_internal
from models.accounts import Account
from models.notifications import DeliveryStatus, OutboxMail

logger = logging.getLogger("sitedesk.mail")

BATCH_SIZE = 20
# Long enough for a whole batch at the SMTP timeout; a sender that dies
# mid-batch leaves its rows due again after this.
CLAIM_LEASE = timedelta(minutes=15)
SMTP_TIMEOUT_SECONDS = 20
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
# 30 s, 1, 2, 4 … 32 min, then hourly: about 10 hours before a mail is given up.
MAX_ATTEMPTS = 15
POLL_SECONDS = 2.0
LOG_NOTE = "written to the log: SITEDESK_SMTP_URL is not set"
BOUNCING_NOTE = "not sent: the address is bouncing (mailBouncing)"


def utcnow() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after the `attempts`-th failed try."""
    factor: int = 2 ** max(attempts - 1, 0)  # int ** int is typed Any (a negative power is a float)
    return min(RETRY_BASE * factor, RETRY_CAP)


# ---------------------------------------------------------------- transports


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # smtps://: TLS from the first byte
    start_tls: bool = False  # STARTTLS required before anything is sent


SCHEMES = {"smtp": (25, False, False), "smtp+starttls": (587, False, True), "smtps": (465, True, False)}


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://host:port`, `smtp+starttls://user:pass@host:port` (or `?starttls=true`), `smtps://...`."""
    parsed = urlparse(url)
    if parsed.scheme not in SCHEMES or not parsed.hostname:
        raise ConfigurationError(
            "SITEDESK_SMTP_URL must look like smtp://host:port, smtp+starttls://user:pass@host:port "
            "or smtps://user:pass@host:port"
        )
    default_port, use_tls, start_tls = SCHEMES[parsed.scheme]
    flag = parse_qs(parsed.query).get("starttls", [""])[0].lower()
    if flag in {"1", "true", "yes", "on"}:
        if use_tls:
            raise ConfigurationError("SITEDESK_SMTP_URL: smtps:// is TLS already; drop ?starttls")
        start_tls = True
    try:
        port = parsed.port or default_port
    except ValueError:
        raise ConfigurationError("SITEDESK_SMTP_URL has an invalid port") from None
    return SmtpConfig(
        host=parsed.hostname,
        port=port,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password is not None else None,
        use_tls=use_tls,
        start_tls=start_tls,
    )


class Transport(Protocol):
    @property
    def note(self) -> str | None: ...  # read-only: a transport's class says it once

    async def open(self) -> None: ...
    async def send(self, message: EmailMessage, envelope_from: str | None = None) -> None: ...
    async def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection per round (login when the URL has credentials)."""

    note = None

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        config = self.config
        self.client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
            tls_context=ssl.create_default_context() if config.use_tls or config.start_tls else None,
        )
        await self.client.connect()

    async def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        assert self.client is not None
        await self.client.send_message(message, sender=envelope_from)

    async def close(self) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except aiosmtplib.SMTPException:
                self.client.close()
        self.client = None


class LogTransport:
    """Without SITEDESK_SMTP_URL: each mail is written to the log and counts as sent."""

    note = LOG_NOTE

    async def open(self) -> None:
        return None

    async def send(self, message: EmailMessage, envelope_from: str | None = None) -> None:
        text = message.get_body(("plain",))
        logger.info(
            "mail (not sent, no SITEDESK_SMTP_URL) to %s: %s\n%s",
            message["To"],
            message["Subject"],
            text.get_content() if text else "",
        )

    async def close(self) -> None:
        return None


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SmtpTransport(parse_smtp_url(settings.smtp_url))
    return LogTransport()


def is_permanent(exc: BaseException) -> bool:
    """A refusal that no retry can fix: every recipient refused with a 5xx code."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(error.code >= 500 for error in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPRecipientRefused) and exc.code >= 500


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


# ---------------------------------------------------------------- one round


@dataclass
class Delivery:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    ids_sent: list[int] = field(default_factory=list)


CLAIM_POSTGRES = (
    'UPDATE "outbox_mail" SET "claim_token" = $1, "next_attempt_at" = $2 '
    'WHERE "id" IN (SELECT "id" FROM "outbox_mail" WHERE "status" = $3 AND "next_attempt_at" <= $4 '
    'ORDER BY "next_attempt_at", "id" LIMIT $5 FOR UPDATE SKIP LOCKED) '
    'RETURNING "id"'
)


async def claim_due(connection: BaseDBAsyncClient, now: datetime, token: str, limit: int = BATCH_SIZE) -> list[int]:
    """Claim up to `limit` due rows for `token` inside the caller's transaction."""
    until = now + CLAIM_LEASE
    if dialect() == "postgres":
        rows = await connection.execute_query_dict(
            CLAIM_POSTGRES, [token, until, DeliveryStatus.PENDING.value, now, limit]
        )
        return sorted(row["id"] for row in rows)
    # SQLite: one process, one connection held for the transaction.
    # Tortoise types values_list(flat=True) as tuples; the rows are the bare values.
    ids = cast(
        list[int],
        await OutboxMail.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(limit)
        .using_db(connection)
        .values_list("id", flat=True),
    )
    if ids:
        await OutboxMail.filter(id__in=ids).using_db(connection).update(claim_token=token, next_attempt_at=until)
    return sorted(ids)


async def _mark_sent(row: OutboxMail, token: str, now: datetime, note: str | None) -> bool:
    updated = await OutboxMail.filter(id=row.id, claim_token=token, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=now, attempts=row.attempts + 1, claim_token=None, last_error=None, note=note
    )
    if not updated:
        logger.warning("outbox mail %s was sent but its claim had lapsed", row.id)
    return bool(updated)


async def _mark_failed(row: OutboxMail, token: str, now: datetime, exc: BaseException) -> DeliveryStatus:
    attempts = row.attempts + 1
    give_up = is_permanent(exc) or attempts >= MAX_ATTEMPTS
    changes: dict[str, Any] = {"attempts": attempts, "last_error": describe(exc), "claim_token": None}
    if give_up:
        changes["status"] = DeliveryStatus.FAILED
    else:
        changes["next_attempt_at"] = now + retry_delay(attempts)
    await OutboxMail.filter(id=row.id, claim_token=token, status=DeliveryStatus.PENDING).update(**changes)
    DELIVERY_FAILURES.labels(channel="mail", final="true" if give_up else "false").inc()
    log = logger.error if give_up else logger.warning
    log(
        "outbox mail %s to %s failed (attempt %s%s): %s",
        row.id,
        row.to_address,
        attempts,
        ", giving up" if give_up else "",
        describe(exc),
    )
    return DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING


async def _release(ids: list[int], token: str, now: datetime) -> None:
    """Give back claimed rows that were not tried (shutdown mid-round)."""
    if ids:
        await OutboxMail.filter(id__in=ids, claim_token=token, status=DeliveryStatus.PENDING).update(
            claim_token=None, next_attempt_at=now
        )


async def deliver_due(
    settings: Settings, *, now: datetime | None = None, limit: int = BATCH_SIZE, transport: Transport | None = None
) -> Delivery:
    """One round: claim due rows, send them over one connection, record each outcome."""
    now = now or utcnow()
    token = str(uuid.uuid4())
    async with in_transaction() as connection:
        ids = await claim_due(connection, now, token, limit)
    result = Delivery(claimed=len(ids))
    if not ids:
        return result
    rows = await OutboxMail.filter(id__in=ids).order_by("id")
    transport = transport or transport_for(settings)
    pending = [row.id for row in rows]
    bouncing = await _bouncing(rows)

    def count(status: DeliveryStatus) -> None:
        if status is DeliveryStatus.FAILED:
            result.failed += 1
        else:
            result.retrying += 1

    try:
        try:
            await transport.open()
        except Exception as exc:  # server down, TLS or login refused: every row retries later
            for row in rows:
                count(await _mark_failed(row, token, now, exc))
                pending.remove(row.id)
            return result
        try:
            for row in rows:
                if row.to_address.lower() in bouncing:  # marked after the row was queued: not sent
                    await OutboxMail.filter(id=row.id, claim_token=token).update(
                        status=DeliveryStatus.FAILED, claim_token=None, note=BOUNCING_NOTE
                    )
                    result.failed += 1
                    pending.remove(row.id)
                    continue
                try:
                    message = build_message(
                        kind=row.kind.value,
                        context=row.context,
                        locale=row.locale,
                        to_name=row.to_name,
                        to_address=row.to_address,
                        mail_key=row.mail_key,
                        mail_from=settings.mail_from,
                        public_url=settings.public_url,
                        reply_to=_reply_to(settings, row),
                    )
                    await transport.send(message, _envelope_from(settings, row))
                except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError) as exc:
                    # The connection is gone: this row and the rest retry later.
                    for rest in rows[rows.index(row) :]:
                        count(await _mark_failed(rest, token, now, exc))
                        pending.remove(rest.id)
                    return result
                except Exception as exc:
                    count(await _mark_failed(row, token, now, exc))
                else:
                    if await _mark_sent(row, token, now, transport.note):
                        result.sent += 1
                        result.ids_sent.append(row.id)
                pending.remove(row.id)
        finally:
            await transport.close()
    finally:
        await _release(pending, token, now)
    return result


async def _bouncing(rows: list[OutboxMail]) -> set[str]:
    """The addresses among `rows` marked as bouncing (an account whose current address bounced)."""
    addresses = {row.to_address.lower() for row in rows}
    found = await Account.filter(mail_bouncing_address__in=addresses).values("email", "mail_bouncing_address")
    return {row["email"] for row in found if row["email"] == row["mail_bouncing_address"]}


def _reply_to(settings: Settings, row: OutboxMail) -> str | None:
    """`reply+<token>@SITEDESK_INBOUND_DOMAIN` on a mail about a ticket to a person (issue 27)."""
    if not settings.inbound_domain or row.ticket_id is None or row.recipient_id is None:
        return None
    internal = mail_is_internal(row.kind.value, row.context)
    return reply_address(settings, settings.inbound_domain, ReplyToken(row.ticket_id, row.recipient_id, internal))


def _envelope_from(settings: Settings, row: OutboxMail) -> str | None:
    """`bounces+<mail key>-<mac>@SITEDESK_INBOUND_DOMAIN`: a bounce comes back naming this row."""
    if not settings.inbound_domain:
        return None
    return bounce_address(settings, settings.inbound_domain, row.mail_key)


# ---------------------------------------------------------------- the loop


class MailSender(OutboxLoop):
    """Runs `deliver_due` rounds in the background until stopped."""

    name = "mail sender"
    batch_size = BATCH_SIZE

    def __init__(self, settings: Settings, *, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(poll_seconds)
        self.settings = settings
        if settings.smtp_url:
            parse_smtp_url(settings.smtp_url)  # a bad URL stops the start, not the first mail

    def started_note(self) -> str:
        return " (SMTP)" if self.settings.smtp_url else " (log only)"

    async def deliver_round(self) -> int:
        return (await deliver_due(self.settings)).claimed
