"""Row scoping for tickets and ticket types, and the ticket policy object.

`visible_tickets(viewer)` is the one entry point that says which tickets a
viewer may see, as a query the database filters. Every list, lookup, nested
field, count and mutation input goes through it (or through the helpers here
that build on it). Outside the scope a ticket does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from core.membership import in_subquery
from core.partitioned import Partitions, each_of
from models.customers import CustomerTicketType
from models.tickets import Attachment, Comment, Ticket, TicketStatus, TicketType
from permissions.audience import viewers_finding
from permissions.customers import assigned_object_ids_of_customer
from permissions.policy import CUSTOMER_USERS, EMPLOYEES, SIGNED_IN, SYSTEM_ADMINS, Permission, Policy
from permissions.viewer import Viewer

# The policies of the ticket mutations; `TicketPolicy` answers with the same objects.
COMMENT = SIGNED_IN
ATTACH = SIGNED_IN
EDIT = EMPLOYEES
CHANGE_STATUS = EMPLOYEES
ASSIGN = EMPLOYEES
COMMENT_INTERNALLY = EMPLOYEES
# The workflow (issue 18): moving between states is the employees'; confirming and reopening a
# DONE ticket are the only status changes a customer user ever makes; system administrators
# shape the workflow of each type.
CHANGE_STATE = EMPLOYEES
CONFIRM_RESOLUTION = CUSTOMER_USERS
REOPEN = CUSTOMER_USERS
MANAGE_WORKFLOW = SYSTEM_ADMINS


class LoopRefusal(str, Enum):
    """Why a customer user may not confirm or reopen a ticket they can see (`extensions.reason`)."""

    NOT_CONFIRMABLE = "NOT_CONFIRMABLE"  # not DONE, its type asks for no confirmation, or confirmed already
    WINDOW_CLOSED = "WINDOW_CLOSED"  # DONE longer ago than the type's reopen window


@dataclass(frozen=True)
class LoopFacts:
    """What decides whether a ticket's customer may still close the loop on it."""

    status: TicketStatus
    done_at: datetime | None
    confirmed_at: datetime | None
    customer_confirmation: bool
    reopen_window_days: int

    @property
    def window_ends_at(self) -> datetime | None:
        """The last moment to confirm or reopen (None unless DONE in a confirming type)."""
        if self.status is not TicketStatus.DONE or not self.customer_confirmation or self.done_at is None:
            return None
        return self.done_at + timedelta(days=self.reopen_window_days)

    def refusal(self, at: datetime) -> LoopRefusal | None:
        ends = self.window_ends_at
        if ends is None or self.confirmed_at is not None:
            return LoopRefusal.NOT_CONFIRMABLE
        if at > ends:
            return LoopRefusal.WINDOW_CLOSED
        return None


def enabled_type_ids(customer_id: int | None) -> Subquery:
    # None (a viewer without a customer) matches no row.
    return Subquery(
        CustomerTicketType.filter(customer_id=customer_id, ticket_type__is_absence_request=False).values(
            "ticket_type_id"
        )
    )


def absence_type_ids() -> Subquery:
    return Subquery(TicketType.filter(is_absence_request=True).values("id"))


def visible_ticket_types(viewer: Viewer) -> QuerySet[TicketType]:
    """Employees see every type; customer users only the types enabled for their customer."""
    if viewer.is_customer_user:
        return TicketType.filter(in_subquery("id", enabled_type_ids(viewer.customer_id)))
    return TicketType.all()


def visible_tickets(viewer: Viewer) -> QuerySet[Ticket]:
    """The tickets `viewer` may see.

    - customer users: tickets on objects assigned to them whose type is enabled
      for their customer, whoever created them;
    - employees: every ticket except absence requests, which only their
      creator, their assignee and holders of MANAGE_ABSENCES see;
    - anyone else: none.

    Each "one of" is an `in_subquery` (`core.membership`): on PostgreSQL the
    planner then reads a page from the ordering index instead of sorting the
    whole scope.
    """
    if viewer.is_customer_user:
        return Ticket.filter(
            in_subquery("object_id", assigned_object_ids_of_customer(viewer)),
            in_subquery("ticket_type_id", enabled_type_ids(viewer.customer_id)),
        )
    if viewer.is_employee:
        if viewer.has_permission(Permission.MANAGE_ABSENCES.value):
            return Ticket.all()
        return Ticket.filter(
            ~in_subquery("ticket_type_id", absence_type_ids())
            | Q(created_by_id=viewer.account_id)
            | Q(assignee_id=viewer.employee_id)
        )
    return Ticket.filter(id__in=[])


def ticket_partitions(viewer: Viewer) -> Partitions | None:
    """How `visible_tickets(viewer)` splits into partitions a page can be read from one by one
    (`core.partitioned`): a customer user's tickets by object and type, each the scope's own
    subquery. None: the scope has no such split (employees)."""
    if viewer.is_customer_user:
        return (
            ("object_id", assigned_object_ids_of_customer(viewer)),
            ("ticket_type_id", enabled_type_ids(viewer.customer_id)),
        )
    return None


