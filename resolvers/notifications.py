"""Who gets which mail, and the notification settings of an account.

The `queue_*` functions run inside the transaction of the change that causes
a mail (they take its connection), so an outbox row commits or rolls back
with that change. Each writes one row per recipient: employees and customer
users never share a message, and what a customer's row carries is chosen
here from what the customer sees in the portal (never internal comments,
never an employee's email).

Rules:
- a ticket's portal creator (a customer user): another person's non-internal
  comment, the status set to IN_PROGRESS (optional) or DONE (always);
- an employee: a ticket assigned to them by someone else, and a customer
  user creating or commenting on a ticket assigned to them;
- the object's responsible employees: a ticket created on it without
  assignee by a customer user or by a form (their "new tickets" switch);
- workflow (issue 18): the portal creator's DONE mail of a confirming type
  names the last day to confirm or reopen; the assignee hears of a customer
  user reopening a ticket or rating it low (≤ `LOW_RATING`), both under
  their "status changes" switch;
- nobody is mailed about their own action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from core.errors import BadUserInput
from core.ids import to_global_id
from core.keyset import Listing, Window
from core.lookup import get_in_scope
from mail.render import LOCALES, locale_of, render_subject
from models.accounts import Account, AccountKind
from models.notifications import Audience, NotificationKind, OutboxMail
from models.tickets import Comment, Ticket, TicketSource, TicketStatus
from permissions.notifications import visible_notifications
from permissions.tickets import visible_tickets
from permissions.viewer import Viewer

# Which account switch turns each optional mail off; None: cannot be switched off.
CUSTOMER_STATUS_MAILS = {TicketStatus.IN_PROGRESS: "notify_status_changes", TicketStatus.DONE: None}
# A customer's rating at or below this mails the assignee.
LOW_RATING = 2


def _now() -> datetime:
    return datetime.now(UTC)


def _global_ticket_id(ticket_id: int) -> str:
    return str(to_global_id("Ticket", ticket_id))  # the id the client's ticket page uses


# What `_mail` reads of a recipient's account, loaded with the ticket's facts.
RECIPIENT_COLUMNS = (
    "id",
    "kind",
    "name",
    "email",
    "locale",
    "is_active",
    "notify_comments",
    "notify_status_changes",
    "notify_assignments",
    "notify_new_tickets",
    "mail_bouncing_address",
)


@dataclass
class _Mailing:
    """The mails one change causes: the ticket's facts and its recipients, loaded in one query."""

    context: dict[str, Any]
    creator: SimpleNamespace | None = None
    assignee: SimpleNamespace | None = None


def _account(row: dict[str, Any], prefix: str) -> SimpleNamespace | None:
    if row[prefix + "id"] is None:
        return None
    return SimpleNamespace(
        **{name: row[prefix + name] for name in RECIPIENT_COLUMNS},
        customer_user_id=row.get(prefix + "customer_user__id"),
        customer_id=row.get(prefix + "customer_user__customer_id"),
    )


async def _mailing(connection: Any, ticket: Ticket, creator: bool = False, assignee_id: int | None = None) -> _Mailing:
    """What every mail about `ticket` shows (all of it visible in the portal too), with the accounts
    of its portal creator and of employee `assignee_id` if asked for: one joined query."""
    columns = ["object__name", "ticket_type__name", "assignee_id"]
    if creator:
        columns += [f"created_by__{name}" for name in RECIPIENT_COLUMNS]
        columns += ["created_by__customer_user__id", "created_by__customer_user__customer_id"]
    if assignee_id is not None:
        columns += [f"assignee__account__{name}" for name in RECIPIENT_COLUMNS]
    rows = await Ticket.filter(id=ticket.id).using_db(connection).values(*columns)
    row = rows[0] if rows else {name: None for name in columns}
    mailing = _Mailing(
        context={
            "ticket_id": ticket.id,
            "ticket_id_global": _global_ticket_id(ticket.id),
            "ticket_number": ticket.number,
            "ticket_title": ticket.title,
            "object_name": row["object__name"] or "",
            "ticket_type_name": row["ticket_type__name"] or "",
            "status": ticket.status.value,
        }
    )
    if creator:
        account = _account(row, "created_by__")
        mailing.creator = account if account and account.kind is AccountKind.CUSTOMER_USER else None
    if assignee_id is not None:
        if row["assignee_id"] == assignee_id:
            mailing.assignee = _account(row, "assignee__account__")
        else:  # a caller naming an assignee the row does not hold (yet)
            accounts = await Account.filter(employee__id=assignee_id).using_db(connection).values(*RECIPIENT_COLUMNS)
            mailing.assignee = _account(accounts[0], "") if accounts else None
    return mailing


