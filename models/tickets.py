"""Tickets and what belongs to them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model
from tortoise.signals import post_save

from models.service_levels import TicketPriority

if TYPE_CHECKING:
    from models.accounts import Account, Employee
    from models.customers import SiteObject
    from models.service_levels import ServiceLevelTerms

# Sort keys of `TicketOrder.RESOLUTION_DUE` for tickets without a resolution target: last
# whichever the direction (`sla_due_ascending` / `sla_due_descending`).
NO_DUE_LAST_ASCENDING = datetime(9999, 12, 31, tzinfo=UTC)
NO_DUE_LAST_DESCENDING = datetime(1, 1, 1, tzinfo=UTC)


class TicketType(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    # Absence requests (vacation, sick leave) are HR matters: never shown to
    # customers, never in documents, evaluations or forms.
    is_absence_request = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Workflow (issue 18): whether customer users confirm (and rate) or reopen a DONE ticket of
    # this type, and for how many days after doneAt they may.
    customer_confirmation = fields.BooleanField(default=False, db_default=False)
    reopen_window_days = fields.IntField(default=7, db_default=7)

    class Meta:
        table = "ticket_type"


class TicketStatus(str, Enum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class TicketSource(str, Enum):
    BACKOFFICE = "BACKOFFICE"
    PORTAL = "PORTAL"
    FORM = "FORM"
    IMPORT = "IMPORT"
    EMAIL = "EMAIL"  # a mail to an object's intake address (issue 27)


class CommentSource(str, Enum):
    """Where a comment was written: in an app (the API) or as a reply to a notification mail."""

    APP = "APP"
    EMAIL = "EMAIL"


class TicketCounter(Model):
    """The last ticket number handed out (one row), bumped inside the creating transaction."""

    id = fields.IntField(primary_key=True)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "ticket_counter"


class Ticket(Model):
    id = fields.IntField(primary_key=True)
    number = fields.IntField(unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # The category of the ticket's state, kept in the row (filters, indexes, evaluation and mail
    # rules speak of it). Every write that moves a ticket sets both.
    status = fields.CharEnumField(TicketStatus, max_length=16, default=TicketStatus.OPEN)
    # The ticket's state within its type's workflow. NULL means the type's default state of the
    # category `status` (tickets inserted without one); it is written before a default changes.
    state: fields.ForeignKeyNullableRelation[TicketState] = fields.ForeignKeyField(
        "models.TicketState", related_name="tickets", null=True, on_delete=fields.RESTRICT
    )
    state_id: int | None
    ticket_type: fields.ForeignKeyRelation[TicketType] = fields.ForeignKeyField(
        "models.TicketType", related_name="tickets", on_delete=fields.RESTRICT
    )
    ticket_type_id: int
    object: fields.ForeignKeyRelation[SiteObject] = fields.ForeignKeyField(
        "models.SiteObject", related_name="tickets", on_delete=fields.RESTRICT
    )
    object_id: int
    assignee: fields.ForeignKeyNullableRelation[Employee] = fields.ForeignKeyField(
        "models.Employee", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    assignee_id: int | None
    due_date = fields.DateField(null=True)
    # The employee or customer user who created it, or who filled the form that did (null for imports).
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="created_tickets", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    form_submission_id = fields.IntField(null=True)
    source = fields.CharEnumField(TicketSource, max_length=16)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)
    # Whole days from created_at to done_at (floor(seconds / 86400)), kept with done_at so the
    # ticket evaluation groups by an indexed column instead of date arithmetic per row.
    resolution_days = fields.IntField(null=True)
    external_ref = fields.CharField(max_length=100, null=True, unique=True)
    # The customer closing the loop (issue 18): confirmation with a rating 1–5 and feedback, and
    # how often the ticket left DONE (by anyone).
    rating = fields.SmallIntField(null=True)
    feedback = fields.TextField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    reopen_count = fields.IntField(default=0, db_default=0)
    # Service levels (issue 26), kept by `resolvers.service_levels`. The terms are the policy and
    # calendar as they were when the ticket was created; null: no policy applied.
    priority = fields.CharEnumField(TicketPriority, max_length=8, default=TicketPriority.NORMAL, db_default="NORMAL")
    sla_terms: fields.ForeignKeyNullableRelation[ServiceLevelTerms] = fields.ForeignKeyField(
        "models.ServiceLevelTerms", related_name="tickets", null=True, on_delete=fields.RESTRICT
    )
    sla_terms_id: int | None
    # Null due times (with terms): the ticket's priority has no target in its terms.
    sla_first_response_due_at = fields.DatetimeField(null=True)
    sla_first_response_warn_at = fields.DatetimeField(null=True)
    sla_first_responded_at = fields.DatetimeField(null=True)
    sla_first_response_breached = fields.BooleanField(default=False, db_default=False)
    # The resolution clock starts at creation and again at each reopening; a pausing state stops
    # it (`sla_paused_since`), and the business seconds spent paused move the due time later.
    sla_resolution_started_at = fields.DatetimeField(null=True)
    sla_paused_seconds = fields.FloatField(default=0, db_default=0)
    sla_paused_since = fields.DatetimeField(null=True)
    sla_resolution_due_at = fields.DatetimeField(null=True)
    sla_resolution_warn_at = fields.DatetimeField(null=True)
    sla_resolved_at = fields.DatetimeField(null=True)
    sla_resolution_breached = fields.BooleanField(default=False, db_default=False)
    # Which warnings and breaches were announced (`resolvers.service_levels.Notice` bits); the
    # background check claims one by changing this value from what it read (compare and set).
    sla_notified = fields.SmallIntField(default=0, db_default=0)
    # When the background check must look at this ticket next; null: nothing pending.
    sla_next_check_at = fields.DatetimeField(null=True)
    # RESOLUTION_DUE's sort keys: the resolution due time, or a value putting tickets without one last.
    sla_due_ascending = fields.DatetimeField(default=NO_DUE_LAST_ASCENDING, db_default=NO_DUE_LAST_ASCENDING)
    sla_due_descending = fields.DatetimeField(default=NO_DUE_LAST_DESCENDING, db_default=NO_DUE_LAST_DESCENDING)

    class Meta:
        table = "ticket"
        # One index per ticket ordering (the sort key, then id, as the pages
        # order), so a page walks an index instead of sorting the viewer's
        # whole scope; `number` is unique and so indexed already. The
        # (object, type, created) index answers a customer user's scope and
        # its count from the index alone, and (with the id) a customer user's
        # page read (object, type) by (object, type) (`core.partitioned`):
        # each walk in the page's whole order, so it stops after a page; the
        # same for (object, created, id) and each object's page of
        # `SiteObject.tickets`.
        indexes = (
            ("created_at", "id"),
            ("updated_at", "id"),
            ("due_date", "id"),
            ("object_id", "ticket_type_id", "created_at", "id"),
            ("object_id", "created_at", "id"),
            ("ticket_type_id", "status"),
            ("assignee_id", "status"),
            ("created_by_id",),
            ("object_id", "status", "ticket_type_id", "done_at", "resolution_days"),
            ("state_id",),
            ("sla_next_check_at", "id"),
            ("sla_due_ascending", "id"),
            ("sla_due_descending", "id"),
        )


class Comment(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="comments", on_delete=fields.CASCADE
    )
    ticket_id: int
    author: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="comments", on_delete=fields.RESTRICT
    )
    author_id: int
    body = fields.TextField()
    # Internal comments are for employees only, never shown to customer users.
    internal = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    edited_at = fields.DatetimeField(null=True)
    source = fields.CharEnumField(CommentSource, max_length=8, default=CommentSource.APP, db_default="APP")

    class Meta:
        table = "comment"
        indexes = (("ticket_id", "created_at"),)


class Attachment(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="attachments", on_delete=fields.CASCADE
    )
    ticket_id: int
    uploaded_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_id: int | None
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    # Where the bytes are, relative to the files directory: derived from the hash, never from the name.
    storage_key = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()

    class Meta:
        table = "attachment"
        indexes = (("ticket_id", "created_at"),)


class TicketEventKind(str, Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    ASSIGNEE_CHANGED = "ASSIGNEE_CHANGED"
    COMMENT_ADDED = "COMMENT_ADDED"
    COMMENT_EDITED = "COMMENT_EDITED"
    COMMENT_DELETED = "COMMENT_DELETED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    ATTACHMENT_REMOVED = "ATTACHMENT_REMOVED"
    STATE_CHANGED = "STATE_CHANGED"
    CONFIRMED = "CONFIRMED"
    REOPENED = "REOPENED"
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"


class TicketEvent(Model):
    """One entry of a ticket's history: what changed, from what to what, by whom, when."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="events", on_delete=fields.CASCADE
    )
    ticket_id: int
    kind = fields.CharEnumField(TicketEventKind, max_length=24)
    actor: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="ticket_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    from_value = fields.CharField(max_length=200, null=True)
    to_value = fields.CharField(max_length=200, null=True)
    # The comment or attachment the entry is about, kept (no foreign key) after it is deleted,
    # so that webhooks and subscriptions can tell which one changed.
    comment_id = fields.IntField(null=True)
    attachment_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "ticket_event"
        indexes = (("ticket_id", "created_at"),)


