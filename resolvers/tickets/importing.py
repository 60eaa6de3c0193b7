"""Importing tickets from a legacy system (`importTickets`).

At most `MAX_IMPORT_TICKETS` per call; `createdAt`/`doneAt` within the plausible
range of `core.dates`, stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from tortoise.transactions import in_transaction

from core.dates import plausible_instant
from core.errors import BadUserInput, NotFound
from models.accounts import Employee
from models.customers import SiteObject
from models.service_levels import TicketPriority
from models.tickets import Ticket, TicketEventKind, TicketSource, TicketStatus, TicketType
from permissions.viewer import Viewer
from resolvers.evaluations import whole_days
from resolvers.service_levels import clock as sla
from resolvers.service_levels.configure import terms_for
from resolvers.tickets.write import check_text, check_title, next_ticket_number, now, record

# Tickets per `importTickets` call; a larger import is split by the caller.
MAX_IMPORT_TICKETS = 1000


@dataclass(frozen=True)
class _Known:
    """What already exists of what an import names."""

    refs: set[str]
    object_ids: set[int]
    type_ids: set[int]
    employee_ids: set[int]


async def _known(tickets: list[dict[str, Any]], refs: list[str]) -> _Known:
    async def ids(model: Any, wanted: set[int]) -> set[int]:
        return set(await model.filter(id__in=wanted).values_list("id", flat=True))

    return _Known(
        # Tortoise types values_list(flat=True) as tuples; the rows are the bare values.
        refs=set(cast(list[str], await Ticket.filter(external_ref__in=refs).values_list("external_ref", flat=True))),
        object_ids=await ids(SiteObject, {i["object_id"] for i in tickets}),
        type_ids=await ids(TicketType, {i["ticket_type_id"] for i in tickets}),
        employee_ids=await ids(Employee, {i["assignee_id"] for i in tickets if i["assignee_id"]}),
    )


def _checked(
    item: dict[str, Any], where: str, known: _Known, at: datetime
) -> tuple[str, str, datetime, datetime | None]:
    """(title, description, created, done) of one item, or the error at `where` (`tickets.3`)."""
    if item["object_id"] not in known.object_ids:
        raise NotFound("No object with this ID.", field=f"{where}.objectId")
    if item["ticket_type_id"] not in known.type_ids:
        raise NotFound("No ticket type with this ID.", field=f"{where}.ticketTypeId")
    if item["assignee_id"] is not None and item["assignee_id"] not in known.employee_ids:
        raise NotFound("No employee with this ID.", field=f"{where}.assigneeId")
    created = plausible_instant(item["created_at"], f"{where}.createdAt") if item["created_at"] else at
    done = plausible_instant(item["done_at"], f"{where}.doneAt") if item["done_at"] else None
    if item["status"] is TicketStatus.DONE and done is None:
        raise BadUserInput("A DONE ticket needs doneAt.", field=f"{where}.doneAt")
    if item["status"] is not TicketStatus.DONE and done is not None:
        raise BadUserInput("Only DONE tickets have doneAt.", field=f"{where}.doneAt")
    if done is not None and done < created:
        raise BadUserInput("doneAt is before createdAt.", field=f"{where}.doneAt")
    try:
        title = check_title(item["title"])
    except BadUserInput:
        raise BadUserInput("The title must have 1–200 characters.", field=f"{where}.title") from None
    return title, check_text(item["description"], f"{where}.description"), created, done


async def import_tickets(viewer: Viewer, tickets: list[dict[str, Any]]) -> tuple[int, int]:
    """Import `tickets` (the fields of `ImportTicketInput`, ids decoded), all or nothing.

    Known `externalRef`s are skipped; returns how many were imported and skipped.
    """
    if len(tickets) > MAX_IMPORT_TICKETS:
        raise BadUserInput(
            f"At most {MAX_IMPORT_TICKETS} tickets per import.", field="tickets", limit=MAX_IMPORT_TICKETS
        )
    refs = [item["external_ref"].strip() for item in tickets]
    for index, ref in enumerate(refs):
        if not ref or len(ref) > 100:
            raise BadUserInput(
                "Every ticket needs an externalRef of 1–100 characters.", field=f"tickets.{index}.externalRef"
            )
    if len(set(refs)) != len(refs):
        raise BadUserInput("An externalRef appears twice in this import.", field="tickets")
    known = await _known(tickets, refs)
    at = now()
    rows = []
    for index, (item, ref) in enumerate(zip(tickets, refs, strict=True)):
        checked = _checked(item, f"tickets.{index}", known, at)
        if ref not in known.refs:
            rows.append((item, ref, *checked))
    async with in_transaction() as connection:
        for item, ref, title, description, created, done in rows:
            clock = await _imported_clock(connection, item, created, done, at)
            ticket = await Ticket.create(
                number=await next_ticket_number(connection),
                title=title,
                description=description,
                status=item["status"],
                ticket_type_id=item["ticket_type_id"],
                object_id=item["object_id"],
                assignee_id=item["assignee_id"],
                source=TicketSource.IMPORT,
                external_ref=ref,
                created_at=created,
                updated_at=done or created,
                done_at=done,
                resolution_days=whole_days(created, done) if done else None,
                **clock.columns(),
                using_db=connection,
            )
            await record(
                connection, ticket.id, TicketEventKind.CREATED, viewer.account_id, to_value=ticket.number, at=created
            )
            if done is not None:
                await record(
                    connection,
                    ticket.id,
                    TicketEventKind.STATUS_CHANGED,
                    viewer.account_id,
                    TicketStatus.OPEN.value,
                    TicketStatus.DONE.value,
                    at=done,
                )
    return len(rows), len(tickets) - len(rows)


async def _imported_clock(
    connection: Any, item: dict[str, Any], created: datetime, done: datetime | None, at: datetime
) -> sla.SlaState:
    """The service level of an imported ticket, as if created at its `createdAt`: a DONE one was
    answered and resolved at `doneAt`; an IN_PROGRESS one counts as answered by the import itself."""
    terms = await terms_for(connection, item["object_id"], item["ticket_type_id"])
    clock = sla.started(terms, TicketPriority.NORMAL, created)
    if done is not None:
        clock = sla.moved(sla.responded(clock, done), terms, done, leaves_done=False, enters_done=True, pauses=False)
    elif item["status"] is TicketStatus.IN_PROGRESS:
        clock = sla.responded(clock, max(at, created))
    return clock