async def _customer_sees(connection: Any, account: SimpleNamespace, ticket_id: int) -> bool:
    """Whether the customer user behind `account` can open the ticket in the portal right now."""
    if account.customer_user_id is None:
        return False
    viewer = Viewer(
        account_id=account.id,
        kind=AccountKind.CUSTOMER_USER,
        customer_user_id=account.customer_user_id,
        customer_id=account.customer_id,
    )
    return await visible_tickets(viewer).filter(id=ticket_id).using_db(connection).exists()


async def _mail(
    connection: Any,
    ticket: Ticket,
    account: SimpleNamespace | None,
    kind: NotificationKind,
    context: dict[str, Any],
    actor: Viewer,
    switch: str | None,
) -> OutboxMail | None:
    """One unsaved row for `account`, unless it is the actor's, inactive, switched off or out of scope."""
    if account is None or not account.is_active or account.id == actor.account_id:
        return None
    if account.mail_bouncing_address and account.mail_bouncing_address == account.email:
        return None  # the address bounced (issue 27): no mail until it changes or an administrator clears it
    if switch is not None and not getattr(account, switch):
        return None
    audience = Audience.EMPLOYEE if account.kind is AccountKind.EMPLOYEE else Audience.CUSTOMER_USER
    if audience is Audience.CUSTOMER_USER and not await _customer_sees(connection, account, ticket.id):
        return None
    locale = locale_of(account.locale)
    at = _now()
    return OutboxMail(
        ticket_id=ticket.id,
        recipient_id=account.id,
        audience=audience,
        kind=kind,
        to_address=account.email,
        to_name=account.name,
        locale=locale,
        subject=render_subject(kind.value, context, locale),
        context=context,
        mail_key=str(uuid.uuid4()),
        next_attempt_at=at,
        created_at=at,
    )


async def _save(connection: Any, mails: list[OutboxMail | None]) -> None:
    """Every row of one change in one statement."""
    rows = [mail for mail in mails if mail is not None]
    if rows:
        await OutboxMail.bulk_create(rows, using_db=connection)


def _portal_created(ticket: Ticket, actor: Viewer) -> bool:
    """Whether the ticket may have a portal creator other than the actor (the row tells)."""
    return (
        ticket.source in (TicketSource.PORTAL, TicketSource.EMAIL)
        and ticket.created_by_id is not None
        and ticket.created_by_id != actor.account_id
    )


def _other_assignee(assignee_id: int | None, actor: Viewer) -> int | None:
    """`assignee_id`, unless none or the actor's own employee id."""
    if assignee_id is None or assignee_id == actor.employee_id:
        return None
    return assignee_id


def _display_name(viewer: Viewer) -> str:
    return viewer.name or "Sitedesk"


async def queue_ticket_created(connection: Any, ticket: Ticket, actor: Viewer) -> None:
    """A new ticket with an assignee: the assignee hears of it (unless they created it). Without
    one, when a customer user or a form created it, the object's responsible employees do."""
    if ticket.assignee_id is None:
        if actor.is_customer_user or ticket.source is TicketSource.FORM:
            await _queue_to_responsibles(connection, ticket, actor)
        return
    assignee_id = _other_assignee(ticket.assignee_id, actor)
    if assignee_id is None:
        return
    mailing = await _mailing(connection, ticket, assignee_id=assignee_id)
    context = {**mailing.context, "actor_name": _display_name(actor), "description": ticket.description}
    if actor.is_customer_user:
        mail = await _mail(
            connection, ticket, mailing.assignee, NotificationKind.TICKET_CREATED, context, actor, "notify_new_tickets"
        )
    else:
        mail = await _mail(
            connection, ticket, mailing.assignee, NotificationKind.ASSIGNED, context, actor, "notify_assignments"
        )
    await _save(connection, [mail])


