"""Tickets: listing, creating, changing, comments, attachments, import.

Every ticket, comment or attachment named by an input is looked up through
the viewer's scope first (`permissions.tickets`); outside it, it is
`NOT_FOUND`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from files.storage import StoredFile
from files.uploads import Upload, discard_unreferenced, store_uploads
from models.accounts import Employee
from models.customers import SiteObject
from models.tickets import (Attachment, Comment, Ticket, TicketEvent, TicketEventKind, TicketSource,
                            TicketStatus, TicketType)
from permissions.customers import visible_objects
from permissions.tickets import (TicketPolicy, enabled_type_ids, visible_attachments,
                                 visible_comments, visible_tickets)
from permissions.viewer import Viewer
from resolvers import notifications
from resolvers.accounts import check_name
from core.errors import BadUserInput, Forbidden, NotFound
from core.queries import Sentinels, prepared_values
from resolvers.evaluations import whole_days
from core.settings import Settings

MAX_TITLE = 200
MAX_TEXT = 20_000
ORDER_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "DUE_DATE": "due_date",
                "NUMBER": "number"}


def now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- ticket types

async def create_ticket_type(name: str, is_absence_request: bool) -> TicketType:
    name = check_name(name, max_length=100)
    if await TicketType.filter(name=name).exists():
        raise BadUserInput("A ticket type with this name exists already.", field="name")
    try:
        return await TicketType.create(name=name, is_absence_request=is_absence_request)
    except IntegrityError:
        raise BadUserInput("A ticket type with this name exists already.", field="name") from None


async def visible_ticket_types(viewer: Viewer) -> list[TicketType]:
    """Employees see every type; customer users only the types enabled for their customer."""
    query = TicketType.all().order_by("name")
    if viewer.is_customer_user:
        query = query.filter(id__in=enabled_type_ids(viewer.customer_id))
    return await query


# ---------------------------------------------------------------- reading

@dataclass
class TicketFilter:
    object_id: int | None = None
    status: TicketStatus | None = None
    ticket_type_id: int | None = None
    assignee_id: int | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def filtered_tickets(viewer: Viewer, criteria: TicketFilter | None, order_by: str = "CREATED_AT",
                     descending: bool = True) -> QuerySet[Ticket]:
    """The viewer's tickets narrowed by `criteria`, in a stable order."""
    query = visible_tickets(viewer)
    if criteria:
        if criteria.object_id is not None:
            query = query.filter(object_id=criteria.object_id)
        if criteria.status is not None:
            query = query.filter(status=criteria.status)
        if criteria.ticket_type_id is not None:
            query = query.filter(ticket_type_id=criteria.ticket_type_id)
        if criteria.assignee_id is not None:
            query = query.filter(assignee_id=criteria.assignee_id)
        if criteria.search and criteria.search.strip():
            text = criteria.search.strip()
            query = query.filter(Q(title__icontains=text) | Q(description__icontains=text))
        if criteria.created_after is not None:
            query = query.filter(created_at__gte=criteria.created_after)
        if criteria.created_before is not None:
            query = query.filter(created_at__lt=criteria.created_before)
    column = ORDER_FIELDS[order_by]
    prefix = "-" if descending else ""
    return query.order_by(f"{prefix}{column}", f"{prefix}id")


async def page_of_tickets(query: QuerySet[Ticket], offset: int, first: int) -> tuple[list[Ticket], int]:
    """One page and the total count: two queries, whatever the page size."""
    rows = await query.offset(offset).limit(first)
    total = await query.count()
    return list(rows), total


def person_values(prefix: str) -> tuple[str, ...]:
    """Projection of an account at `prefix` with its employee or customer-user row (one join each)."""
    return tuple(prefix + name for name in (
        "id", "name", "email", "is_active", "employee__id", "employee__is_system_admin",
        "customer_user__id", "customer_user__customer_id"))


