"""The GraphQL types of tickets: tickets, their types, comments, attachments and history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from core.ids import to_global_id
from files.signing import signed_url
from models.tickets import Attachment as AttachmentRow
from models.tickets import Comment as CommentRow
from models.tickets import Ticket as TicketRow
from models.tickets import TicketEventKind, TicketSource, TicketStatus
from models.tickets import TicketType as TicketTypeRow
from permissions.policy import ANYONE, EMPLOYEES, SIGNED_IN
from permissions.tickets import TicketPolicy
from schema.accounts import CustomerUser, Employee, Person
from schema.directive import field, type_policy
from schema.loaders import LOADERS, loader
from schema.relay import Connection, Node, connection, key_of, paging

if TYPE_CHECKING:
    from schema.customers import SiteObject

# The one cycle between schema modules: SiteObject.tickets builds Ticket objects and Ticket.object builds
# SiteObject objects. schema.customers imports this module; this one imports SiteObject where a field
# is resolved (`_site_object`).
SiteObjectRef = Annotated["SiteObject", strawberry.lazy("schema.customers")]

strawberry.enum(TicketStatus)
strawberry.enum(TicketSource, description="Where a ticket came from.")
strawberry.enum(TicketEventKind, description="What a history entry records.")


@strawberry.type(directives=type_policy(SIGNED_IN), description="A kind of ticket, e.g. Reinigungsmangel.")
class TicketType(Node):
    name: str
    absence: strawberry.Private[bool]

    @field(policy=EMPLOYEES, description="Absence requests (vacation, sick leave) never reach customers.")
    def is_absence_request(self) -> bool | None:
        return self.absence

    @classmethod
    def from_row(cls, row: TicketTypeRow) -> TicketType:
        return cls(id=to_global_id("TicketType", row.id), name=row.name, absence=row.is_absence_request)


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
    found = await loader(info, "person_by_account_id").load(account_id)
    if found is None:
        return None
    account, row = found
    if hasattr(row, "is_system_admin"):
        return Employee.from_rows(row, account)
    return CustomerUser.from_rows(row, account)


@strawberry.type(directives=type_policy(SIGNED_IN), description="A file on a ticket.")
class Attachment(Node):
    filename: str
    content_type: str
    size: int
    created_at: datetime
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

    @field(policy=SIGNED_IN)
    async def uploaded_by(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.uploader_account)

    @classmethod
    def from_row(cls, row: AttachmentRow) -> Attachment:
        return cls(
            id=to_global_id("Attachment", row.id),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            created_at=row.created_at,
            pk=row.id,
            uploader_account=row.uploaded_by_id,
        )


@strawberry.type(directives=type_policy(SIGNED_IN), description="A comment on a ticket.")
class Comment(Node):
    body: str
    created_at: datetime
    edited_at: datetime | None
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
    @field(policy=SIGNED_IN)
    def author(self, info: strawberry.Info) -> Person | None:
        if self.author_values is not None:
            return person_from_values(self.author_values, "author__")
        return person(info, self.author_account)  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        row = await loader(info, "visible_ticket_by_id").load(self.ticket_pk)
        return Ticket.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            id=to_global_id("Comment", row.id),
            body=row.body,
            created_at=row.created_at,
            edited_at=row.edited_at,
            pk=row.id,
            ticket_pk=row.ticket_id,
            author_account=row.author_id,
            is_internal=row.internal,
        )

    @classmethod
    def from_values(cls, row: dict[str, Any]) -> Comment:
        """From a `resolvers.tickets.COMMENT_VALUES` row (author included)."""
        return cls(
            id=to_global_id("Comment", row["id"]),
            body=row["body"],
            created_at=row["created_at"],
            edited_at=row["edited_at"],
            pk=row["id"],
            ticket_pk=row["ticket_id"],
            author_account=row["author_id"],
            is_internal=row["internal"],
            author_values=row,
        )


@strawberry.type(directives=type_policy(EMPLOYEES), description="One entry of a ticket's history.")
class TicketEvent:
    kind: TicketEventKind
    from_value: str | None
    to_value: str | None
    created_at: datetime
    actor_account: strawberry.Private[int | None]

    @field(policy=EMPLOYEES)
    async def actor(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.actor_account)


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="What the viewer may do with this ticket: show only the buttons that work.",
)
class TicketViewerCan:
    comment: bool
    attach: bool
    edit: bool
    change_status: bool
    assign: bool


@strawberry.type(directives=type_policy(SIGNED_IN), description="A ticket.")
class Ticket(Node):
    number: int
    title: str
    description: str
    status: TicketStatus
    source: TicketSource
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None
    due_date: date | None
    pk: strawberry.Private[int]
    type_pk: strawberry.Private[int]
    object_pk: strawberry.Private[int]
    assignee_pk: strawberry.Private[int | None]
    creator_account: strawberry.Private[int | None]
    # The to-one relations when the ticket was loaded with them (`Ticket.from_values`).
    values: strawberry.Private[dict[str, Any] | None] = None
    # Filled for a whole page at once when the query asks for them (`schema.tickets.preload`).
    preloaded_comment_count: strawberry.Private[int | None] = None
    preloaded_attachments: strawberry.Private[list[Attachment] | None] = None

    # Sync resolvers: what came with the row is returned at once, anything else
    # is an awaitable for a per-request loader (no coroutine per row and field).
    @field(policy=SIGNED_IN)
    def ticket_type(self, info: strawberry.Info) -> TicketType:
        v = self.values
        if v is not None:
            return TicketType.from_row(
                SimpleNamespace(
                    id=v["ticket_type_id"],
                    name=v["ticket_type__name"],
                    is_absence_request=v["ticket_type__is_absence_request"],
                )
            )
        return _ticket_type(info, self.type_pk)  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def object(self, info: strawberry.Info) -> SiteObjectRef:
        v = self.values
        if v is not None:
            return _site_object()(
                SimpleNamespace(
                    id=v["object_id"],
                    name=v["object__name"],
                    address=v["object__address"],
                    customer_id=v["object__customer_id"],
                ),
                customer_name=v["object__customer__name"],
            )
        return _object(info, self.object_pk)  # type: ignore[return-value]

    @field(policy=SIGNED_IN, description="The employee handling it (customer users see the name only).")
    def assignee(self, info: strawberry.Info) -> Employee | None:
        if self.assignee_pk is None:
            return None
        v = self.values
        if v is not None:
            return Employee.from_rows(
                SimpleNamespace(
                    id=v["assignee_id"],
                    is_system_admin=v["assignee__is_system_admin"],
                    account_id=v["assignee__account_id"],
                ),
                SimpleNamespace(
                    id=v["assignee__account_id"],
                    name=v["assignee__account__name"],
                    email=v["assignee__account__email"],
                    is_active=v["assignee__account__is_active"],
                ),
            )
        return _assignee(info, self.assignee_pk)  # type: ignore[return-value]

    @field(policy=SIGNED_IN, description="Null for imported tickets (a form's ticket names its filler).")
    def created_by(self, info: strawberry.Info) -> Person | None:
        if self.values is not None:
            return person_from_values(self.values, "created_by__")
        return person(info, self.creator_account)  # type: ignore[return-value]

    @field(policy=SIGNED_IN, description="Comments, oldest first; customer users never get internal ones.")
    async def comments(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Comment]:
        page = paging(info, "comments", first, after, last, before)
        rows, total = await loader(info, "visible_comment_page_by_ticket_id").load((self.pk, (page.window, ())))
        return connection([Comment.from_values(r) for r in rows], rows, page, total, key_of("created_at"))

    @field(policy=SIGNED_IN, description="How many comments the viewer can see.")
    def comment_count(self, info: strawberry.Info) -> int:
        if self.preloaded_comment_count is not None:
            return self.preloaded_comment_count
        return loader(info, "visible_comment_count_by_ticket_id").load(self.pk)  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def attachments(self, info: strawberry.Info) -> list[Attachment]:
        if self.preloaded_attachments is not None:
            return self.preloaded_attachments
        return attachment_nodes(info).load(self.pk)  # type: ignore[return-value]

    @field(policy=EMPLOYEES, description="What changed, when and by whom.")
    async def history(self, info: strawberry.Info) -> list[TicketEvent] | None:
        rows = await loader(info, "visible_history_by_ticket_id").load(self.pk)
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

    @field(policy=SIGNED_IN)
    def viewer_can(self, info: strawberry.Info) -> TicketViewerCan:
        policy = TicketPolicy(info.context.viewer)
        return TicketViewerCan(
            comment=policy.comment,
            attach=policy.attach,
            edit=policy.edit,
            change_status=policy.change_status,
            assign=policy.assign,
        )

    @classmethod
    def from_row(cls, row: TicketRow) -> Ticket:
        return cls(
            id=to_global_id("Ticket", row.id),
            number=row.number,
            title=row.title,
            description=row.description,
            status=row.status,
            source=row.source,
            created_at=row.created_at,
            updated_at=row.updated_at,
            done_at=row.done_at,
            due_date=row.due_date,
            pk=row.id,
            type_pk=row.ticket_type_id,
            object_pk=row.object_id,
            assignee_pk=row.assignee_id,
            creator_account=row.created_by_id,
        )

    @classmethod
    def from_values(cls, v: dict[str, Any]) -> Ticket:
        """From a `resolvers.tickets.TICKET_VALUES` row: its to-one relations need no further query."""
        return cls(
            id=to_global_id("Ticket", v["id"]),
            number=v["number"],
            title=v["title"],
            description=v["description"],
            status=v["status"],
            source=v["source"],
            created_at=v["created_at"],
            updated_at=v["updated_at"],
            done_at=v["done_at"],
            due_date=v["due_date"],
            pk=v["id"],
            type_pk=v["ticket_type_id"],
            object_pk=v["object_id"],
            assignee_pk=v["assignee_id"],
            creator_account=v["created_by_id"],
            values=v,
        )


def attachment_nodes(info: strawberry.Info) -> DataLoader:
    """Attachments per ticket as GraphQL objects, so the field hands out the loader's future as is."""

    def build() -> DataLoader:
        load_rows = LOADERS["visible_attachments_by_ticket_id"](info.context.viewer)

        async def load(ticket_ids: list[int]) -> list[list[Attachment]]:
            return [[Attachment.from_row(SimpleNamespace(**r)) for r in rows] for rows in await load_rows(ticket_ids)]

        return DataLoader(load)

    return info.context.loader("visible_attachment_nodes_by_ticket_id", build)


async def _ticket_type(info: strawberry.Info, pk: int) -> TicketType:
    return TicketType.from_row(await loader(info, "ticket_type_by_id").load(pk))


def _site_object() -> Callable[..., SiteObject]:
    from schema.customers import SiteObject  # see SiteObjectRef

    return SiteObject.from_row


async def _object(info: strawberry.Info, pk: int) -> SiteObject:
    return _site_object()(await loader(info, "site_object_by_id").load(pk))


async def _assignee(info: strawberry.Info, pk: int) -> Employee | None:
    row = await loader(info, "employee_by_id").load(pk)
    return Employee.from_rows(row, row.account) if row else None


@strawberry.type(directives=type_policy(ANYONE), description="What an import did.")
class ImportResult:
    imported_count: int
    skipped_count: int
