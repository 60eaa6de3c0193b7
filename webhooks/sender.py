"""The webhook sender: claims due deliveries, builds each payload as the webhook's account may
see it, signs it (Standard Webhooks) and POSTs it to the checked address.

Like the mail sender (`mail/sender.py`): rows are claimed with a lease in a short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the outbox) and sent outside
it; only the claim that sent a row records its outcome. Retries back off exponentially with
jitter over about three days; 410 Gone disables the webhook at once, and a webhook whose
deliveries have failed for `DISABLE_AFTER` is disabled too — either way its creator is mailed.

Every delivery resolves the host again and refuses non-public addresses (unless
SITEDESK_WEBHOOK_ALLOW_PRIVATE), then connects to the address it checked: the URL is rewritten to
that IP with the `Host` header and TLS server name (SNI and certificate check) set to the name.
No proxy from the environment, no redirects followed, at most `RESPONSE_CAP` bytes of the answer
read, a connect timeout and a total one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.background import OutboxLoop
from core.database import dialect
from core.ids import to_global_id
from core.metrics import DELIVERY_FAILURES
from core.settings import Settings
from mail.render import locale_of, render_subject
from models.accounts import Account
from models.notifications import Audience, NotificationKind, OutboxMail
from models.webhooks import Webhook, WebhookDelivery, WebhookDeliveryStatus
from webhooks.addresses import AddressRefused, parse_url, resolve_public, url_origin
from webhooks.signing import headers as signature_headers

logger = logging.getLogger("sitedesk.webhooks")

BATCH_SIZE = 20
CONCURRENCY = 8
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 15.0
RESPONSE_CAP = 4096  # bytes of a response body read (and kept, shortened, for a failure)
# Long enough for a whole batch at the total timeout.
CLAIM_LEASE = timedelta(minutes=10)
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=12)
JITTER = 0.2  # each wait is lengthened by up to 20 %, so retries of many hooks spread out
# 30 s doubling to 12 h: attempt 17 comes about 77 hours (3.2 days) after the first; then FAILED.
MAX_ATTEMPTS = 17
# A webhook whose deliveries have failed without a success for this long is disabled.
DISABLE_AFTER = timedelta(days=3)
POLL_SECONDS = 2.0
DUE = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.RETRYING)
USER_AGENT = "Sitedesk-Webhooks/1"
# The trust store for receivers' certificates: None is the system's default (certifi via httpx).
# Tests set a context trusting their own CA; a deployment with an in-house CA could too.
TLS_CONTEXT: ssl.SSLContext | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempts: int, jitter: float = 0.0) -> timedelta:
    """The wait after the `attempts`-th failed try; `jitter` in [0, 1) lengthens it by up to JITTER."""
    factor: int = 2 ** max(attempts - 1, 0)
    return min(RETRY_BASE * factor, RETRY_CAP) * (1 + JITTER * jitter)


def latest_retry(attempts: int) -> timedelta:
    """The longest `retry_delay(attempts, jitter)` can be."""
    return retry_delay(attempts, 1.0)


@dataclass(frozen=True)
class Dropped:
    """A payload builder's answer for an event the webhook's account may not see: nothing is sent."""

    reason: str


# Builds `data` of the payload for one delivery as the webhook's account sees it now.
PayloadBuilder = Callable[[Webhook, WebhookDelivery], Awaitable["dict[str, Any] | Dropped"]]


@dataclass
class Round:
    """What one round did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    disabled: list[int] = field(default_factory=list)

    def count(self, status: WebhookDeliveryStatus) -> None:
        name = {
            WebhookDeliveryStatus.DELIVERED: "delivered",
            WebhookDeliveryStatus.RETRYING: "retrying",
            WebhookDeliveryStatus.FAILED: "failed",
            WebhookDeliveryStatus.SKIPPED: "skipped",
        }.get(status)
        if name:
            setattr(self, name, getattr(self, name) + 1)


@dataclass
class Outcome:
    """One HTTP attempt."""

    status: int | None = None
    error: str | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# ---------------------------------------------------------------- claiming

CLAIM_POSTGRES = (
    'UPDATE "webhook_delivery" SET "claim_token" = $1, "next_attempt_at" = $2 '
    'WHERE "id" IN (SELECT "d"."id" FROM "webhook_delivery" "d" JOIN "webhook" "w" ON "w"."id" = "d"."webhook_id" '
    'WHERE "d"."status" IN ($3, $4) AND "d"."next_attempt_at" <= $5 AND "w"."enabled" '
    'ORDER BY "d"."next_attempt_at", "d"."id" LIMIT $6 FOR UPDATE OF "d" SKIP LOCKED) '
    'RETURNING "id"'
)