# A ticket with its to-one relations, for read-only lists and lookups: one
# joined query, plain dicts instead of model instances.
TICKET_VALUES = (
    "id", "number", "title", "description", "status", "source", "created_at", "updated_at", "done_at",
    "due_date", "ticket_type_id", "object_id", "assignee_id", "created_by_id",
    "ticket_type__name", "ticket_type__is_absence_request",
    "object__name", "object__address", "object__customer_id", "object__customer__name",
    "assignee__is_system_admin", "assignee__account_id", "assignee__account__name",
    "assignee__account__email", "assignee__account__is_active",
) + person_values("created_by__")


def _page_values(query: QuerySet[Ticket], page: QuerySet[Ticket]) -> Any:
    # The page's ids are picked first, so the joins run for its rows only;
    # the total count rides along as a scalar subquery.
    return (query.filter(id__in=Subquery(page.values("id"))).annotate(total_count=Subquery(query.count()))
            .values(*TICKET_VALUES, "total_count"))


async def ticket_page(query: QuerySet[Ticket], offset: int, first: int) -> tuple[list[dict[str, Any]], int]:
    """One page as `TICKET_VALUES` dicts and the total count, in one query whatever the page size.

    Only a page past the end needs a second query to learn the total.
    """
    rows = await _page_values(query, query.offset(offset).limit(first))
    if rows:
        return rows, rows[0]["total_count"]
    return rows, (await query.count() if offset else 0)


async def visible_ticket_page(viewer: Viewer, criteria: TicketFilter | None, order_by: str, descending: bool,
                              offset: int, first: int) -> tuple[list[dict[str, Any]], int]:
    """`ticket_page` of `filtered_tickets(viewer, criteria, ...)`, its SQL compiled once per shape."""
    criteria = criteria or TicketFilter()
    if (criteria.search and criteria.search.strip()) or criteria.created_after or criteria.created_before:
        return await ticket_page(filtered_tickets(viewer, criteria, order_by, descending), offset, first)
    given = {name: getattr(criteria, name) for name in ("object_id", "ticket_type_id", "assignee_id")
             if getattr(criteria, name) is not None}

    def build(s: Sentinels) -> Any:
        narrowed = TicketFilter(status=criteria.status, **{name: s.int(name) for name in given})
        query = filtered_tickets(viewer.with_sentinels(s), narrowed, order_by, descending)
        page = query.limit(s.int("first"))
        return _page_values(query, page.offset(s.int("offset")) if offset else page)

    key = ("ticket_page", viewer.query_shape(), order_by, descending, criteria.status, tuple(given), offset > 0)
    rows = await prepared_values(key, build, {**viewer.query_inputs(), **given, "first": first, "offset": offset})
    if rows:
        return rows, rows[0]["total_count"]
    return rows, (await filtered_tickets(viewer, criteria, order_by, descending).count() if offset else 0)


async def visible_ticket_values(viewer: Viewer, ticket_id: int) -> dict[str, Any] | None:
    """One visible ticket as a `TICKET_VALUES` dict (None outside the viewer's scope)."""
    rows = await prepared_values(
        ("ticket", viewer.query_shape()),
        lambda s: visible_tickets(viewer.with_sentinels(s)).filter(id=s.int("id")).limit(1).values(*TICKET_VALUES),
        {**viewer.query_inputs(), "id": ticket_id})
    return rows[0] if rows else None


async def visible_ticket(viewer: Viewer, ticket_id: int, field: str = "id") -> Ticket:
    ticket = await visible_tickets(viewer).filter(id=ticket_id).first()
    if ticket is None:
        raise NotFound("No ticket with this ID.", field=field)
    return ticket


# ---------------------------------------------------------------- writing

async def next_ticket_number(connection: Any) -> int:
    """Bump the one counter row inside the caller's transaction: unique, and gap-free."""
    sql = ('INSERT INTO "ticket_counter" ("id", "last_number") VALUES (1, 1) '
           'ON CONFLICT ("id") DO UPDATE SET "last_number" = "ticket_counter"."last_number" + 1 '
           'RETURNING "last_number"')
    rows = await connection.execute_query_dict(sql)
    return int(rows[0]["last_number"])


