"""What an accepted message stores: a comment (a reply), a ticket (an intake address), a bounce mark.

Each runs in one transaction that also inserts the message's `inbound_mail` row, the claim of
its Message-ID: a second process with the same message waits for the first (PostgreSQL's unique
index) and then fails its insert, so it answers `duplicate` and stores nothing. Attachments are
stored before that transaction through `files.uploads` (limits, sniffing, content-addressed
storage, claims) and given up again when it does not commit.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.settings import Settings
from files.storage import StoredFile, clean_filename
from files.uploads import Upload, discard_unreferenced, release, store_file
from mail.inbound.parse import InboundMessage
from mail.inbound.text import reply_text, split_internal_marker
from mail.inbound.tokens import BOUNCE_PREFIX, ReplyToken, read_bounce_token
from mail.render import mail_domain
from models.accounts import Account, AccountKind
from models.customers import Customer, SiteObject
from models.inbound_mail import InboundMail, InboundOutcome
from models.notifications import OutboxMail
from models.tickets import CommentSource, TicketSource
from permissions.customers import visible_objects
from permissions.tickets import visible_ticket_types, visible_tickets
from permissions.viewer import Viewer, load_viewer
from resolvers import notifications
from resolvers.inbound_mail.outcome import Received
from resolvers.tickets.write import MAX_TEXT, MAX_TITLE, attach_stored, insert_comment, insert_ticket

logger = logging.getLogger("sitedesk.inbound_mail")

NO_SUBJECT = "(ohne Betreff)"


def _now() -> datetime:
    return datetime.now(UTC)


def _claim(message: InboundMessage, key: str, recipient: str, outcome: InboundOutcome) -> InboundMail:
    return InboundMail(
        message_key=key,
        message_id=(message.message_id or "")[:255],
        outcome=outcome,
        sender=message.sender[:254],
        recipient=recipient[:254],
        received_at=_now(),
    )


def _refused(outcome: InboundOutcome, why: str) -> Received:
    return Received(outcome, text=why)


async def _viewer_of(account_id: int) -> tuple[dict[str, object] | None, Viewer | None]:
    """The account's row and its viewer (None when deactivated), as a signed-in request would load it."""
    rows = await Account.filter(id=account_id).values("id", "email", "kind", "is_active", "token_version")
    if not rows:
        return None, None
    row = rows[0]
    viewer = await load_viewer(row["id"], row["token_version"]) if row["is_active"] else None
    return row, viewer


async def _store_files(settings: Settings, message: InboundMessage) -> list[tuple[str, StoredFile]]:
    """The attachments stored and claimed as uploads are (`files.uploads.store_file`)."""
    stored: list[tuple[str, StoredFile]] = []
    try:
        for part in message.attachments:
            upload = Upload(filename=part.filename or "anhang", stream=io.BytesIO(part.data))
            result = await store_file(settings, upload.stream, settings.max_upload_bytes)
            stored.append((clean_filename(upload.filename, "anhang"), result))
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    return stored


async def store_reply(
    settings: Settings, message: InboundMessage, token: ReplyToken, key: str, recipient: str
) -> Received:
    """A reply from the token's own recipient on a ticket they still see: a comment (and attachments)."""
    account, viewer = await _viewer_of(token.account_id)
    if account is None:
        return _refused(InboundOutcome.REFUSED_TOKEN, "the token's person no longer exists")
    if str(account["email"]).lower() != message.sender:
        return _refused(InboundOutcome.REFUSED_SENDER, f"From is not the token's recipient ({account['email']})")
    if viewer is None:
        return _refused(InboundOutcome.REFUSED_SCOPE, "the token's person is deactivated")
    ticket = await visible_tickets(viewer).filter(id=token.ticket_id).first()
    if ticket is None:
        return _refused(InboundOutcome.REFUSED_SCOPE, "the person no longer sees the ticket")
    text, marked = split_internal_marker(reply_text(message.text))
    internal = False if viewer.is_customer_user else (token.internal or marked)
    text = text[:MAX_TEXT].strip()
    if not text and not message.attachments:
        return _refused(InboundOutcome.REFUSED_EMPTY, "no text beside the quote and no attachment")
    stored = await _store_files(settings, message)
    at = _now()
    try:
        async with in_transaction() as connection:
            claim = _claim(message, key, recipient, InboundOutcome.ACCEPTED)
            claim.ticket_id = ticket.id
            await claim.save(using_db=connection)
            comment = None
            if text:
                comment = await insert_comment(
                    connection, ticket, viewer, text, internal, source=CommentSource.EMAIL, at=at
                )
                await InboundMail.filter(id=claim.id).using_db(connection).update(comment_id=comment.id)
            await attach_stored(connection, ticket.id, viewer.account_id, stored, at)
    except IntegrityError:  # another process stored this Message-ID first
        await discard_unreferenced(settings, [s for _, s in stored])
        return Received(InboundOutcome.DUPLICATE)
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    await release([s for _, s in stored])
    return Received(InboundOutcome.ACCEPTED, ticket_id=ticket.id, comment_id=comment.id if comment else None)