async def claim_due(connection: BaseDBAsyncClient, now: datetime, token: str, limit: int = BATCH_SIZE) -> list[int]:
    """Claim up to `limit` due deliveries of enabled webhooks for `token`, in the caller's transaction."""
    until = now + CLAIM_LEASE
    if dialect() == "postgres":
        rows = await connection.execute_query_dict(
            CLAIM_POSTGRES, [token, until, DUE[0].value, DUE[1].value, now, limit]
        )
        return sorted(row["id"] for row in rows)
    ids = cast(
        list[int],
        await WebhookDelivery.filter(status__in=DUE, next_attempt_at__lte=now, webhook__enabled=True)
        .order_by("next_attempt_at", "id")
        .limit(limit)
        .using_db(connection)
        .values_list("id", flat=True),
    )
    if ids:
        await WebhookDelivery.filter(id__in=ids).using_db(connection).update(claim_token=token, next_attempt_at=until)
    return sorted(ids)


# ---------------------------------------------------------------- one HTTP attempt


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        verify=TLS_CONTEXT if TLS_CONTEXT is not None else True,
        trust_env=False,  # an environment proxy would resolve the name itself
        timeout=httpx.Timeout(TOTAL_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=0),
    )


async def post(
    client: httpx.AsyncClient, settings: Settings, url: str, headers: dict[str, str], body: bytes
) -> Outcome:
    """POST `body` to `url`'s host at an address checked now; never raises."""
    started = time.monotonic()
    outcome = Outcome()
    try:
        target = parse_url(url, allow_http=settings.webhook_allow_http)
        addresses = await resolve_public(target, allow_private=settings.webhook_allow_private)
        extensions: dict[str, Any] = {}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host  # certificate checked against the name, not the IP
        sent_headers = {
            **headers,
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        async with asyncio.timeout(TOTAL_TIMEOUT_SECONDS):
            for index, address in enumerate(addresses):  # the checked addresses only, in resolver order
                request = client.build_request(
                    "POST", target.url_for(address), headers=sent_headers, content=body, extensions=extensions
                )
                try:
                    response = await client.send(request, stream=True)
                except httpx.ConnectError:
                    if index == len(addresses) - 1:
                        raise
                    continue
                break
            try:
                outcome.status = response.status_code
                excerpt = b""
                async for chunk in response.aiter_raw():
                    excerpt += chunk
                    if len(excerpt) >= RESPONSE_CAP:
                        break
            finally:
                await response.aclose()
        if not outcome.ok:
            text = excerpt[:RESPONSE_CAP].decode("utf-8", "replace").strip()
            outcome.error = f"HTTP {response.status_code}" + (f": {text[:500]}" if text else "")
    except AddressRefused as exc:
        outcome.error = f"refused: {exc}"
    except TimeoutError:
        outcome.error = f"timed out after {TOTAL_TIMEOUT_SECONDS:.0f} s"
    except httpx.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


# ---------------------------------------------------------------- outcomes


def envelope(delivery: WebhookDelivery, data: dict[str, Any]) -> bytes:
    """The JSON body: {type, timestamp, data}."""
    timestamp = delivery.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"type": delivery.event.value, "timestamp": timestamp, "data": data})


async def _finish(delivery: WebhookDelivery, token: str, **changes: Any) -> bool:
    updated = await WebhookDelivery.filter(id=delivery.id, claim_token=token, status__in=DUE).update(
        claim_token=None, **changes
    )
    if not updated:
        logger.warning("webhook delivery %s: its claim had lapsed, outcome not recorded", delivery.id)
    return bool(updated)


async def disable(webhook_id: int, reason: str) -> bool:
    """Disable the webhook (if enabled) and mail its creator, in one transaction."""
    async with in_transaction() as connection:
        updated = (
            await Webhook.filter(id=webhook_id, enabled=True)
            .using_db(connection)
            .update(enabled=False, disabled_reason=reason[:300], updated_at=utcnow())
        )
        if not updated:
            return False
        webhook = await Webhook.get(id=webhook_id, using_db=connection)
        await queue_disabled_mail(connection, webhook, reason)
    logger.error("webhook %s (%s) disabled: %s", webhook_id, url_origin(webhook.url), reason)
    return True


async def queue_disabled_mail(connection: Any, webhook: Webhook, reason: str) -> None:
    """A mail to the admin who created the webhook (through the mail outbox)."""
    if webhook.created_by_id is None:
        return
    owner = await Account.filter(id=webhook.created_by_id, is_active=True).using_db(connection).first()
    if owner is None:
        return
    locale = locale_of(owner.locale)
    context = {
        "webhook_id_global": str(to_global_id("Webhook", webhook.id)),
        "webhook_url": webhook.url,
        "reason": reason,
    }
    at = utcnow()
    await OutboxMail.create(
        recipient_id=owner.id,
        audience=Audience.EMPLOYEE,
        kind=NotificationKind.WEBHOOK_DISABLED,
        to_address=owner.email,
        to_name=owner.name,
        locale=locale,
        subject=render_subject(NotificationKind.WEBHOOK_DISABLED.value, context, locale),
        context=context,
        mail_key=str(uuid.uuid4()),
        next_attempt_at=at,
        created_at=at,
        using_db=connection,
    )