async def record(connection: Any, ticket_id: int, kind: TicketEventKind, actor_id: int | None,
                 from_value: Any = None, to_value: Any = None, at: datetime | None = None) -> None:
    await TicketEvent.create(
        ticket_id=ticket_id, kind=kind, actor_id=actor_id,
        from_value=None if from_value is None else str(from_value)[:200],
        to_value=None if to_value is None else str(to_value)[:200],
        created_at=at or now(), using_db=connection,
    )


def check_title(title: str) -> str:
    cleaned = title.strip()
    if not cleaned:
        raise BadUserInput("The title must not be empty.", field="title")
    if len(cleaned) > MAX_TITLE:
        raise BadUserInput(f"The title must have at most {MAX_TITLE} characters.", field="title")
    return cleaned


def check_text(text: str | None, field: str, required: bool = False) -> str:
    cleaned = (text or "").strip()
    if required and not cleaned:
        raise BadUserInput("This must not be empty.", field=field)
    if len(cleaned) > MAX_TEXT:
        raise BadUserInput(f"This must have at most {MAX_TEXT} characters.", field=field)
    return cleaned


async def active_employee(employee_id: int, field: str = "assigneeId") -> Employee:
    employee = await Employee.filter(id=employee_id, account__is_active=True).first()
    if employee is None:
        raise NotFound("No employee with this ID.", field=field)
    return employee


async def _attach(connection: Any, ticket_id: int, actor_id: int | None,
                  stored: list[tuple[str, StoredFile]], at: datetime) -> list[Attachment]:
    attachments = []
    for filename, item in stored:
        attachment = await Attachment.create(
            ticket_id=ticket_id, uploaded_by_id=actor_id, filename=filename,
            content_type=item.content_type, size=item.size, sha256=item.sha256,
            storage_key=item.storage_key, created_at=at, using_db=connection)
        await record(connection, ticket_id, TicketEventKind.ATTACHMENT_ADDED, actor_id,
                     to_value=filename, at=at)
        attachments.append(attachment)
    return attachments


@dataclass
class NewTicket:
    object_id: int
    ticket_type_id: int
    title: str
    description: str | None = None
    due_date: date | None = None
    assignee_id: int | None = None


async def insert_ticket(connection: Any, *, title: str, description: str, ticket_type_id: int,
                        object_id: int, source: TicketSource, created_by_id: int | None, at: datetime,
                        assignee_id: int | None = None, due_date: date | None = None,
                        form_submission_id: int | None = None) -> Ticket:
    """Insert a validated ticket with the next number and its CREATED event, in the caller's transaction."""
    ticket = await Ticket.create(
        number=await next_ticket_number(connection), title=title, description=description,
        ticket_type_id=ticket_type_id, object_id=object_id, assignee_id=assignee_id,
        due_date=due_date, created_by_id=created_by_id, form_submission_id=form_submission_id,
        source=source, created_at=at, updated_at=at, using_db=connection)
    await record(connection, ticket.id, TicketEventKind.CREATED, created_by_id,
                 to_value=ticket.number, at=at)
    return ticket


