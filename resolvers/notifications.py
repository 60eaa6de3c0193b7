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
- nobody is mailed about their own action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tortoise.queryset import QuerySet

from mail.render import LOCALES, locale_of, render_subject
from models.accounts import Account, AccountKind, CustomerUser, Employee
from models.customers import SiteObject
from models.notifications import Audience, NotificationKind, OutboxMail
from models.tickets import Comment, Ticket, TicketSource, TicketStatus, TicketType
from permissions.notifications import visible_notifications
from permissions.tickets import visible_tickets
from permissions.viewer import Viewer
from resolvers.errors import BadUserInput, NotFound
from schema.relay import to_global_id

# Which account switch turns each optional mail off; None: cannot be switched off.
CUSTOMER_STATUS_MAILS = {TicketStatus.IN_PROGRESS: "notify_status_changes", TicketStatus.DONE: None}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _global_ticket_id(ticket_id: int) -> str:
    return str(to_global_id("Ticket", ticket_id))  # the id the client's ticket page uses


async def _ticket_facts(connection: Any, ticket: Ticket) -> dict[str, Any]:
    """What every mail about `ticket` shows; all of it is visible in the portal too."""
    site = await SiteObject.filter(id=ticket.object_id).using_db(connection).first()
    kind = await TicketType.filter(id=ticket.ticket_type_id).using_db(connection).first()
    return {
        "ticket_id": ticket.id,
        "ticket_id_global": _global_ticket_id(ticket.id),
        "ticket_number": ticket.number,
        "ticket_title": ticket.title,
        "object_name": site.name if site else "",
        "ticket_type_name": kind.name if kind else "",
        "status": ticket.status.value,
    }


async def _customer_sees(connection: Any, account: Account, ticket_id: int) -> bool:
    """Whether the customer user behind `account` can open the ticket in the portal right now."""
    user = await CustomerUser.filter(account_id=account.id).using_db(connection).first()
    if user is None:
        return False
    viewer = Viewer(account_id=account.id, kind=AccountKind.CUSTOMER_USER,
                    customer_user_id=user.id, customer_id=user.customer_id)
    return await visible_tickets(viewer).filter(id=ticket_id).using_db(connection).exists()


async def _queue(connection: Any, ticket: Ticket, account: Account | None, kind: NotificationKind,
                 context: dict[str, Any], actor: Viewer, switch: str | None) -> OutboxMail | None:
    """One row for `account`, unless it is the actor's, inactive, switched off or out of scope."""
    if account is None or not account.is_active or account.id == actor.account_id:
        return None
    if switch is not None and not getattr(account, switch):
        return None
    audience = Audience.EMPLOYEE if account.kind is AccountKind.EMPLOYEE else Audience.CUSTOMER_USER
    if audience is Audience.CUSTOMER_USER and not await _customer_sees(connection, account, ticket.id):
        return None
    locale = locale_of(account.locale)
    at = _now()
    return await OutboxMail.create(
        ticket_id=ticket.id, recipient_id=account.id, audience=audience, kind=kind,
        to_address=account.email, to_name=account.name, locale=locale,
        subject=render_subject(kind.value, context, locale), context=context,
        mail_key=str(uuid.uuid4()), next_attempt_at=at, created_at=at, using_db=connection)


async def _portal_creator(connection: Any, ticket: Ticket) -> Account | None:
    """The customer user who created the ticket through the portal, if one did."""
    if ticket.source is not TicketSource.PORTAL or ticket.created_by_id is None:
        return None
    account = await Account.filter(id=ticket.created_by_id).using_db(connection).first()
    return account if account and account.kind is AccountKind.CUSTOMER_USER else None


async def _assignee(connection: Any, employee_id: int | None) -> Account | None:
    if employee_id is None:
        return None
    employee = await Employee.filter(id=employee_id).using_db(connection).first()
    if employee is None:
        return None
    return await Account.filter(id=employee.account_id).using_db(connection).first()