async def _queue_to_responsibles(connection: Any, ticket: Ticket, actor: Viewer) -> None:
    """TICKET_CREATED to each employee responsible for the ticket's object (not the actor)."""
    accounts = await (
        Account.filter(
            employee__responsible_for_links__object_id=ticket.object_id,
            is_active=True,
            notify_new_tickets=True,
        )
        .exclude(id=actor.account_id or 0)
        .using_db(connection)
        .values(*RECIPIENT_COLUMNS)
    )
    if not accounts:
        return
    mailing = await _mailing(connection, ticket)
    context = {
        **mailing.context,
        "actor_name": _display_name(actor),
        "description": ticket.description,
        "responsible": True,
    }
    mails = []
    for row in sorted(accounts, key=lambda r: r["id"]):
        account = _account(row, "")
        mails.append(
            await _mail(
                connection, ticket, account, NotificationKind.TICKET_CREATED, context, actor, "notify_new_tickets"
            )
        )
    await _save(connection, mails)


async def queue_assigned(connection: Any, ticket: Ticket, assignee_id: int | None, actor: Viewer) -> None:
    """The new assignee hears of it, unless they assigned it to themselves."""
    assignee_id = _other_assignee(assignee_id, actor)
    if assignee_id is None:
        return
    mailing = await _mailing(connection, ticket, assignee_id=assignee_id)
    context = {**mailing.context, "actor_name": _display_name(actor), "description": ticket.description}
    await _save(
        connection,
        [
            await _mail(
                connection, ticket, mailing.assignee, NotificationKind.ASSIGNED, context, actor, "notify_assignments"
            )
        ],
    )


async def queue_status_changed(
    connection: Any, ticket: Ticket, status: TicketStatus, actor: Viewer, window_ends_at: datetime | None = None
) -> None:
    """The portal creator hears of IN_PROGRESS (optional) and DONE (always); a DONE of a type that asks
    for confirmation says until when they may confirm or reopen (`window_ends_at`)."""
    if status not in CUSTOMER_STATUS_MAILS or not _portal_created(ticket, actor):
        return
    mailing = await _mailing(connection, ticket, creator=True)
    if mailing.creator is None:
        return
    context = {**mailing.context, "status": status.value}
    if window_ends_at is not None:
        context["confirm_until"] = window_ends_at.astimezone(UTC).date().isoformat()
    await _save(
        connection,
        [
            await _mail(
                connection,
                ticket,
                mailing.creator,
                NotificationKind.STATUS_CHANGED,
                context,
                actor,
                CUSTOMER_STATUS_MAILS[status],
            )
        ],
    )


async def _queue_to_assignee(
    connection: Any, ticket: Ticket, kind: NotificationKind, extra: dict[str, Any], actor: Viewer
) -> None:
    """One mail of `kind` to the ticket's assignee (an employee), under their status-changes switch."""
    assignee_id = _other_assignee(ticket.assignee_id, actor)
    if assignee_id is None:
        return
    mailing = await _mailing(connection, ticket, assignee_id=assignee_id)
    context = {**mailing.context, "actor_name": _display_name(actor), **extra}
    await _save(
        connection,
        [await _mail(connection, ticket, mailing.assignee, kind, context, actor, "notify_status_changes")],
    )


async def queue_reopened(connection: Any, ticket: Ticket, reason: str, actor: Viewer) -> None:
    """A customer user reopened the ticket: the assignee reads who and why."""
    await _queue_to_assignee(connection, ticket, NotificationKind.REOPENED, {"reason": reason}, actor)


async def queue_rated_low(connection: Any, ticket: Ticket, rating: int, feedback: str, actor: Viewer) -> None:
    """A customer user confirmed with a low rating: the assignee (an employee) reads it with the feedback."""
    await _queue_to_assignee(
        connection, ticket, NotificationKind.RATED_LOW, {"rating": rating, "feedback": feedback}, actor
    )


