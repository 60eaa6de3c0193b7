"""Writing tickets: creating, changing, comments, attachments, and the history every change leaves.

Every ticket, comment or attachment named by an input is looked up through
the viewer's scope first (`permissions.tickets`); outside it, it is
`NOT_FOUND`. Each write takes `at` (default: now) so that data with a past,
like the demo's, is written by the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from tortoise.expressions import F, Subquery
from tortoise.transactions import in_transaction

from core.errors import BadUserInput, Forbidden, NotFound
from core.settings import Settings
from files.storage import StoredFile
from files.uploads import Upload, discard_unreferenced, release, remove_if_unreferenced, store_uploads
from live.hub import announce
from models import search as search_index
from models.accounts import Employee
from models.service_levels import TicketPriority
from models.tickets import (
    Attachment,
    Comment,
    CommentSource,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketSource,
    TicketState,
    TicketStatus,
)
from permissions.customers import visible_objects
from permissions.service_levels import RESPONDS
from permissions.tickets import LoopFacts, TicketPolicy, visible_ticket_types
from permissions.viewer import Viewer
from resolvers import notifications
from resolvers.evaluations import whole_days
from resolvers.service_levels import clock as sla
from resolvers.service_levels.configure import terms_by_id, terms_for
from resolvers.tickets import states as ticket_states
from resolvers.tickets.read import get_attachment, get_comment, get_ticket
from webhooks.outbox import queue_history

MAX_TITLE = 200
# History entries whose change touches searched text: on SQLite the search documents the
# triggers noted are rebuilt in the same transaction (`models.search`; PostgreSQL's triggers did).
SEARCHED_CHANGES = frozenset(
    {
        TicketEventKind.CREATED,
        TicketEventKind.UPDATED,
        TicketEventKind.COMMENT_ADDED,
        TicketEventKind.COMMENT_EDITED,
        TicketEventKind.COMMENT_DELETED,
        TicketEventKind.ATTACHMENT_ADDED,
        TicketEventKind.ATTACHMENT_REMOVED,
    }
)
MAX_TEXT = 20_000


def now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- building blocks


async def next_ticket_number(connection: Any) -> int:
    """Bump the one counter row inside the caller's transaction: unique, and gap-free."""
    sql = (
        'INSERT INTO "ticket_counter" ("id", "last_number") VALUES (1, 1) '
        'ON CONFLICT ("id") DO UPDATE SET "last_number" = "ticket_counter"."last_number" + 1 '
        'RETURNING "last_number"'
    )
    rows = await connection.execute_query_dict(sql)
    return int(rows[0]["last_number"])


async def record(
    connection: Any,
    ticket_id: int,
    kind: TicketEventKind,
    actor_id: int | None,
    from_value: Any = None,
    to_value: Any = None,
    at: datetime | None = None,
    *,
    comment_id: int | None = None,
    attachment_id: int | None = None,
) -> None:
    """One history entry, in the caller's transaction (naming the comment or attachment it is about),
    and what it causes there: the ticket's search document rebuilt when searched text changed, the
    webhook deliveries (committed or rolled back with it) and its announcement to live subscriptions
    (`live.hub.announce`: delivered after commit, never for a rollback).
    """
    at = at or now()
    event = await TicketEvent.create(
        ticket_id=ticket_id,
        kind=kind,
        actor_id=actor_id,
        from_value=None if from_value is None else str(from_value)[:200],
        to_value=None if to_value is None else str(to_value)[:200],
        comment_id=comment_id,
        attachment_id=attachment_id,
        created_at=at,
        using_db=connection,
    )
    await queue_history(
        connection, ticket_id, kind, comment_id=comment_id, attachment_id=attachment_id, from_value=from_value, at=at
    )
    if kind in SEARCHED_CHANGES:
        await search_index.refresh_pending(connection)
    await announce(connection, event.id)


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


async def active_employee(employee_id: int) -> Employee:
    employee = await Employee.filter(id=employee_id, account__is_active=True).first()
    if employee is None:
        raise NotFound("No employee with this ID.", field="assigneeId")
    return employee