async def store_intake(
    settings: Settings, message: InboundMessage, site_object: SiteObject, key: str, recipient: str
) -> Received:
    """A mail to an object's intake address from a customer user who sees the object: a new ticket."""
    found = await Account.filter(email=message.sender, kind=AccountKind.CUSTOMER_USER).values("id")
    if not message.sender or not found:
        return _refused(InboundOutcome.REFUSED_SENDER, "not a customer user's address")
    _, viewer = await _viewer_of(found[0]["id"])
    if viewer is None:
        return _refused(InboundOutcome.REFUSED_SCOPE, "the customer user is deactivated")
    if not await visible_objects(viewer).filter(id=site_object.id).exists():
        return _refused(InboundOutcome.REFUSED_SCOPE, "the customer user does not see the object")
    customer = await Customer.filter(id=site_object.customer_id).values("mail_ticket_type_id")
    type_id = customer[0]["mail_ticket_type_id"] if customer else None
    if type_id is None or not await visible_ticket_types(viewer).filter(id=type_id).exists():
        return _refused(InboundOutcome.REFUSED_SCOPE, "the customer has no mail ticket type its users may use")
    title = (message.subject or NO_SUBJECT)[:MAX_TITLE].strip() or NO_SUBJECT
    description = message.text.replace("\r\n", "\n").strip()[:MAX_TEXT]
    stored = await _store_files(settings, message)
    at = _now()
    try:
        async with in_transaction() as connection:
            claim = _claim(message, key, recipient, InboundOutcome.ACCEPTED)
            await claim.save(using_db=connection)
            ticket = await insert_ticket(
                connection,
                title=title,
                description=description,
                ticket_type_id=type_id,
                object_id=site_object.id,
                source=TicketSource.EMAIL,
                created_by_id=viewer.account_id,
                at=at,
            )
            await InboundMail.filter(id=claim.id).using_db(connection).update(ticket_id=ticket.id)
            await attach_stored(connection, ticket.id, viewer.account_id, stored, at)
            await notifications.queue_ticket_created(connection, ticket, viewer)
    except IntegrityError:
        await discard_unreferenced(settings, [s for _, s in stored])
        return Received(InboundOutcome.DUPLICATE)
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    await release([s for _, s in stored])
    return Received(InboundOutcome.ACCEPTED, ticket_id=ticket.id)


async def explain_too_large(settings: Settings, message: InboundMessage, token: ReplyToken, key: str) -> None:
    """Mail the token's recipient once (per Message-ID) that their reply was too large and not stored."""
    account, viewer = await _viewer_of(token.account_id)
    if account is None or viewer is None or str(account["email"]).lower() != message.sender:
        return
    ticket = await visible_tickets(viewer).filter(id=token.ticket_id).first()
    if ticket is None:
        return
    try:
        async with in_transaction() as connection:
            await _claim(message, key, str(account["email"]), InboundOutcome.REFUSED_SIZE).save(using_db=connection)
            await notifications.queue_mail_too_large(
                connection, ticket, int(str(account["id"])), settings.max_upload_mb
            )
    except IntegrityError:
        return  # this message was refused (and explained) before


async def record_bounce(
    settings: Settings, message: InboundMessage, key: str, recipient: str, locals_: list[str]
) -> Received:
    """A delivery status notification for one of our mails: its failed address is marked as bouncing.

    Only a bounce that names our mail counts (the signed envelope sender `bounces+…`, or the
    original's Message-ID in the report), so a forged report cannot silence an address.
    """
    mail_keys = [
        found
        for local in locals_
        if local.startswith(BOUNCE_PREFIX) and (found := read_bounce_token(settings, local[len(BOUNCE_PREFIX) :]))
    ]
    ours = "@" + mail_domain(settings.mail_from)
    if message.bounce is not None:
        mail_keys += [ref[: -len(ours)] for ref in message.bounce.original_message_ids if ref.lower().endswith(ours)]
    rows = await OutboxMail.filter(mail_key__in=mail_keys[:20]).values("to_address") if mail_keys else []
    mailed = {row["to_address"].lower() for row in rows}
    failed = set(message.bounce.failed) if message.bounce is not None else set()
    marked = sorted(mailed & failed if failed else (mailed if message.bounce is None else set()))
    async with in_transaction() as connection:
        await InboundMail.bulk_create(
            [_claim(message, key, recipient, InboundOutcome.BOUNCE)], ignore_conflicts=True, using_db=connection
        )
        for address in marked:
            await Account.filter(email=address).using_db(connection).update(mail_bouncing_address=address)
    logger.warning(
        "inbound mail %s: delivery status notification; marked as bouncing: %s",
        message.message_id,
        ", ".join(marked) or "nothing (no failed address of a mail of ours)",
    )
    return Received(InboundOutcome.BOUNCE)