async def create_ticket(viewer: Viewer, settings: Settings, new: NewTicket,
                        uploads: list[Upload] = ()) -> Ticket:
    policy = TicketPolicy(viewer)
    types = TicketType.filter(id=new.ticket_type_id)
    if viewer.is_customer_user:
        types = types.filter(id__in=enabled_type_ids(viewer.customer_id))
    # The object and the type checked in one query: the type rides along as a scalar subquery.
    found = await (visible_objects(viewer).filter(id=new.object_id)
                   .annotate(found_type_id=Subquery(types.values("id"))).values("id", "found_type_id"))
    if not found:
        raise NotFound("No object with this ID.", field="objectId")
    if found[0]["found_type_id"] is None:
        raise NotFound("No ticket type with this ID.", field="ticketTypeId")
    object_id, ticket_type_id = found[0]["id"], found[0]["found_type_id"]
    if new.assignee_id is not None and not policy.assign:
        raise Forbidden("You may not assign tickets.", field="assigneeId")
    if new.due_date is not None and not policy.edit:
        raise Forbidden("You may not set a due date.", field="dueDate")
    assignee = await active_employee(new.assignee_id) if new.assignee_id is not None else None
    title = check_title(new.title)
    description = check_text(new.description, "description")
    stored = await store_uploads(settings, list(uploads), "attachments")
    at = now()
    try:
        async with in_transaction() as connection:
            ticket = await insert_ticket(
                connection, title=title, description=description,
                ticket_type_id=ticket_type_id, object_id=object_id,
                assignee_id=assignee.id if assignee else None, due_date=new.due_date,
                created_by_id=viewer.account_id,
                source=TicketSource.PORTAL if viewer.is_customer_user else TicketSource.BACKOFFICE,
                at=at)
            if assignee:
                await record(connection, ticket.id, TicketEventKind.ASSIGNEE_CHANGED,
                             viewer.account_id, None, assignee.id, at=at)
            await _attach(connection, ticket.id, viewer.account_id, stored, at)
            await notifications.queue_ticket_created(connection, ticket, viewer)
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    return ticket


async def update_ticket(viewer: Viewer, ticket_id: int, title: str | None, description: str | None,
                        due_date: date | None, clear_due_date: bool = False) -> Ticket:
    ticket = await visible_ticket(viewer, ticket_id)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = check_title(title)
    if description is not None:
        changes["description"] = check_text(description, "description")
    if due_date is not None or clear_due_date:
        changes["due_date"] = due_date
    if not changes:
        return ticket
    at = now()
    async with in_transaction() as connection:
        await Ticket.filter(id=ticket.id).using_db(connection).update(**changes, updated_at=at)
        for name, value in changes.items():
            await record(connection, ticket.id, TicketEventKind.UPDATED, viewer.account_id,
                         name, value, at=at)
    return await Ticket.get(id=ticket.id)


async def set_ticket_status(viewer: Viewer, ticket_id: int, status: TicketStatus) -> Ticket:
    """Change the status; `doneAt` is the moment it was last set to DONE."""
    ticket = await visible_ticket(viewer, ticket_id)
    if ticket.status is status:
        return ticket
    at = now()
    done_at = at if status is TicketStatus.DONE else None
    days = whole_days(ticket.created_at, done_at) if done_at else None
    async with in_transaction() as connection:
        await Ticket.filter(id=ticket.id).using_db(connection).update(
            status=status, done_at=done_at, resolution_days=days, updated_at=at)
        await record(connection, ticket.id, TicketEventKind.STATUS_CHANGED, viewer.account_id,
                     ticket.status.value, status.value, at=at)
        await notifications.queue_status_changed(connection, ticket, status, viewer)
    # The row as written, without reading it back.
    ticket.status, ticket.done_at, ticket.resolution_days, ticket.updated_at = status, done_at, days, at
    return ticket


async def assign_ticket(viewer: Viewer, ticket_id: int, assignee_id: int | None) -> Ticket:
    ticket = await visible_ticket(viewer, ticket_id)
    assignee = await active_employee(assignee_id) if assignee_id is not None else None
    new_id = assignee.id if assignee else None
    if ticket.assignee_id == new_id:
        return ticket
    at = now()
    async with in_transaction() as connection:
        await Ticket.filter(id=ticket.id).using_db(connection).update(assignee_id=new_id, updated_at=at)
        await record(connection, ticket.id, TicketEventKind.ASSIGNEE_CHANGED, viewer.account_id,
                     ticket.assignee_id, new_id, at=at)
        await notifications.queue_assigned(connection, ticket, new_id, viewer)
    ticket.assignee_id, ticket.updated_at = new_id, at  # the row as written, without reading it back
    return ticket


