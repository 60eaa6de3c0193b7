"""The GraphQL types of tickets: tickets, their types, comments, attachments and history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from files.signing import signed_url
from files.thumbnails import SIZE_DESCRIPTION, THUMBNAIL_DESCRIPTION, thumbnail_link
from models.service_levels import TicketPriority
from models.tickets import Attachment as AttachmentRow
from models.tickets import Comment as CommentRow
from models.tickets import CommentSource, TicketEventKind, TicketSource, TicketStatus
from models.tickets import Ticket as TicketRow
from models.tickets import TicketType as TicketTypeRow
from permissions.policy import ANYONE, EMPLOYEES, SIGNED_IN
from permissions.service_levels import TICKET_SERVICE_LEVEL
from permissions.tickets import TicketPolicy
from resolvers.people import person_values
from resolvers.tickets.pages import ATTACHMENTS, HISTORY
from resolvers.tickets.read import COMMENTS
from schema.accounts import CustomerUser, Employee, Person
from schema.directive import field, type_policy
from schema.loaders import (
    Batch,
    Loader,
    Values,
    employee_by_id,
    person_by_account_id,
    site_object_by_id,
    ticket_type_by_id,
    visible_attachment_page_by_ticket_id,
    visible_attachments_by_ticket_id,
    visible_comment_count_by_ticket_id,
    visible_comment_page_by_ticket_id,
    visible_history_by_ticket_id,
    visible_history_page_by_ticket_id,
    visible_ticket_by_id,
)
from schema.relay import (
    Connection,
    Node,
    Paging,
    connection,
    lazy_id,
    paged,
)
from schema.rows import columns, row_shape
from schema.tickets.service_level import SLA_VALUES, TicketServiceLevel, service_level_of_ticket
from schema.tickets.states import (
    TicketState,
    ticket_state,
    type_states,
    workflow_row,
)
from schema.tickets.viewer_can import TicketViewerCan

if TYPE_CHECKING:
    from schema.customers import SiteObject

# The one cycle between schema modules: SiteObject.tickets builds Ticket objects and Ticket.object builds
# SiteObject objects. schema.customers imports this module; this one imports SiteObject where a field
# is resolved (`_site_object`).
SiteObjectRef = Annotated["SiteObject", strawberry.lazy("schema.customers")]

# TicketStatus, TicketSource and TicketEventKind are registered in `schema.tickets.enums` (inputs import it).


@strawberry.type(directives=type_policy(SIGNED_IN), description="A kind of ticket, e.g. Reinigungsmangel.")
class TicketType(Node):
    id: strawberry.ID = lazy_id("TicketType")
    name: str = strawberry.field(description="The type's name, e.g. Reinigungsmangel.")
    absence: strawberry.Private[bool]
    pk: strawberry.Private[int] = 0

    @field(policy=EMPLOYEES, description="Absence requests (vacation, sick leave) never reach customers.")
    def is_absence_request(self) -> bool | None:
        return self.absence

    @field(policy=SIGNED_IN, description="The workflow: the states of this type, by position.")
    async def states(self, info: strawberry.Info) -> list[TicketState]:
        return await type_states(info, self.pk)

    @field(
        policy=SIGNED_IN,
        description="Whether customer users confirm (with a rating) or reopen a DONE ticket of this type.",
    )
    async def customer_confirmation(self, info: strawberry.Info) -> bool:
        return bool((await ticket_type_by_id(info).load(self.pk)).customer_confirmation)

    @field(policy=SIGNED_IN, description="Days after doneAt during which customer users may confirm or reopen.")
    async def reopen_window_days(self, info: strawberry.Info) -> int | None:
        return int((await ticket_type_by_id(info).load(self.pk)).reopen_window_days)

    @classmethod
    def from_row(cls, row: TicketTypeRow) -> TicketType:
        return cls(name=row.name, pk=row.id, absence=row.is_absence_request)


def person_from_values(row: dict[str, Any], prefix: str) -> Person | None:
    """The employee or customer user in a row projected with `resolvers.tickets.person_values(prefix)`."""
    if row[prefix + "id"] is None:
        return None
    account = SimpleNamespace(
        id=row[prefix + "id"],
        name=row[prefix + "name"],
        email=row[prefix + "email"],
        is_active=row[prefix + "is_active"],
    )
    if row[prefix + "employee__id"] is not None:
        return Employee.from_rows(
            SimpleNamespace(
                id=row[prefix + "employee__id"],
                account_id=account.id,
                is_system_admin=row[prefix + "employee__is_system_admin"],
            ),
            account,
        )
    if row[prefix + "customer_user__id"] is not None:
        return CustomerUser.from_rows(
            SimpleNamespace(
                id=row[prefix + "customer_user__id"],
                account_id=account.id,
                customer_id=row[prefix + "customer_user__customer_id"],
            ),
            account,
        )
    return None


async def person(info: strawberry.Info, account_id: int | None) -> Person | None:
    """The employee or customer user behind an account id."""
    if account_id is None:
        return None
    found = await person_by_account_id(info).load(account_id)
    if found is None:
        return None
    account, row = found
    if hasattr(row, "is_system_admin"):
        return Employee.from_rows(row, account)
    return CustomerUser.from_rows(row, account)


@strawberry.type(directives=type_policy(SIGNED_IN), description="A file on a ticket.")
class Attachment(Node):
    id: strawberry.ID = lazy_id("Attachment")
    filename: str = strawberry.field(description="The file name as uploaded (cleaned of path parts).")
    content_type: str = strawberry.field(
        description="The content type sniffed from the file's bytes (not the one the client claimed)."
    )
    size: int = strawberry.field(description="Size in bytes.")
    created_at: datetime = strawberry.field(description="When it was attached.")
    pk: strawberry.Private[int]
    uploader_account: strawberry.Private[int | None]

    @field(
        policy=SIGNED_IN,
        description=(
            "Absolute signed URL (starting with SITEDESK_PUBLIC_URL), valid for a few minutes, "
            "no Authorization header needed."
        ),
    )
    def download_url(self, info: strawberry.Info) -> str:
        return signed_url(info.context.settings, "attachment", self.pk)

    @field(policy=SIGNED_IN, description=THUMBNAIL_DESCRIPTION)
    def thumbnail_url(
        self, info: strawberry.Info, size: Annotated[int, strawberry.argument(description=SIZE_DESCRIPTION)] = 256
    ) -> str | None:
        return thumbnail_link(info.context.settings, self.pk, self.content_type, size)

    @field(policy=SIGNED_IN, description="Who attached it; null when that account no longer exists.")
    async def uploaded_by(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.uploader_account)

    @classmethod
    def from_row(cls, row: AttachmentRow) -> Attachment:
        return cls(
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            created_at=row.created_at,
            pk=row.id,
            uploader_account=row.uploaded_by_id,
        )


@strawberry.type(directives=type_policy(SIGNED_IN), description="A comment on a ticket.")
class Comment(Node):
    id: strawberry.ID = lazy_id("Comment")
    body: str = strawberry.field(description="The text, as written (plain text).")
    created_at: datetime = strawberry.field(description="When it was written.")
    edited_at: datetime | None = strawberry.field(description="When its author last edited it; null if never.")
    source: CommentSource = strawberry.field(
        description="Where it was written: APP, or EMAIL for a reply to a notification mail."
    )
    pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int]
    author_account: strawberry.Private[int]
    is_internal: strawberry.Private[bool]
    # The author's row when the comment was loaded with it (`Comment.from_values`).
    author_values: strawberry.Private[dict[str, Any] | None] = None

    @field(policy=EMPLOYEES, description="Internal comments never reach customer users.")
    def internal(self) -> bool | None:
        return self.is_internal

    # Sync resolvers that fall back to an awaitable: the executor awaits only
    # what was not loaded with the row, so a page costs no coroutine per field.
    @field(policy=SIGNED_IN, description="Who wrote it (customer users see employees by name only).")
    def author(self, info: strawberry.Info) -> Person | None:
        if self.author_values is not None:
            return person_from_values(self.author_values, "author__")
        return person(info, self.author_account)  # type: ignore[return-value]

    @field(policy=SIGNED_IN, description="The ticket it is on.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        row = await visible_ticket_by_id(info).load(self.ticket_pk)
        return Ticket.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            body=row.body,
            created_at=row.created_at,
            edited_at=row.edited_at,
            source=row.source,
            pk=row.id,
            ticket_pk=row.ticket_id,
            author_account=row.author_id,
            is_internal=row.internal,
        )

    @classmethod
    def from_values(cls, row: dict[str, Any]) -> Comment:
        """From a `resolvers.tickets.COMMENT_VALUES` row (author included)."""
        return cls(
            body=row["body"],
            created_at=row["created_at"],
            edited_at=row["edited_at"],
            source=row["source"],
            pk=row["id"],
            ticket_pk=row["ticket_id"],
            author_account=row["author_id"],
            is_internal=row["internal"],
            author_values=row,
        )


@strawberry.type(directives=type_policy(EMPLOYEES), description="One entry of a ticket's history.")
class TicketEvent:
    kind: TicketEventKind = strawberry.field(description="What changed; says what `fromValue` and `toValue` hold.")
    from_value: str | None = strawberry.field(description="The value before, as text (see `kind`).")
    to_value: str | None = strawberry.field(description="The value after, as text (see `kind`).")
    created_at: datetime = strawberry.field(description="When it happened.")
    actor_account: strawberry.Private[int | None]

    @field(policy=EMPLOYEES, description="Who did it; null for imports and removed accounts.")
    async def actor(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.actor_account)


@strawberry.type(directives=type_policy(SIGNED_IN), description="A ticket.")
class Ticket(Node):
    id: strawberry.ID = lazy_id("Ticket")
    number: int = strawberry.field(description="Its number, unique and counting up across all tickets (#201).")
    title: str = strawberry.field(description="A short summary, up to 200 characters.")
    description: str = strawberry.field(description="The details, up to 20,000 characters; may be empty.")
    status: TicketStatus = strawberry.field(description="Where it stands.")
    source: TicketSource = strawberry.field(description="Where it came from.")
    created_at: datetime = strawberry.field(description="When it was created (for imports: in the legacy system).")
    updated_at: datetime = strawberry.field(
        description="When it last changed: its fields, status or assignee, or a new comment or attachment."
    )
    done_at: datetime | None = strawberry.field(description="When it was last set to DONE; null unless DONE.")
    due_date: date | None = strawberry.field(description="The day it should be done by; null when none was set.")
    priority: TicketPriority = strawberry.field(description="How urgent it is; customer users set it on creation only.")
    pk: strawberry.Private[int]
    # Attributes named after a column are filled from it (`schema.rows`).
    ticket_type_id: strawberry.Private[int]
    object_id: strawberry.Private[int]
    assignee_id: strawberry.Private[int | None]
    created_by_id: strawberry.Private[int | None]
    # The to-one relations when the ticket was loaded with them (`Ticket.from_values`).
    values: strawberry.Private[dict[str, Any] | None] = None
    # Filled for a whole page at once when the query asks for them (`schema.tickets.preload`).
    preloaded_comment_count: strawberry.Private[int | None] = None
    preloaded_attachments: strawberry.Private[list[Attachment] | None] = None
    # The service-level columns (issue 26), filled from the row like the ids above.
    sla_terms_id: strawberry.Private[int | None] = None
    sla_first_response_due_at: strawberry.Private[datetime | None] = None
    sla_first_responded_at: strawberry.Private[datetime | None] = None
    sla_first_response_breached: strawberry.Private[bool] = False
    sla_resolution_due_at: strawberry.Private[datetime | None] = None
    sla_resolved_at: strawberry.Private[datetime | None] = None
    sla_resolution_breached: strawberry.Private[bool] = False
    sla_paused_since: strawberry.Private[datetime | None] = None

    # Sync resolvers: what came with the row is returned at once, anything else
    # is an awaitable for a per-request loader (no coroutine per row and field).
    @field(
        policy=SIGNED_IN,
        description="Its type.",
        metadata=columns("ticket_type_id", "ticket_type__name", "ticket_type__is_absence_request"),
    )
    def ticket_type(self, info: strawberry.Info) -> TicketType:
        v = self.values
        if v is not None:
            return TicketType(
                name=v["ticket_type__name"], pk=v["ticket_type_id"], absence=v["ticket_type__is_absence_request"]
            )
        return _ticket_type(info, self.ticket_type_id)  # type: ignore[return-value]

    @field(
        policy=SIGNED_IN,
        description="The object (building or site) it is about.",
        metadata=columns(
            "object_id",
            "object__name",
            "object__address",
            "object__customer_id",
            below={"customer": ("object__customer__name",)},
        ),
    )
    def object(self, info: strawberry.Info) -> SiteObjectRef:
        v = self.values
        if v is not None:
            return _site_object_class()(
                name=v["object__name"],
                address=v["object__address"],
                pk=v["object_id"],
                customer_pk=v["object__customer_id"],
                customer_name=v.get("object__customer__name"),
            )
        return _object(info, self.object_id)  # type: ignore[return-value]

    @field(
        policy=SIGNED_IN,
        description="The employee handling it (customer users see the name only).",
        metadata=columns(
            "assignee_id",
            "assignee__is_system_admin",
            "assignee__account_id",
            "assignee__account__name",
            "assignee__account__email",
            "assignee__account__is_active",
        ),
    )
    def assignee(self, info: strawberry.Info) -> Employee | None:
        if self.assignee_id is None:
            return None
        v = self.values
        if v is not None:
            return Employee(
                name=v["assignee__account__name"],
                pk=v["assignee_id"],
                email_address=v["assignee__account__email"],
                system_admin=v["assignee__is_system_admin"],
                active=v["assignee__account__is_active"],
                account_pk=v["assignee__account_id"],
            )
        return _assignee(info, self.assignee_id)  # type: ignore[return-value]

    @field(
        policy=SIGNED_IN,
        description="Null for imported tickets (a form's ticket names its filler).",
        metadata=columns("created_by_id", *person_values("created_by__")),
    )
    def created_by(self, info: strawberry.Info) -> Person | None:
        if self.values is not None:
            return person_from_values(self.values, "created_by__")
        return person(info, self.created_by_id)  # type: ignore[return-value]

    # The fields below read nothing of the row but its id (loaders and preloads keyed by it).
    @field(
        policy=SIGNED_IN,
        description="Comments, oldest first; customer users never get internal ones.",
        metadata=columns(),
    )
    @paged(COMMENTS)
    async def comments(self, info: strawberry.Info, page: Paging) -> Connection[Comment]:
        rows, total = await visible_comment_page_by_ticket_id(info).load((self.pk, (page.window, ())))
        return connection([Comment.from_values(r) for r in rows], rows, page, total)

    @field(policy=SIGNED_IN, description="How many comments the viewer can see.", metadata=columns())
    def comment_count(self, info: strawberry.Info) -> int:
        if self.preloaded_comment_count is not None:
            return self.preloaded_comment_count
        return visible_comment_count_by_ticket_id(info).load(self.pk)  # type: ignore[return-value]

    @field(
        policy=SIGNED_IN,
        description="Every file on the ticket, oldest first, in one list.",
        deprecation_reason="Use `attachmentPage`, a connection; this list goes in the next major version.",
        metadata=columns(),
    )
    def attachments(self, info: strawberry.Info) -> list[Attachment]:
        if self.preloaded_attachments is not None:
            return self.preloaded_attachments
        return attachment_nodes(info).load(self.pk)  # type: ignore[return-value]

    @field(
        policy=SIGNED_IN,
        description="The files on the ticket, oldest first, as a connection (keyset pages).",
        metadata=columns(),
    )
    @paged(ATTACHMENTS)
    async def attachment_page(self, info: strawberry.Info, page: Paging) -> Connection[Attachment]:
        rows, total = await visible_attachment_page_by_ticket_id(info).load((self.pk, (page.window, ())))
        items = [Attachment.from_row(SimpleNamespace(**r)) for r in rows]
        return connection(items, rows, page, total)

    @field(
        policy=EMPLOYEES,
        description="What changed, when and by whom, oldest first, in one list.",
        deprecation_reason="Use `historyPage`, a connection; this list goes in the next major version.",
        metadata=columns(),
    )
    async def history(self, info: strawberry.Info) -> list[TicketEvent] | None:
        rows = await visible_history_by_ticket_id(info).load(self.pk)
        return [
            TicketEvent(
                kind=r.kind,
                from_value=r.from_value,
                to_value=r.to_value,
                created_at=r.created_at,
                actor_account=r.actor_id,
            )
            for r in rows
        ]

    @field(
        policy=EMPLOYEES,
        description="What changed, when and by whom, oldest first, as a connection (keyset pages).",
        metadata=columns(),
    )
    @paged(HISTORY)
    async def history_page(self, info: strawberry.Info, page: Paging) -> Connection[TicketEvent] | None:
        rows, total = await visible_history_page_by_ticket_id(info).load((self.pk, (page.window, ())))
        items = [
            TicketEvent(
                kind=r["kind"],
                from_value=r["from_value"],
                to_value=r["to_value"],
                created_at=r["created_at"],
                actor_account=r["actor_id"],
            )
            for r in rows
        ]
        return connection(items, rows, page, total)

    @field(
        policy=TICKET_SERVICE_LEVEL,
        description="Its due times and how its targets went; null when no policy's target applies (customers too).",
        metadata=columns(*SLA_VALUES),
    )
    def service_level(self) -> TicketServiceLevel | None:
        return service_level_of_ticket(self)

    @field(
        policy=SIGNED_IN,
        description="What the viewer may do with it, to show only the buttons that work.",
        metadata=columns(),
    )
    def viewer_can(self, info: strawberry.Info) -> TicketViewerCan:
        policy = TicketPolicy(info.context.viewer)
        return TicketViewerCan(
            comment=policy.comment,
            attach=policy.attach,
            edit=policy.edit,
            change_status=policy.change_status,
            assign=policy.assign,
            ticket_pk=self.pk,
        )

    # The workflow (issue 18), through loaders keyed by the ticket (`schema.tickets.states`).
    @field(
        policy=SIGNED_IN,
        description="The ticket's state in its type's workflow; `status` is its category.",
        metadata=columns(),
    )
    async def state(self, info: strawberry.Info) -> TicketState:
        return await ticket_state(info, self.pk)

    @field(
        policy=SIGNED_IN,
        description="The customer's rating 1–5 when confirming the resolution; null before.",
        metadata=columns(),
    )
    async def rating(self, info: strawberry.Info) -> int | None:
        return (await workflow_row(info, self.pk))["rating"]  # type: ignore[no-any-return]

    @field(policy=EMPLOYEES, description="What the customer wrote when confirming the resolution.", metadata=columns())
    async def feedback(self, info: strawberry.Info) -> str | None:
        return (await workflow_row(info, self.pk))["feedback"]  # type: ignore[no-any-return]

    @field(
        policy=SIGNED_IN,
        description="When a customer user confirmed the resolution; null until then.",
        metadata=columns(),
    )
    async def confirmed_at(self, info: strawberry.Info) -> datetime | None:
        return (await workflow_row(info, self.pk))["confirmed_at"]  # type: ignore[no-any-return]

    @field(policy=SIGNED_IN, description="How often the ticket left DONE (by anyone).", metadata=columns())
    async def reopen_count(self, info: strawberry.Info) -> int:
        return int((await workflow_row(info, self.pk))["reopen_count"])

    @classmethod
    def from_row(cls, row: TicketRow) -> Ticket:
        """From a model instance: the attributes named after its columns (`TICKET_ROW`)."""
        return TICKET_ROW.from_row(row)  # type: ignore[no-any-return]

    @classmethod
    def from_values(cls, v: dict[str, Any]) -> Ticket:
        """From a values dict of `TICKET_ROW.values`: its to-one relations need no further query.

        The row may hold only some of them (`schema.tickets.preload.page_values`,
        what the query selects): the others are None, and no field reads them.
        """
        return TICKET_ROW.from_values(v)  # type: ignore[no-any-return]


# What a Ticket row holds and which columns each field reads, from the declarations above.
TICKET_ROW = row_shape(Ticket, TicketRow, keep_values="values")


def _attachment_nodes(load_rows: Batch[int, list[Values]]) -> Batch[int, list[Attachment]]:
    async def load(ticket_ids: list[int]) -> list[list[Attachment]]:
        return [[Attachment.from_row(SimpleNamespace(**r)) for r in rows] for rows in await load_rows(ticket_ids)]

    return load


# Attachments per ticket as GraphQL objects, so the field hands out the loader's future as is.
attachment_nodes: Loader[int, list[Attachment]] = Loader(
    lambda viewer: _attachment_nodes(visible_attachments_by_ticket_id.batch(viewer))
)


async def _ticket_type(info: strawberry.Info, pk: int) -> TicketType:
    return TicketType.from_row(await ticket_type_by_id(info).load(pk))


_SITE_OBJECT: list[type[SiteObject]] = []


def _site_object_class() -> type[SiteObject]:
    """`schema.customers.SiteObject`, imported on first use (see SiteObjectRef)."""
    if not _SITE_OBJECT:
        from schema.customers import SiteObject

        _SITE_OBJECT.append(SiteObject)
    return _SITE_OBJECT[0]


def _site_object() -> Callable[..., SiteObject]:
    return _site_object_class().from_row


async def _object(info: strawberry.Info, pk: int) -> SiteObject:
    return _site_object()(await site_object_by_id(info).load(pk))


async def _assignee(info: strawberry.Info, pk: int) -> Employee | None:
    row = await employee_by_id(info).load(pk)
    return Employee.from_rows(row, row.account) if row else None


@strawberry.type(directives=type_policy(ANYONE), description="What an import did.")
class ImportResult:
    imported_count: int = strawberry.field(description="How many tickets were created.")
    skipped_count: int = strawberry.field(description="How many were skipped: their `externalRef` was imported before.")