async def attach_stored(
    connection: Any, ticket_id: int, actor_id: int | None, stored: list[tuple[str, StoredFile]], at: datetime
) -> list[Attachment]:
    """Attachment rows (and their history) for files already stored, in the caller's transaction."""
    attachments = []
    for filename, item in stored:
        attachment = await Attachment.create(
            ticket_id=ticket_id,
            uploaded_by_id=actor_id,
            filename=filename,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            storage_key=item.storage_key,
            created_at=at,
            using_db=connection,
        )
        await record(
            connection,
            ticket_id,
            TicketEventKind.ATTACHMENT_ADDED,
            actor_id,
            to_value=filename,
            at=at,
            attachment_id=attachment.id,
        )
        attachments.append(attachment)
    return attachments


async def insert_ticket(
    connection: Any,
    *,
    title: str,
    description: str,
    ticket_type_id: int,
    object_id: int,
    source: TicketSource,
    created_by_id: int | None,
    assignee_id: int | None = None,
    due_date: date | None = None,
    form_submission_id: int | None = None,
    priority: TicketPriority | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Insert a validated ticket with the next number and its CREATED event, in the caller's transaction.

    The most specific service-level policy's terms are fixed on it now, with its due times.
    """
    at = at or now()
    priority = priority or TicketPriority.NORMAL
    clock = sla.started(await terms_for(connection, object_id, ticket_type_id), priority, at)
    ticket = await Ticket.create(
        number=await next_ticket_number(connection),
        title=title,
        description=description,
        ticket_type_id=ticket_type_id,
        object_id=object_id,
        assignee_id=assignee_id,
        due_date=due_date,
        created_by_id=created_by_id,
        form_submission_id=form_submission_id,
        source=source,
        created_at=at,
        updated_at=at,
        priority=priority,
        **clock.columns(),
        using_db=connection,
    )
    await record(connection, ticket.id, TicketEventKind.CREATED, created_by_id, to_value=ticket.number, at=at)
    return ticket


# ---------------------------------------------------------------- tickets


async def create_ticket(
    viewer: Viewer,
    settings: Settings,
    *,
    object_id: int,
    ticket_type_id: int,
    title: str,
    description: str | None = None,
    due_date: date | None = None,
    assignee_id: int | None = None,
    attachments: Sequence[Upload] | None = (),
    priority: TicketPriority | None = None,
    at: datetime | None = None,
) -> Ticket:
    policy = TicketPolicy(viewer)
    types = visible_ticket_types(viewer).filter(id=ticket_type_id)
    # The object and the type checked in one query: the type rides along as a scalar subquery.
    found = await (
        visible_objects(viewer)
        .filter(id=object_id)
        .annotate(found_type_id=Subquery(types.values("id")))
        .values("id", "found_type_id")
    )
    if not found:
        raise NotFound("No object with this ID.", field="objectId")
    if found[0]["found_type_id"] is None:
        raise NotFound("No ticket type with this ID.", field="ticketTypeId")
    object_id, ticket_type_id = found[0]["id"], found[0]["found_type_id"]
    if assignee_id is not None and not policy.assign:
        raise Forbidden("You may not assign tickets.", field="assigneeId")
    if due_date is not None and not policy.edit:
        raise Forbidden("You may not set a due date.", field="dueDate")
    assignee = await active_employee(assignee_id) if assignee_id is not None else None
    title = check_title(title)
    description = check_text(description, "description")
    stored = await store_uploads(settings, list(attachments or ()), "attachments")
    at = at or now()
    try:
        async with in_transaction() as connection:
            ticket = await insert_ticket(
                connection,
                title=title,
                description=description,
                ticket_type_id=ticket_type_id,
                object_id=object_id,
                assignee_id=assignee.id if assignee else None,
                due_date=due_date,
                created_by_id=viewer.account_id,
                source=TicketSource.PORTAL if viewer.is_customer_user else TicketSource.BACKOFFICE,
                priority=priority,
                at=at,
            )
            if assignee:
                await record(
                    connection, ticket.id, TicketEventKind.ASSIGNEE_CHANGED, viewer.account_id, None, assignee.id, at=at
                )
            await attach_stored(connection, ticket.id, viewer.account_id, stored, at)
            await notifications.queue_ticket_created(connection, ticket, viewer)
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    await release([s for _, s in stored])
    return ticket


async def update_ticket(
    viewer: Viewer,
    ticket_id: int,
    *,
    title: str | None = None,
    description: str | None = None,
    due_date: date | None = None,
    clear_due_date: bool = False,
    priority: TicketPriority | None = None,
    at: datetime | None = None,
) -> Ticket:
    ticket = await get_ticket(viewer, ticket_id)
    changes: dict[str, Any] = {}
    clock: dict[str, Any] = {}
    if priority is not None and priority is not ticket.priority:
        changes["priority"] = priority
        # The due times follow, from createdAt, with the ticket's own terms' target for the new priority.
        terms = (await terms_by_id([ticket.sla_terms_id]))[ticket.sla_terms_id] if ticket.sla_terms_id else None
        clock = sla.reprioritised(sla.SlaState.of(ticket), terms, priority).columns()
    if title is not None:
        changes["title"] = check_title(title)
    if description is not None:
        changes["description"] = check_text(description, "description")
    if due_date is not None or clear_due_date:
        changes["due_date"] = due_date
    if not changes:
        return ticket
    at = at or now()
    async with in_transaction() as connection:
        await Ticket.filter(id=ticket.id).using_db(connection).update(**changes, **clock, updated_at=at)
        for name, value in changes.items():
            shown = value.value if isinstance(value, TicketPriority) else value
            await record(connection, ticket.id, TicketEventKind.UPDATED, viewer.account_id, name, shown, at=at)
    return await Ticket.get(id=ticket.id)


async def set_ticket_status(
    viewer: Viewer, ticket_id: int, status: TicketStatus, *, at: datetime | None = None
) -> Ticket:
    """Move to the default state of category `status` (a ticket already in the category stays where it is)."""
    ticket = await get_ticket(viewer, ticket_id)
    if ticket.status is status:
        return ticket
    workflow = await ticket_states.workflow_of(ticket)
    target = ticket_states.default_of(workflow.states, status)
    ticket_states.check_move(workflow.states, workflow.transitions, workflow.current, target, "status")
    return await move_ticket(viewer, ticket, workflow, target, at=at)


async def move_ticket(
    viewer: Viewer,
    ticket: Ticket,
    workflow: ticket_states.Workflow,
    target: TicketState,
    *,
    at: datetime | None = None,
    reason: str | None = None,
) -> Ticket:
    """Put `ticket` (in `workflow.current`) into `target`, in one transaction, with its history and mail.

    `status`, `doneAt` and the stored resolution days follow the category: entering DONE sets
    them, leaving DONE clears them and the customer's confirmation and counts a reopening
    (`reason` given: a customer user's `reopenTicket`, recorded as REOPENED with the reason).
    """
    at = at or now()
    current = workflow.current
    changes: dict[str, Any] = {"state_id": target.id, "updated_at": at}
    status = target.category
    leaves_done = ticket.status is TicketStatus.DONE and status is not TicketStatus.DONE
    if status is not ticket.status:
        done_at = at if status is TicketStatus.DONE else None
        days = whole_days(ticket.created_at, done_at) if done_at else None
        changes.update(status=status, done_at=done_at, resolution_days=days)
    if leaves_done:
        changes.update(reopen_count=F("reopen_count") + 1, rating=None, feedback=None, confirmed_at=None)
    clock = await _moved_clock(viewer, ticket, target, at, leaves_done=leaves_done)
    changes.update(clock)
    async with in_transaction() as connection:
        row = Ticket.filter(id=ticket.id)
        if reason is not None:  # a customer's reopening: only while still DONE and unconfirmed (a racing confirm wins)
            row = row.filter(status=TicketStatus.DONE, confirmed_at__isnull=True)
        updated = await row.using_db(connection).update(**changes)
        if reason is not None and not updated:
            raise Forbidden("This ticket was confirmed or reopened meanwhile.", reason="NOT_CONFIRMABLE")
        if status is not ticket.status:
            await record(
                connection,
                ticket.id,
                TicketEventKind.STATUS_CHANGED,
                viewer.account_id,
                ticket.status.value,
                status.value,
                at=at,
            )
        # Between two defaults of different categories STATUS_CHANGED says it all (as before states
        # existed); any other move names the states.
        if status is ticket.status or not (current.is_default and target.is_default):
            await record(
                connection,
                ticket.id,
                TicketEventKind.STATE_CHANGED,
                viewer.account_id,
                current.name,
                target.name,
                at=at,
            )
        if reason is not None:
            await record(
                connection, ticket.id, TicketEventKind.REOPENED, viewer.account_id, current.name, reason, at=at
            )
        previous = ticket.status
        ticket.status, ticket.state_id = status, target.id
        if status is not previous:
            ticket.done_at, ticket.resolution_days = changes["done_at"], changes["resolution_days"]
            # The customer's window to confirm or reopen, for the DONE mail (None: nothing to confirm).
            window = LoopFacts(
                status, ticket.done_at, None, workflow.kind.customer_confirmation, workflow.kind.reopen_window_days
            ).window_ends_at
            await notifications.queue_status_changed(connection, ticket, status, viewer, window)
        if reason is not None:
            await notifications.queue_reopened(connection, ticket, reason, viewer)
    ticket.updated_at = at
    for name, value in clock.items():  # the row as written, without reading it back
        setattr(ticket, name, value)
    if leaves_done:
        ticket.reopen_count += 1
        ticket.rating = ticket.confirmed_at = None
        ticket.feedback = None  # type: ignore[assignment]  # a nullable TextField
    return ticket


async def _moved_clock(
    viewer: Viewer, ticket: Ticket, target: TicketState, at: datetime, *, leaves_done: bool
) -> dict[str, Any]:
    """The service-level columns after moving `ticket` into `target` (nothing without a target)."""
    if ticket.sla_terms_id is None or ticket.sla_first_response_due_at is None:
        return {}
    state = sla.SlaState.of(ticket)
    if RESPONDS.allows(viewer) and target.category in (TicketStatus.IN_PROGRESS, TicketStatus.DONE):
        state = sla.responded(state, at)
    terms = (await terms_by_id([ticket.sla_terms_id]))[ticket.sla_terms_id]
    state = sla.moved(
        state,
        terms,
        at,
        leaves_done=leaves_done,
        enters_done=target.category is TicketStatus.DONE and ticket.status is not TicketStatus.DONE,
        pauses=target.pauses_service_level,
    )
    return state.columns()


async def assign_ticket(
    viewer: Viewer, ticket_id: int, assignee_id: int | None, *, at: datetime | None = None
) -> Ticket:
    ticket = await get_ticket(viewer, ticket_id)
    assignee = await active_employee(assignee_id) if assignee_id is not None else None
    new_id = assignee.id if assignee else None
    if ticket.assignee_id == new_id:
        return ticket
    at = at or now()
    async with in_transaction() as connection:
        await Ticket.filter(id=ticket.id).using_db(connection).update(assignee_id=new_id, updated_at=at)
        await record(
            connection,
            ticket.id,
            TicketEventKind.ASSIGNEE_CHANGED,
            viewer.account_id,
            ticket.assignee_id,
            new_id,
            at=at,
        )
        await notifications.queue_assigned(connection, ticket, new_id, viewer)
    ticket.assignee_id, ticket.updated_at = new_id, at  # the row as written, without reading it back
    return ticket


# ---------------------------------------------------------------- comments


async def add_comment(
    viewer: Viewer, ticket_id: int, body: str, internal: bool = False, *, at: datetime | None = None
) -> Comment:
    ticket = await get_ticket(viewer, ticket_id, field="ticketId")
    if internal and not TicketPolicy(viewer).comment_internally:
        raise Forbidden("Only employees write internal comments.", field="internal")
    text = check_text(body, "body", required=True)
    async with in_transaction() as connection:
        return await insert_comment(connection, ticket, viewer, text, internal, at=at)


async def insert_comment(
    connection: Any,
    ticket: Ticket,
    viewer: Viewer,
    text: str,
    internal: bool,
    *,
    source: CommentSource = CommentSource.APP,
    at: datetime | None = None,
) -> Comment:
    """A checked comment by `viewer` on a ticket they see, with its history and mail, in the caller's
    transaction (`addComment`; a reply by mail, `resolvers.inbound_mail`)."""
    at = at or now()
    clock: dict[str, Any] = {}
    if RESPONDS.allows(viewer) and not internal and ticket.sla_first_response_due_at is not None:
        if ticket.sla_first_responded_at is None:  # an employee's first public comment answers the ticket
            clock = sla.responded(sla.SlaState.of(ticket), at).columns()
    comment = await Comment.create(
        ticket_id=ticket.id,
        author_id=viewer.account_id,
        body=text,
        internal=internal,
        source=source,
        created_at=at,
        using_db=connection,
    )
    await Ticket.filter(id=ticket.id).using_db(connection).update(updated_at=at, **clock)
    await record(
        connection,
        ticket.id,
        TicketEventKind.COMMENT_ADDED,
        viewer.account_id,
        to_value=comment.id,
        at=at,
        comment_id=comment.id,
    )
    await notifications.queue_comment_added(connection, ticket, comment, viewer)
    return comment


async def edit_comment(viewer: Viewer, comment_id: int, body: str) -> Comment:
    comment = await get_comment(viewer, comment_id)
    if not TicketPolicy(viewer).may_edit_comment(comment):
        raise Forbidden("Only its author edits a comment.")
    text = check_text(body, "body", required=True)
    at = now()
    async with in_transaction() as connection:
        await Comment.filter(id=comment.id).using_db(connection).update(body=text, edited_at=at)
        await record(
            connection,
            comment.ticket_id,
            TicketEventKind.COMMENT_EDITED,
            viewer.account_id,
            to_value=comment.id,
            at=at,
            comment_id=comment.id,
        )
    return await Comment.get(id=comment.id)


async def delete_comment(viewer: Viewer, comment_id: int) -> bool:
    comment = await get_comment(viewer, comment_id)
    if not TicketPolicy(viewer).may_delete_comment(comment):
        raise Forbidden("Only its author or an employee deletes a comment.")
    async with in_transaction() as connection:
        await Comment.filter(id=comment.id).using_db(connection).delete()
        await record(
            connection,
            comment.ticket_id,
            TicketEventKind.COMMENT_DELETED,
            viewer.account_id,
            from_value=comment.id,
            comment_id=comment.id,
        )
    return True


# ---------------------------------------------------------------- attachments


async def add_attachment(
    viewer: Viewer, settings: Settings, ticket_id: int, upload: Upload, *, at: datetime | None = None
) -> Attachment:
    ticket = await get_ticket(viewer, ticket_id, field="ticketId")
    stored = await store_uploads(settings, [upload], "file")
    at = at or now()
    try:
        async with in_transaction() as connection:
            [attachment] = await attach_stored(connection, ticket.id, viewer.account_id, stored, at)
            await Ticket.filter(id=ticket.id).using_db(connection).update(updated_at=at)
    except BaseException:
        await discard_unreferenced(settings, [s for _, s in stored])
        raise
    await release([s for _, s in stored])
    return attachment


async def delete_attachment(viewer: Viewer, settings: Settings, attachment_id: int) -> bool:
    attachment = await get_attachment(viewer, attachment_id)
    if not TicketPolicy(viewer).may_delete_attachment(attachment):
        raise Forbidden("Only its uploader or an employee removes an attachment.")
    async with in_transaction() as connection:
        await Attachment.filter(id=attachment.id).using_db(connection).delete()
        await record(
            connection,
            attachment.ticket_id,
            TicketEventKind.ATTACHMENT_REMOVED,
            viewer.account_id,
            from_value=attachment.filename,
            attachment_id=attachment.id,
        )
    await remove_if_unreferenced(settings, [attachment.storage_key])
    return True