def _visible_ticket_ids(viewer: Viewer, among: list[int] | None) -> Subquery:
    # Narrowed to `among` the scope is a few primary-key lookups instead of a
    # scan of every ticket the viewer may see (`core.partitioned.each_of`).
    if among is not None:
        return each_of(visible_tickets(viewer), "id", among)
    return Subquery(visible_tickets(viewer).values("id"))


def visible_comments(viewer: Viewer, ticket_ids: list[int] | None = None) -> QuerySet[Comment]:
    """Comments on visible tickets (among `ticket_ids` if given); internal ones only for employees."""
    query = Comment.filter(in_subquery("ticket_id", _visible_ticket_ids(viewer, ticket_ids)))
    if not COMMENT_INTERNALLY.allows(viewer):
        query = query.filter(internal=False)
    return query


def visible_attachments(viewer: Viewer, ticket_ids: list[int] | None = None) -> QuerySet[Attachment]:
    return Attachment.filter(in_subquery("ticket_id", _visible_ticket_ids(viewer, ticket_ids)))


@dataclass(frozen=True)
class TicketPolicy:
    """What a viewer may do with a ticket they can see (drives `viewerCan` and the mutations)."""

    viewer: Viewer

    def _allows(self, policy: Policy) -> bool:
        return policy.allows(self.viewer)

    @property
    def comment(self) -> bool:
        return self._allows(COMMENT)

    @property
    def attach(self) -> bool:
        return self._allows(ATTACH)

    @property
    def edit(self) -> bool:
        return self._allows(EDIT)

    @property
    def change_status(self) -> bool:
        return self._allows(CHANGE_STATUS)

    @property
    def assign(self) -> bool:
        return self._allows(ASSIGN)

    @property
    def comment_internally(self) -> bool:
        return self._allows(COMMENT_INTERNALLY)

    @property
    def change_state(self) -> bool:
        return self._allows(CHANGE_STATE)

    def loop_refusal(self, policy: Policy, facts: LoopFacts, at: datetime) -> LoopRefusal | None:
        """Why the viewer may not confirm (`CONFIRM_RESOLUTION`) or reopen (`REOPEN`) this ticket
        they see, or None when they may: a customer user, a DONE ticket of a confirming type, not
        yet confirmed, within the type's window after doneAt."""
        if not self._allows(policy):
            return LoopRefusal.NOT_CONFIRMABLE
        return facts.refusal(at)

    def may_close_loop(self, policy: Policy, facts: LoopFacts, at: datetime) -> bool:
        return self.loop_refusal(policy, facts, at) is None

    def may_edit_comment(self, comment: Comment) -> bool:
        """Only a comment's author edits it."""
        return comment.author_id == self.viewer.account_id

    def may_delete_comment(self, comment: Comment) -> bool:
        """Its author, or whoever may edit tickets (employees)."""
        return comment.author_id == self.viewer.account_id or self.edit

    def may_delete_attachment(self, attachment: Attachment) -> bool:
        """Its uploader, or whoever may edit tickets (employees)."""
        return attachment.uploaded_by_id == self.viewer.account_id or self.edit


# ---------------------------------------------------------------- many viewers at once (live updates)


def may_see_tickets_of(viewer: Viewer, customer_id: int | None) -> bool:
    """False when `viewer` sees no ticket of customer `customer_id` whatever the rows say (a customer
    user of another customer, an anonymous viewer): a test without a query, before `viewers_seeing`."""
    if viewer.is_customer_user:
        return viewer.customer_id == customer_id
    return viewer.is_employee


async def viewers_seeing(
    viewers: Iterable[Viewer], ticket_id: int, *, comment_id: int | None = None, attachment_id: int | None = None
) -> set[Viewer]:
    """Which of `viewers` see ticket `ticket_id` now (`visible_tickets`), or, if given, its comment
    (`visible_comments`) or attachment (`visible_attachments`): one statement per kind of viewer."""
    if comment_id is not None:
        return await viewers_finding(
            "comment",
            lambda v, s: visible_comments(v, [s.int("ticket")]).filter(id=s.int("row")).values("id"),
            viewers,
            {"ticket": ticket_id, "row": comment_id},
        )
    if attachment_id is not None:
        return await viewers_finding(
            "attachment",
            lambda v, s: visible_attachments(v, [s.int("ticket")]).filter(id=s.int("row")).values("id"),
            viewers,
            {"ticket": ticket_id, "row": attachment_id},
        )
    return await viewers_finding(
        "ticket",
        lambda v, s: visible_tickets(v).filter(id=s.int("ticket")).values("id"),
        viewers,
        {"ticket": ticket_id},
    )
