"""Notification mails: the outbox per ticket (employees) and one's own notification settings."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from core.ids import parse_id, to_global_id
from models.notifications import Audience, DeliveryStatus, NotificationKind
from models.notifications import OutboxMail as OutboxMailRow
from permissions.notifications import may_read_notification_settings
from permissions.policy import EMPLOYEES, SIGNED_IN
from resolvers import notifications
from resolvers.notifications import NOTIFICATIONS
from schema.describe import describe_values
from schema.directive import field, mutation, type_policy
from schema.inputs import decoded
from schema.relay import (
    Connection,
    Node,
    Paging,
    connection,
    paged,
)

strawberry.enum(NotificationKind, description="What a notification mail is about.")
strawberry.enum(
    Audience,
    name="NotificationAudience",
    description="Who a mail went to: employees and customer users never share one.",
)
strawberry.enum(DeliveryStatus, description="Where a mail is: waiting (or retrying), sent, or given up.")
describe_values(
    NotificationKind,
    {
        "TICKET_CREATED": "A ticket without assignee was created on an object the recipient is responsible for.",
        "ASSIGNED": "A ticket was assigned to the recipient.",
        "COMMENT_ADDED": "Someone else wrote a (non-internal, for customer users) comment on the ticket.",
        "STATUS_CHANGED": "The ticket went to IN_PROGRESS or DONE.",
        "WEBHOOK_DISABLED": "A webhook the recipient created was disabled after failing (410 Gone, or days of errors).",
        "REOPENED": "A customer user reopened a ticket assigned to the recipient; the mail gives the reason.",
        "RATED_LOW": "A customer user rated the resolution of the recipient's ticket 1 or 2.",
        "MAIL_TOO_LARGE": "The recipient's reply by mail was over SITEDESK_MAX_UPLOAD_MB and was not stored.",
    },
)
describe_values(
    Audience,
    {"EMPLOYEE": "Mailed to an employee.", "CUSTOMER_USER": "Mailed to a customer user."},
)
describe_values(
    DeliveryStatus,
    {
        "PENDING": "Waiting to be sent, or to be retried at `nextAttemptAt` after a failure.",
        "SENT": "Handed to the mail server.",
        "FAILED": "Given up: refused for good, or 15 attempts failed; `lastError` says why.",
    },
)


@strawberry.enum(description="The language of mails: German (default) or English.")
class Locale(Enum):
    DE = strawberry.enum_value("de", description="German (the default).")
    EN = strawberry.enum_value("en", description="English.")


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="Your language and which optional mails you get. The mail to a ticket's "
    "portal creator when it is DONE cannot be switched off.",
)
class NotificationSettings:
    locale: Locale = strawberry.field(description="The language of your mails.")
    comments: bool = strawberry.field(
        description="Customer users: others' comments on tickets you created in the portal. "
        "Employees: customer users' comments on tickets assigned to you."
    )
    status_changes: bool = strawberry.field(
        description="Customer users: your portal ticket is being worked on (IN_PROGRESS)."
    )
    assignments: bool = strawberry.field(description="Employees: a ticket was assigned to you.")
    new_tickets: bool = strawberry.field(description="Employees: a customer user created a ticket assigned to you.")

    @classmethod
    def of(cls, found: notifications.NotificationSettings) -> NotificationSettings:
        return cls(
            locale=Locale(found.locale),
            comments=found.comments,
            status_changes=found.status_changes,
            assignments=found.assignments,
            new_tickets=found.new_tickets,
        )


async def settings_of_account(info: strawberry.Info, account_id: int) -> NotificationSettings | None:
    """The settings of `account_id` when they are the viewer's own, else null (for `me`)."""
    viewer = info.context.viewer
    if not may_read_notification_settings(viewer, account_id):
        return None
    return NotificationSettings.of(await notifications.notification_settings(viewer))


@strawberry.type(
    directives=type_policy(EMPLOYEES),
    description="One notification mail: to whom, about what, and whether it went out.",
)
class Notification(Node):
    kind: NotificationKind = strawberry.field(description="What the mail is about.")
    audience: Audience = strawberry.field(description="Whether it went to an employee or a customer user.")
    recipient_name: str = strawberry.field(description="The recipient's name.")
    recipient_email: str = strawberry.field(description="The address it was (or is to be) sent to.")
    locale: Locale = strawberry.field(description="The language it is written in.")
    subject: str = strawberry.field(description="The mail's subject line.")
    status: DeliveryStatus = strawberry.field(description="Whether it is waiting, sent or given up.")
    attempts: int = strawberry.field(description="Delivery attempts so far.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    note: str | None = strawberry.field(description="E.g. that it went to the log because no SMTP server is set.")
    created_at: datetime = strawberry.field(description="When it was queued (with the change that caused it).")
    next_attempt_at: datetime | None = strawberry.field(description="When a pending mail is tried next.")
    sent_at: datetime | None = strawberry.field(description="When the mail server took it; null until then.")

    @classmethod
    def from_row(cls, row: OutboxMailRow) -> Notification:
        return cls(
            id=to_global_id("Notification", row.id),
            kind=row.kind,
            audience=row.audience,
            recipient_name=row.to_name,
            recipient_email=row.to_address,
            locale=Locale(row.locale),
            subject=row.subject,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            note=row.note,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if row.status is DeliveryStatus.PENDING else None,
            sent_at=row.sent_at,
        )


@strawberry.input(description="Changes to your own notification settings; absent fields stay as they are.")
class UpdateNotificationSettingsInput:
    locale: Locale | None = strawberry.field(default=None, description="The language of your mails.")
    comments: bool | None = strawberry.field(default=None, description="See `NotificationSettings.comments`.")
    status_changes: bool | None = strawberry.field(
        default=None, description="See `NotificationSettings.statusChanges` (DONE is always mailed)."
    )
    assignments: bool | None = strawberry.field(default=None, description="See `NotificationSettings.assignments`.")
    new_tickets: bool | None = strawberry.field(default=None, description="See `NotificationSettings.newTickets`.")


@strawberry.type
class NotificationQueries:
    @field(
        policy=EMPLOYEES, description="The mails queued for a ticket, newest first: to whom, sent or failed and why."
    )
    @paged(NOTIFICATIONS)
    async def notifications(
        self,
        info: strawberry.Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's ID.")],
        page: Paging,
    ) -> Connection[Notification]:
        rows, total = await notifications.notification_page(
            info.context.viewer, parse_id(ticket_id, "Ticket", "ticketId"), page.window
        )
        return connection([Notification.from_row(r) for r in rows], rows, page, total)

    @field(policy=SIGNED_IN, description="Your language and notification settings.")
    async def notification_settings(self, info: strawberry.Info) -> NotificationSettings:
        return NotificationSettings.of(await notifications.notification_settings(info.context.viewer))


@strawberry.type
class NotificationMutations:
    @mutation(
        policy=SIGNED_IN,
        description="Change your language and optional notifications; fields left out stay as they are.",
    )
    async def update_notification_settings(
        self,
        info: strawberry.Info,
        input: Annotated[UpdateNotificationSettingsInput, strawberry.argument(description="The settings to change.")],
    ) -> NotificationSettings:
        changes = decoded(input)
        if input.locale is not None:
            changes["locale"] = input.locale.value  # resolvers speak locale codes ("de"), not this enum
        found = await notifications.update_notification_settings(info.context.viewer, **changes)
        return NotificationSettings.of(found)