async def add_comment(viewer: Viewer, ticket_id: int, body: str, internal: bool) -> Comment:
    ticket = await visible_ticket(viewer, ticket_id, field="ticketId")
    if internal and not TicketPolicy(viewer).comment_internally:
        raise Forbidden("Only employees write internal comments.", field="internal")
    text = check_text(body, "body", required=True)
    at = now()
    async with in_transaction() as connection:
        comment = await Comment.create(ticket_id=ticket.id, author_id=viewer.account_id, body=text,
                                       internal=internal, created_at=at, using_db=connection)
        await Ticket.filter(id=ticket.id).using_db(connection).update(updated_at=at)
        await record(connection, ticket.id, TicketEventKind.COMMENT_ADDED, viewer.account_id,
                     to_value=comment.id, at=at)
        await notifications.queue_comment_added(connection, ticket, comment, viewer)
    return comment


async def visible_comment(viewer: Viewer, comment_id: int) -> Comment:
    comment = await visible_comments(viewer).filter(id=comment_id).first()
    if comment is None:
        raise NotFound("No comment with this ID.", field="id")
    return comment


async def edit_comment(viewer: Viewer, comment_id: int, body: str) -> Comment:
    comment = await visible_comment(viewer, comment_id)
    if not TicketPolicy(viewer).may_edit_comment(comment):
        raise Forbidden("Only its author edits a comment.")
    text = check_text(body, "body", required=True)
    at = now()
    async with in_transaction() as connection:
        await Comment.filter(id=comment.id).using_db(connection).update(body=text, edited_at=at)
        await record(connection, comment.ticket_id, TicketEventKind.COMMENT_EDITED,
                     viewer.account_id, to_value=comment.id, at=at)
    return await Comment.get(id=comment.id)


async def delete_comment(viewer: Viewer, comment_id: int) -> bool:
    comment = await visible_comment(viewer, comment_id)
    if not TicketPolicy(viewer).may_delete_comment(comment):
        raise Forbidden("Only its author or an employee deletes a comment.")
    async with in_transaction() as connection:
        await Comment.filter(id=comment.id).using_db(connection).delete()
        await record(connection, comment.ticket_id, TicketEventKind.COMMENT_DELETED,
                     viewer.account_id, from_value=comment.id)
    return True


async def add_attachment(viewer: Viewer, settings: Settings, ticket_id: int, upload: Upload) -> Attachment:
    ticket = await visible_ticket(viewer, ticket_id, field="ticketId")
    stored = await store_uploads(settings, [upload], "file")
    at = now()
    try:
        async with in_transaction() as connection:
            [attachment] = await _attach(connection, ticket.id, viewer.account_id, stored, at)
            await Ticket.filter(id=ticket.id).using_db(connection).update(updated_at=at)
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    return attachment


async def visible_attachment(viewer: Viewer, attachment_id: int) -> Attachment:
    attachment = await visible_attachments(viewer).filter(id=attachment_id).first()
    if attachment is None:
        raise NotFound("No attachment with this ID.", field="id")
    return attachment


async def delete_attachment(viewer: Viewer, settings: Settings, attachment_id: int) -> bool:
    attachment = await visible_attachment(viewer, attachment_id)
    if not TicketPolicy(viewer).may_delete_attachment(attachment):
        raise Forbidden("Only its uploader or an employee removes an attachment.")
    async with in_transaction() as connection:
        await Attachment.filter(id=attachment.id).using_db(connection).delete()
        await record(connection, attachment.ticket_id, TicketEventKind.ATTACHMENT_REMOVED,
                     viewer.account_id, from_value=attachment.filename)
    await discard_unreferenced(settings, [StoredFile(attachment.storage_key, attachment.sha256,
                                                     attachment.size, attachment.content_type)])
    return True


# ---------------------------------------------------------------- import

@dataclass
class ImportedTicket:
    object_id: int
    ticket_type_id: int
    title: str
    external_ref: str
    description: str | None = None
    status: TicketStatus = TicketStatus.OPEN
    created_at: datetime | None = None
    done_at: datetime | None = None
    assignee_id: int | None = None


