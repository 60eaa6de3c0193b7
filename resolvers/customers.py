"""Customer portal configuration: customers, objects, customer users, enabled types; and reading them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import BadUserInput, NotFound
from core.keyset import Listing, Window
from core.lookup import get_in_scope
from core.queries import prepared_values
from mail.inbound.tokens import intake_key
from models.accounts import Account, CustomerUser, Employee
from models.audit import AuditAction
from models.customers import Customer, CustomerTicketType, CustomerUserObject, ObjectResponsible, SiteObject
from models.tickets import TicketType
from permissions.customers import visible_customers, visible_objects
from permissions.viewer import Viewer
from resolvers import accounts
from resolvers.accounts import check_name
from resolvers.audit import audited_change, record_audit

# ---------------------------------------------------------------- reading


OBJECTS = Listing("objects", "name", descending=False)
# What an object of a list is read with (`schema.customers.SiteObject.from_row`).
OBJECT_VALUES = ("id", "name", "address", "customer_id")
CUSTOMERS = Listing("customers", "name", descending=False)


async def object_page(viewer: Viewer, window: Window, counted: bool = True) -> tuple[list[Any], int | None]:
    """One page of the objects the viewer may see, by name (`OBJECTS`), and how many there are in all
    (None when not `counted`: the caller does not show it). Rows are model instances, or rows with
    the attributes `OBJECT_VALUES` names."""
    if counted:
        return await OBJECTS.page(visible_objects(viewer), window)
    if window.bounded:  # a cursor's key is no sentinel: built each time
        return await OBJECTS.rows(visible_objects(viewer), window), None
    # A first (or last) page: compiled once per shape, the columns `schema.customers.SiteObject` reads
    # as plain rows (building model instances was a sixth of an object list's CPU, issue 25).
    rows = await prepared_values(
        ("object_page", viewer.query_shape(), OBJECTS.reading(window)),
        lambda s: (
            visible_objects(viewer.with_sentinels(s))
            .order_by(*OBJECTS.order_by(OBJECTS.reading(window)))
            .limit(s.int("limit"))
            .values(*OBJECT_VALUES)
        ),
        {**viewer.query_inputs(), "limit": window.limit + 1},
    )
    return [SimpleNamespace(**row) for row in rows], None


async def customer_page(viewer: Viewer, window: Window) -> tuple[list[Customer], int]:
    """One page of the customers the viewer may see, by name (`CUSTOMERS`), and how many there are in all."""
    return await CUSTOMERS.page(visible_customers(viewer), window)


async def find_object(viewer: Viewer, object_id: int) -> SiteObject | None:
    return await visible_objects(viewer).filter(id=object_id).first()


async def find_customer(viewer: Viewer, customer_id: int) -> Customer | None:
    return await visible_customers(viewer).filter(id=customer_id).first()


async def responsibles_of(viewer: Viewer, object_ids: list[int]) -> dict[int, list[Employee]]:
    """The responsible employees (with their accounts) of each object, by name; the field's policy
    admits employees only, who may see every object's."""
    grouped: dict[int, list[Employee]] = {}
    links = await ObjectResponsible.filter(object_id__in=object_ids).select_related("employee__account")
    for link in sorted(links, key=lambda link: (link.employee.account.name, link.employee_id)):
        grouped.setdefault(link.object_id, []).append(link.employee)
    return grouped


# ---------------------------------------------------------------- configuration (portal admins)
# Portal admins configure every customer: no viewer scope narrows these lookups.


async def get_customer(customer_id: int, field: str = "customerId") -> Customer:
    return await get_in_scope(Customer.all(), customer_id, "customer", field)


async def create_customer(name: str) -> Customer:
    return await Customer.create(name=check_name(name))


async def create_object(customer_id: int, name: str, address: str) -> SiteObject:
    customer = await get_customer(customer_id)
    if len(address) > 500:
        raise BadUserInput("The address must have at most 500 characters.", field="address")
    return await SiteObject.create(
        customer=customer, name=check_name(name), address=address.strip(), intake_key=intake_key()
    )