async def queue_comment_added(connection: Any, ticket: Ticket, comment: Comment, actor: Viewer) -> None:
    """Portal creator: others' non-internal comments. Assignee: comments by customer users."""
    creator = not comment.internal and _portal_created(ticket, actor)
    assignee_id = _other_assignee(ticket.assignee_id, actor) if actor.is_customer_user else None
    if not creator and assignee_id is None:
        return
    mailing = await _mailing(connection, ticket, creator=creator, assignee_id=assignee_id)
    context = {
        **mailing.context,
        "actor_name": _display_name(actor),
        "comment_author": _display_name(actor),
        "comment_body": comment.body,
    }
    mails = []
    if creator:
        mails.append(
            await _mail(
                connection, ticket, mailing.creator, NotificationKind.COMMENT_ADDED, context, actor, "notify_comments"
            )
        )
    if assignee_id is not None:
        mails.append(
            await _mail(
                connection, ticket, mailing.assignee, NotificationKind.COMMENT_ADDED, context, actor, "notify_comments"
            )
        )
    await _save(connection, mails)


# ---------------------------------------------------------------- settings and listing


@dataclass(frozen=True)
class NotificationSettings:
    locale: str
    comments: bool
    status_changes: bool
    assignments: bool
    new_tickets: bool

    @classmethod
    def of(cls, account: Account) -> NotificationSettings:
        return cls(
            locale=locale_of(account.locale),
            comments=account.notify_comments,
            status_changes=account.notify_status_changes,
            assignments=account.notify_assignments,
            new_tickets=account.notify_new_tickets,
        )


SETTING_COLUMNS = {
    "comments": "notify_comments",
    "status_changes": "notify_status_changes",
    "assignments": "notify_assignments",
    "new_tickets": "notify_new_tickets",
}


async def notification_settings(viewer: Viewer) -> NotificationSettings:
    account = await Account.get(id=viewer.account_id)
    return NotificationSettings.of(account)


async def update_notification_settings(
    viewer: Viewer, locale: str | None = None, **switches: bool | None
) -> NotificationSettings:
    """Change the viewer's own language and optional notifications; None leaves a value as it is."""
    changes: dict[str, Any] = {}
    if locale is not None:
        if locale not in LOCALES:
            raise BadUserInput(f"The language must be one of {', '.join(LOCALES)}.", field="locale")
        changes["locale"] = locale
    for name, value in switches.items():
        if value is not None:
            changes[SETTING_COLUMNS[name]] = value
    if changes:
        await Account.filter(id=viewer.account_id).update(**changes)
    return await notification_settings(viewer)


NOTIFICATIONS = Listing("notifications", "created_at", descending=True)


async def notification_page(viewer: Viewer, ticket_id: int, window: Window) -> tuple[list[OutboxMail], int]:
    """One page of what was queued for a visible ticket, newest first (`NOTIFICATIONS`), and how many in all."""
    ticket = await get_in_scope(visible_tickets(viewer), ticket_id, "ticket", "ticketId")
    return await NOTIFICATIONS.page(visible_notifications(viewer).filter(ticket_id=ticket.id), window)


async def find_notification(viewer: Viewer, notification_id: int) -> OutboxMail | None:
    return await visible_notifications(viewer).filter(id=notification_id).first()


async def queue_mail_too_large(connection: Any, ticket: Ticket, account_id: int, limit_mb: int) -> None:
    """Tell the sender of a reply by mail that it was too large and not stored (issue 27)."""
    rows = await Account.filter(id=account_id).using_db(connection).values(*RECIPIENT_COLUMNS)
    if not rows:
        return
    mailing = await _mailing(connection, ticket)
    context = {**mailing.context, "limit_mb": limit_mb}
    account = _account({**rows[0], "customer_user__id": None, "customer_user__customer_id": None}, "")
    if account is None or not account.is_active:
        return
    if account.mail_bouncing_address and account.mail_bouncing_address == account.email:
        return
    at = _now()
    locale = locale_of(account.locale)
    audience = Audience.EMPLOYEE if account.kind is AccountKind.EMPLOYEE else Audience.CUSTOMER_USER
    await _save(
        connection,
        [
            OutboxMail(
                ticket_id=ticket.id,
                recipient_id=account.id,
                audience=audience,
                kind=NotificationKind.MAIL_TOO_LARGE,
                to_address=account.email,
                to_name=account.name,
                locale=locale,
                subject=render_subject(NotificationKind.MAIL_TOO_LARGE.value, context, locale),
                context=context,
                mail_key=str(uuid.uuid4()),
                next_attempt_at=at,
                created_at=at,
            )
        ],
    )