def _display_name(viewer: Viewer) -> str:
    return viewer.name or "Sitedesk"


async def queue_ticket_created(connection: Any, ticket: Ticket, actor: Viewer) -> None:
    """A new ticket with an assignee: the assignee hears of it (unless they created it)."""
    if ticket.assignee_id is None:
        return
    assignee = await _assignee(connection, ticket.assignee_id)
    context = {**await _ticket_facts(connection, ticket), "actor_name": _display_name(actor),
               "description": ticket.description}
    if actor.is_customer_user:
        await _queue(connection, ticket, assignee, NotificationKind.TICKET_CREATED, context, actor,
                     "notify_new_tickets")
    else:
        await _queue(connection, ticket, assignee, NotificationKind.ASSIGNED, context, actor,
                     "notify_assignments")


async def queue_assigned(connection: Any, ticket: Ticket, assignee_id: int | None, actor: Viewer) -> None:
    """The new assignee hears of it, unless they assigned it to themselves."""
    if assignee_id is None:
        return
    assignee = await _assignee(connection, assignee_id)
    context = {**await _ticket_facts(connection, ticket), "actor_name": _display_name(actor),
               "description": ticket.description}
    await _queue(connection, ticket, assignee, NotificationKind.ASSIGNED, context, actor,
                 "notify_assignments")


async def queue_status_changed(connection: Any, ticket: Ticket, status: TicketStatus, actor: Viewer) -> None:
    """The portal creator hears of IN_PROGRESS (optional) and DONE (always)."""
    if status not in CUSTOMER_STATUS_MAILS:
        return
    creator = await _portal_creator(connection, ticket)
    if creator is None:
        return
    context = {**await _ticket_facts(connection, ticket), "status": status.value}
    await _queue(connection, ticket, creator, NotificationKind.STATUS_CHANGED, context, actor,
                 CUSTOMER_STATUS_MAILS[status])


async def queue_comment_added(connection: Any, ticket: Ticket, comment: Comment, actor: Viewer) -> None:
    """Portal creator: others' non-internal comments. Assignee: comments by customer users."""
    facts = await _ticket_facts(connection, ticket)
    context = {**facts, "actor_name": _display_name(actor), "comment_author": _display_name(actor),
               "comment_body": comment.body}
    if not comment.internal:
        creator = await _portal_creator(connection, ticket)
        await _queue(connection, ticket, creator, NotificationKind.COMMENT_ADDED, context, actor,
                     "notify_comments")
    if actor.is_customer_user and ticket.assignee_id is not None:
        assignee = await _assignee(connection, ticket.assignee_id)
        await _queue(connection, ticket, assignee, NotificationKind.COMMENT_ADDED, context, actor,
                     "notify_comments")


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
        return cls(locale=locale_of(account.locale), comments=account.notify_comments,
                   status_changes=account.notify_status_changes,
                   assignments=account.notify_assignments, new_tickets=account.notify_new_tickets)


SETTING_COLUMNS = {"comments": "notify_comments", "status_changes": "notify_status_changes",
                   "assignments": "notify_assignments", "new_tickets": "notify_new_tickets"}


async def notification_settings(viewer: Viewer) -> NotificationSettings:
    account = await Account.get(id=viewer.account_id)
    return NotificationSettings.of(account)


async def update_notification_settings(viewer: Viewer, locale: str | None = None,
                                       **switches: bool | None) -> NotificationSettings:
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


async def notifications_of_ticket(viewer: Viewer, ticket_id: int) -> QuerySet[OutboxMail]:
    """What was queued for a ticket the viewer may see, newest first."""
    if not await visible_tickets(viewer).filter(id=ticket_id).exists():
        raise NotFound("No ticket with this ID.", field="ticketId")
    return visible_notifications(viewer).filter(ticket_id=ticket_id).order_by("-created_at", "-id")