async def new_customer_user(customer_id: int, email: str, name: str, password: str) -> CustomerUser:
    """Insert a customer user with their account (no audit event: the demo data and `create_customer_user`
    use it)."""
    customer = await get_customer(customer_id)
    return await accounts.create_customer_user_account(customer.id, email, name, password)


async def replace_customer_user_objects(customer_user_id: int, object_ids: list[int]) -> CustomerUser:
    """Replace a customer user's objects; only objects of the user's own customer (no audit event)."""
    user = await get_in_scope(CustomerUser.all(), customer_user_id, "customer user", "customerUserId")
    wanted = set(object_ids)
    found = {row["id"] for row in await SiteObject.filter(id__in=wanted, customer_id=user.customer_id).values("id")}
    if found != wanted:
        raise BadUserInput("Every object must belong to the customer user's customer.", field="objectIds")
    async with in_transaction():
        await CustomerUserObject.filter(customer_user_id=user.id).delete()
        await CustomerUserObject.bulk_create(
            [CustomerUserObject(customer_user_id=user.id, object_id=pk) for pk in sorted(wanted)]
        )
    return user


async def create_customer_user(
    actor: Viewer, address: str | None, customer_id: int, email: str, name: str, password: str
) -> tuple[CustomerUser, Account]:
    """A new customer user with their account; it and its audit event are stored together or not at all."""
    async with audited_change():
        row = await new_customer_user(customer_id, email, name, password)
        account = await Account.get(id=row.account_id)
        await record_audit(
            actor,
            AuditAction.ACCOUNT_CREATED,
            "CustomerUser",
            row.id,
            f"Customer user {account.name!r} <{account.email}> created",
            address,
        )
    return row, account


async def set_customer_user_objects(
    actor: Viewer, address: str | None, customer_user_id: int, object_ids: list[int]
) -> tuple[CustomerUser, Account]:
    """Replace the objects a customer user is assigned, audited (one transaction)."""
    async with audited_change():
        row = await replace_customer_user_objects(customer_user_id, object_ids)
        account = await Account.get(id=row.account_id)
        await record_audit(
            actor,
            AuditAction.ACCOUNT_UPDATED,
            "CustomerUser",
            row.id,
            f"Objects of customer user {account.name!r} set to {len(set(object_ids))} object(s)",
            address,
        )
    return row, account


async def set_customer_ticket_types(customer_id: int, ticket_type_ids: list[int]) -> Customer:
    """Replace the ticket types a customer's users may create and see; absence types refused."""
    customer = await get_customer(customer_id)
    wanted = set(ticket_type_ids)
    types = await TicketType.filter(id__in=wanted)
    if len(types) != len(wanted):
        raise NotFound("One of the ticket types does not exist.", field="ticketTypeIds")
    if any(t.is_absence_request for t in types):
        raise BadUserInput("Absence request types cannot be enabled for customers.", field="ticketTypeIds")
    async with in_transaction():
        await CustomerTicketType.filter(customer_id=customer.id).delete()
        await CustomerTicketType.bulk_create(
            [CustomerTicketType(customer_id=customer.id, ticket_type_id=t.id) for t in types]
        )
    return customer


MAX_RESPONSIBLES = 50


async def set_object_responsibles(object_id: int, employee_ids: list[int]) -> SiteObject:
    """Replace the employees responsible for an object; active employees only."""
    site = await get_in_scope(SiteObject.all(), object_id, "object", "objectId")
    wanted = set(employee_ids)
    if len(wanted) > MAX_RESPONSIBLES:
        raise BadUserInput(f"At most {MAX_RESPONSIBLES} responsible employees per object.", field="employeeIds")
    found = await Employee.filter(id__in=wanted).values("id", "account__is_active")
    if len(found) != len(wanted):
        raise NotFound("One of the employees does not exist.", field="employeeIds")
    if not all(row["account__is_active"] for row in found):
        raise BadUserInput("A deactivated employee cannot be responsible for an object.", field="employeeIds")
    async with in_transaction():
        await ObjectResponsible.filter(object_id=site.id).delete()
        await ObjectResponsible.bulk_create(
            [ObjectResponsible(object_id=site.id, employee_id=pk) for pk in sorted(wanted)]
        )
    return site
