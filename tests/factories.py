"""Composable builders for test data: customers, objects, ticket types, people with tokens, tickets,
comments and attachments.

They write rows through the models, as the product stores them (a ticket takes its number from the
product's `ticket_counter` row and gets its CREATED event), but without the service functions: tests
that only need data stay independent of how those functions are called. No notification is queued.
"""

from __future__ import annotations

import asyncio
import functools
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tortoise.connection import get_connection

from core.settings import Settings
from files.backends import store_for
from models.accounts import Account, AccountKind, CustomerUser, Employee, PermissionGroup
from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import Attachment, Comment, Ticket, TicketEvent, TicketEventKind, TicketSource, TicketType
from permissions.passwords import hash_password
from permissions.policy import Permission
from permissions.tokens import issue_access_token
from permissions.viewer import Viewer, load_viewer

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass
class Person:
    account: Account
    pk: int  # employee or customer user id
    token: str
    email: str


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _password_hash() -> str:
    # One hash for every account: hashing is not what the tests measure (tests/conftest.py makes it cheap).
    return hash_password(PASSWORD)


def token_for(settings: Settings, account: Account) -> str:
    return issue_access_token(settings, account.id, account.kind, account.token_version)


async def viewer_of(person: Person) -> Viewer:
    """The `Viewer` the API would build from the person's token (for calling service functions directly)."""
    viewer = await load_viewer(person.account.id, person.account.token_version)
    assert viewer is not None
    return viewer


async def make_customer(name: str = "Kunde GmbH", **fields: Any) -> Customer:
    return await Customer.create(name=name, **fields)


async def make_site_object(customer: Customer, name: str, *, address: str = "") -> SiteObject:
    return await SiteObject.create(customer=customer, name=name, address=address)


async def make_ticket_type(
    name: str, *, enabled_for: Iterable[Customer] = (), is_absence_request: bool = False
) -> TicketType:
    """A ticket type, enabled for the portal users of the customers in `enabled_for`."""
    kind = await TicketType.create(name=name, is_absence_request=is_absence_request)
    for customer in enabled_for:
        await CustomerTicketType.create(customer=customer, ticket_type=kind)
    return kind


async def _account(kind: AccountKind, name: str, email: str | None, prefix: str) -> Account:
    return await Account.create(
        kind=kind, name=name, email=(email or f"{_unique(prefix)}@example.test").lower(), password_hash=_password_hash()
    )


async def make_employee(
    settings: Settings,
    *,
    name: str = "Erika Muster",
    email: str | None = None,
    admin: bool = False,
    permissions: Iterable[Permission] = (),
) -> Person:
    """An employee (a system admin with `admin`), holding `permissions` through a group of their own."""
    account = await _account(AccountKind.EMPLOYEE, name, email, "employee")
    employee = await Employee.create(account=account, is_system_admin=admin)
    granted = sorted({p.value for p in permissions})
    if granted:
        group = await PermissionGroup.create(name=_unique("group-"), permissions=granted)
        await employee.groups.add(group)
    return Person(account, employee.id, token_for(settings, account), account.email)


async def make_customer_user(
    settings: Settings,
    customer: Customer | int,
    *,
    objects: Iterable[SiteObject] = (),
    name: str = "Kunde Kurt",
    email: str | None = None,
) -> Person:
    """A customer user of `customer` (the row or its id), assigned to `objects`."""
    account = await _account(AccountKind.CUSTOMER_USER, name, email, "customer")
    customer_id = customer if isinstance(customer, int) else customer.id
    user = await CustomerUser.create(account=account, customer_id=customer_id)
    for site in objects:
        await CustomerUserObject.create(customer_user=user, object=site)
    return Person(account, user.id, token_for(settings, account), account.email)


async def _next_ticket_number() -> int:
    # The product's counter row, bumped the way the product bumps it, so numbers stay one sequence.
    rows = await get_connection("default").execute_query_dict(
        'INSERT INTO "ticket_counter" ("id", "last_number") VALUES (1, 1) '
        'ON CONFLICT ("id") DO UPDATE SET "last_number" = "ticket_counter"."last_number" + 1 '
        'RETURNING "last_number"'
    )
    return int(rows[0]["last_number"])


async def _event(
    ticket: Ticket,
    kind: TicketEventKind,
    actor: Person | None,
    at: datetime,
    from_value: Any = None,
    to_value: Any = None,
) -> None:
    await TicketEvent.create(
        ticket=ticket,
        kind=kind,
        actor_id=actor.account.id if actor else None,
        from_value=None if from_value is None else str(from_value),
        to_value=None if to_value is None else str(to_value),
        created_at=at,
    )


async def make_ticket(
    site: SiteObject,
    kind: TicketType,
    title: str,
    *,
    by: Person,
    description: str = "",
    assignee: Person | None = None,
    due_date: date | None = None,
) -> Ticket:
    """A ticket created by `by` (from the portal when a customer user), with its history so far."""
    at = _now()
    source = TicketSource.PORTAL if by.account.kind is AccountKind.CUSTOMER_USER else TicketSource.BACKOFFICE
    ticket = await Ticket.create(
        number=await _next_ticket_number(),
        title=title,
        description=description,
        ticket_type=kind,
        object=site,
        assignee_id=assignee.pk if assignee else None,
        due_date=due_date,
        created_by=by.account,
        source=source,
        created_at=at,
        updated_at=at,
    )
    await _event(ticket, TicketEventKind.CREATED, by, at, to_value=ticket.number)
    if assignee:
        await _event(ticket, TicketEventKind.ASSIGNEE_CHANGED, by, at, to_value=assignee.pk)
    return ticket


async def make_comment(ticket: Ticket, author: Person, body: str, *, internal: bool = False) -> Comment:
    at = _now()
    comment = await Comment.create(ticket=ticket, author=author.account, body=body, internal=internal, created_at=at)
    await Ticket.filter(id=ticket.id).update(updated_at=at)
    await _event(ticket, TicketEventKind.COMMENT_ADDED, author, at, to_value=comment.id)
    return comment


async def make_attachment(settings: Settings, ticket: Ticket, by: Person, filename: str, data: bytes) -> Attachment:
    """The bytes in the files backend (content-addressed, type sniffed) and the row pointing at them."""
    stored = await asyncio.to_thread(store_for(settings).store, io.BytesIO(data), settings.max_upload_bytes)
    at = _now()
    attachment = await Attachment.create(
        ticket=ticket,
        uploaded_by=by.account,
        filename=filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.storage_key,
        created_at=at,
    )
    await _event(ticket, TicketEventKind.ATTACHMENT_ADDED, by, at, to_value=filename)
    return attachment