async def _failed(delivery: WebhookDelivery, token: str, now: datetime, outcome: Outcome, result: Round) -> None:
    webhook_id = delivery.webhook_id
    attempts = delivery.attempts + 1
    gone = outcome.status == 410
    give_up = gone or attempts >= MAX_ATTEMPTS
    status = WebhookDeliveryStatus.FAILED if give_up else WebhookDeliveryStatus.RETRYING
    changes: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "http_status": outcome.status,
        "duration_ms": outcome.duration_ms,
        "last_error": outcome.error,
    }
    if not give_up:
        changes["next_attempt_at"] = now + retry_delay(attempts, random.random())
    if await _finish(delivery, token, **changes):
        result.count(status)
        DELIVERY_FAILURES.labels(channel="webhooks", final="true" if give_up else "false").inc()
    (logger.error if give_up else logger.warning)(
        "webhook %s delivery %s (%s) failed, attempt %s%s: %s",
        webhook_id,
        delivery.id,
        delivery.message_id,
        attempts,
        ", giving up" if give_up else "",
        outcome.error,
    )
    await Webhook.filter(id=webhook_id, failing_since__isnull=True).update(failing_since=now)
    if gone:
        reason = "The endpoint answered 410 Gone."
    else:
        since = await Webhook.filter(id=webhook_id).values_list("failing_since", flat=True)
        failing_since = cast(list[datetime | None], since)
        if not failing_since or failing_since[0] is None or failing_since[0] > now - DISABLE_AFTER:
            return
        reason = f"Every delivery has failed since {failing_since[0].isoformat()} (last: {outcome.error})."
    if await disable(webhook_id, reason):
        result.disabled.append(webhook_id)


async def send_one(
    client: httpx.AsyncClient,
    settings: Settings,
    build: PayloadBuilder,
    delivery: WebhookDelivery,
    token: str,
    now: datetime,
    result: Round,
) -> None:
    webhook = delivery.webhook
    try:
        data = await build(webhook, delivery)
    except Exception as exc:  # a bug building one payload must not stop the others: retry later
        logger.exception("webhook delivery %s: building the payload failed", delivery.id)
        await _failed(delivery, token, now, Outcome(error=f"payload: {type(exc).__name__}"), result)
        return
    if isinstance(data, Dropped):
        logger.info(
            "webhook %s delivery %s (%s %s) dropped: %s",
            webhook.id,
            delivery.id,
            delivery.event.value,
            delivery.message_id,
            data.reason,
        )
        if await _finish(delivery, token, status=WebhookDeliveryStatus.SKIPPED, last_error=data.reason):
            result.count(WebhookDeliveryStatus.SKIPPED)
        return
    body = envelope(delivery, data)
    # The time of this attempt (the round may have started a little earlier, or run on a test clock).
    headers = signature_headers(webhook.secret, delivery.message_id, int(time.time()), body)
    outcome = await post(client, settings, webhook.url, headers, body)
    if not outcome.ok:
        await _failed(delivery, token, now, outcome, result)
        return
    if await _finish(
        delivery,
        token,
        status=WebhookDeliveryStatus.DELIVERED,
        attempts=delivery.attempts + 1,
        http_status=outcome.status,
        duration_ms=outcome.duration_ms,
        delivered_at=now,
        last_error=None,
    ):
        result.count(WebhookDeliveryStatus.DELIVERED)
    await Webhook.filter(id=webhook.id, failing_since__isnull=False).update(failing_since=None)


async def deliver_due(
    settings: Settings, build: PayloadBuilder, *, now: datetime | None = None, limit: int = BATCH_SIZE
) -> Round:
    """One round: claim due deliveries and send them, a few at a time."""
    now = now or utcnow()
    token = str(uuid.uuid4())
    async with in_transaction() as connection:
        ids = await claim_due(connection, now, token, limit)
    result = Round(claimed=len(ids))
    if not ids:
        return result
    deliveries = await WebhookDelivery.filter(id__in=ids).select_related("webhook").order_by("id")
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(delivery: WebhookDelivery) -> None:
        async with gate:
            await send_one(client, settings, build, delivery, token, now, result)

    try:
        async with _client() as client:
            await asyncio.gather(*(one(d) for d in deliveries))
    finally:
        # Rows not finished (cancelled mid-round): due again now rather than after the lease.
        await WebhookDelivery.filter(id__in=ids, claim_token=token, status__in=DUE).update(
            claim_token=None, next_attempt_at=now
        )
    return result


# ---------------------------------------------------------------- the loop


class WebhookSender(OutboxLoop):
    """Runs `deliver_due` rounds in the background until stopped."""

    name = "webhook sender"
    batch_size = BATCH_SIZE

    def __init__(self, settings: Settings, build: PayloadBuilder, *, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(poll_seconds)
        self.settings = settings
        self.build = build

    async def deliver_round(self) -> int:
        return (await deliver_due(self.settings, self.build)).claimed
