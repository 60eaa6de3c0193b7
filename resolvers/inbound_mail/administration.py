"""Around the email channel: intake addresses, a customer's mail ticket type, bouncing addresses.

Portal administrators configure every object and customer (no viewer scope narrows these
lookups, as in `resolvers.customers`); the fields reading them are the employees'.
"""

from __future__ import annotations

from core.errors import BadUserInput, NotFound
from core.lookup import get_in_scope
from core.settings import Settings
from mail.inbound.tokens import intake_key
from models.accounts import Account, CustomerUser, Employee
from models.customers import Customer, CustomerTicketType, SiteObject
from models.tickets import TicketType


def intake_address(settings: Settings, key: str | None) -> str | None:
    """`<key>@SITEDESK_INBOUND_DOMAIN`, or None while the channel is off."""
    if not settings.inbound_domain or not key:
        return None
    return f"{key}@{settings.inbound_domain}"


async def intake_keys(object_ids: list[int]) -> dict[int, str]:
    """The intake key of each object, made on first use for objects that have none yet."""
    rows = await SiteObject.filter(id__in=object_ids).values("id", "intake_key")
    keys = {row["id"]: row["intake_key"] for row in rows}
    missing = [pk for pk, key in keys.items() if key is None]
    for pk in missing:
        # Conditional: two requests making a key at once keep the first one written.
        await SiteObject.filter(id=pk, intake_key__isnull=True).update(intake_key=intake_key())
    if missing:
        rows = await SiteObject.filter(id__in=missing).values("id", "intake_key")
        keys.update({row["id"]: row["intake_key"] for row in rows})
    return {pk: key for pk, key in keys.items() if key is not None}


async def rotate_intake_key(object_id: int) -> SiteObject:
    """A new secret key for the object's intake address; mail to the old address is refused from now on."""
    site_object = await get_in_scope(SiteObject.all(), object_id, "object", "objectId")
    site_object.intake_key = intake_key()
    await SiteObject.filter(id=site_object.id).update(intake_key=site_object.intake_key)
    return site_object


async def set_mail_ticket_type(customer_id: int, ticket_type_id: int | None) -> Customer:
    """The type of tickets the customer's users open by mail (None: none, such mail is refused)."""
    customer = await get_in_scope(Customer.all(), customer_id, "customer", "customerId")
    if ticket_type_id is not None:
        kind = await TicketType.filter(id=ticket_type_id).first()
        if kind is None:
            raise NotFound("No ticket type with this ID.", field="ticketTypeId")
        if kind.is_absence_request:
            raise BadUserInput("Absence requests never reach customers.", field="ticketTypeId")
        if not await CustomerTicketType.filter(customer_id=customer.id, ticket_type_id=kind.id).exists():
            raise BadUserInput(
                "This type is not enabled for the customer's users (setCustomerTicketTypes).", field="ticketTypeId"
            )
    await Customer.filter(id=customer.id).update(mail_ticket_type_id=ticket_type_id)
    customer.mail_ticket_type_id = ticket_type_id
    return customer


async def mail_ticket_type_ids(customer_ids: list[int]) -> dict[int, int | None]:
    rows = await Customer.filter(id__in=customer_ids).values("id", "mail_ticket_type_id")
    return {row["id"]: row["mail_ticket_type_id"] for row in rows}


async def bouncing_accounts(account_ids: list[int]) -> set[int]:
    """The accounts among `account_ids` whose current address is marked as bouncing."""
    rows = await Account.filter(id__in=account_ids, mail_bouncing_address__isnull=False).values(
        "id", "email", "mail_bouncing_address"
    )
    return {row["id"] for row in rows if row["email"] == row["mail_bouncing_address"]}


async def clear_mail_bouncing(kind: str, person_id: int) -> tuple[Employee | CustomerUser, Account]:
    """Mail the person's address again (`kind`: "Employee" or "CustomerUser")."""
    row: Employee | CustomerUser
    if kind == "Employee":
        row = await get_in_scope(Employee.all(), person_id, "person", "personId")
    else:
        row = await get_in_scope(CustomerUser.all(), person_id, "person", "personId")
    account_id: int = row.account_id
    await Account.filter(id=account_id).update(mail_bouncing_address=None)
    return row, await Account.get(id=account_id)