class TicketState(Model):
    """One status in the workflow of a ticket type, in one of the three categories (issue 18).

    Each type has exactly one default state per category (`is_default`), which
    `setTicketStatus`, new tickets and reopening use; the rule is kept by
    `resolvers/tickets/states.py` and, for types created without it, by the
    `post_save` hook below.
    """

    id = fields.IntField(primary_key=True)
    ticket_type: fields.ForeignKeyRelation[TicketType] = fields.ForeignKeyField(
        "models.TicketType", related_name="states", on_delete=fields.CASCADE
    )
    ticket_type_id: int
    name = fields.CharField(max_length=100)
    category = fields.CharEnumField(TicketStatus, max_length=16)
    position = fields.IntField(default=0)
    is_default = fields.BooleanField(default=False)
    color = fields.CharField(max_length=7, null=True)
    # Service levels: while a ticket is in this state its resolution clock stands still.
    pauses_service_level = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "ticket_state"
        unique_together = (("ticket_type", "name"),)


class TicketTransition(Model):
    """An allowed move between two states of one type (a type without any allows every move)."""

    id = fields.IntField(primary_key=True)
    ticket_type: fields.ForeignKeyRelation[TicketType] = fields.ForeignKeyField(
        "models.TicketType", related_name="transitions", on_delete=fields.CASCADE
    )
    ticket_type_id: int
    from_state: fields.ForeignKeyRelation[TicketState] = fields.ForeignKeyField(
        "models.TicketState", related_name="transitions_out", on_delete=fields.CASCADE
    )
    from_state_id: int
    to_state: fields.ForeignKeyRelation[TicketState] = fields.ForeignKeyField(
        "models.TicketState", related_name="transitions_in", on_delete=fields.CASCADE
    )
    to_state_id: int

    class Meta:
        table = "ticket_transition"
        unique_together = (("from_state", "to_state"),)


# The three states every type starts with: (name, category).
DEFAULT_STATES = (
    ("Offen", TicketStatus.OPEN),
    ("In Bearbeitung", TicketStatus.IN_PROGRESS),
    ("Erledigt", TicketStatus.DONE),
)


@post_save(TicketType)
async def _default_states(
    sender: type[TicketType], instance: TicketType, created: bool, using_db: Any, update_fields: Any
) -> None:
    """A new type gets its three default states, in the transaction that creates it."""
    if created:
        await TicketState.bulk_create(
            [
                TicketState(ticket_type_id=instance.id, name=name, category=category, position=i, is_default=True)
                for i, (name, category) in enumerate(DEFAULT_STATES)
            ],
            using_db=using_db,
        )