async def import_tickets(viewer: Viewer, items: list[ImportedTicket]) -> tuple[int, int]:
    """Import from a legacy system, all or nothing; known `externalRef`s are skipped."""
    refs = [item.external_ref.strip() for item in items]
    for index, ref in enumerate(refs):
        if not ref or len(ref) > 100:
            raise BadUserInput("Every ticket needs an externalRef of 1–100 characters.",
                               field=f"tickets.{index}.externalRef")
    if len(set(refs)) != len(refs):
        raise BadUserInput("An externalRef appears twice in this import.", field="tickets")
    known = set(await Ticket.filter(external_ref__in=refs).values_list("external_ref", flat=True))
    object_ids = set(await SiteObject.filter(id__in={i.object_id for i in items}).values_list("id", flat=True))
    type_ids = set(await TicketType.filter(id__in={i.ticket_type_id for i in items}).values_list("id", flat=True))
    employee_ids = set(await Employee.filter(id__in={i.assignee_id for i in items if i.assignee_id})
                       .values_list("id", flat=True))
    at = now()
    rows = []
    for index, (item, ref) in enumerate(zip(items, refs)):
        where = f"tickets.{index}"
        if item.object_id not in object_ids:
            raise NotFound("No object with this ID.", field=f"{where}.objectId")
        if item.ticket_type_id not in type_ids:
            raise NotFound("No ticket type with this ID.", field=f"{where}.ticketTypeId")
        if item.assignee_id is not None and item.assignee_id not in employee_ids:
            raise NotFound("No employee with this ID.", field=f"{where}.assigneeId")
        created = item.created_at or at
        done = item.done_at
        if item.status is TicketStatus.DONE and done is None:
            raise BadUserInput("A DONE ticket needs doneAt.", field=f"{where}.doneAt")
        if item.status is not TicketStatus.DONE and done is not None:
            raise BadUserInput("Only DONE tickets have doneAt.", field=f"{where}.doneAt")
        if done is not None and done < created:
            raise BadUserInput("doneAt is before createdAt.", field=f"{where}.doneAt")
        try:
            title = check_title(item.title)
        except BadUserInput:
            raise BadUserInput("The title must have 1–200 characters.", field=f"{where}.title") from None
        description = check_text(item.description, f"{where}.description")
        if ref in known:
            continue
        rows.append((item, ref, title, description, created, done))
    async with in_transaction() as connection:
        for item, ref, title, description, created, done in rows:
            ticket = await Ticket.create(
                number=await next_ticket_number(connection), title=title,
                description=description, status=item.status,
                ticket_type_id=item.ticket_type_id, object_id=item.object_id,
                assignee_id=item.assignee_id, source=TicketSource.IMPORT, external_ref=ref,
                created_at=created, updated_at=done or created, done_at=done,
                resolution_days=whole_days(created, done) if done else None, using_db=connection)
            await record(connection, ticket.id, TicketEventKind.CREATED, viewer.account_id,
                         to_value=ticket.number, at=created)
            if done is not None:
                await record(connection, ticket.id, TicketEventKind.STATUS_CHANGED, viewer.account_id,
                             TicketStatus.OPEN.value, TicketStatus.DONE.value, at=done)
    return len(rows), len(items) - len(rows)


def comments_of(viewer: Viewer, ticket_ids: list[int]) -> QuerySet[Comment]:
    return visible_comments(viewer, ticket_ids).order_by("created_at", "id")


# A comment with its author, for read-only lists.
COMMENT_VALUES = ("id", "ticket_id", "author_id", "body", "internal", "created_at",
                  "edited_at") + person_values("author__")


ATTACHMENT_VALUES = ("id", "ticket_id", "uploaded_by_id", "filename", "content_type", "size", "sha256",
                     "storage_key", "created_at")


def attachments_of(viewer: Viewer, ticket_ids: list[int]) -> QuerySet[Attachment]:
    return visible_attachments(viewer, ticket_ids).order_by("created_at", "id")


def history_of(viewer: Viewer, ticket_ids: list[int]) -> QuerySet[TicketEvent]:
    """History of the visible ones among `ticket_ids`, oldest first (the field policy limits it to employees)."""
    return (TicketEvent.filter(ticket_id__in=Subquery(visible_tickets(viewer).filter(id__in=ticket_ids).values("id")))
            .order_by("created_at", "id"))

