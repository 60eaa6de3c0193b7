"""People behind accounts: the account of an Employee or CustomerUser id, and the person of an account.

A module of its own below `resolvers.accounts`: the audit trail (`resolvers.audit`) filters by a
person's account, and the account use cases record audit events, so neither may import the other
for these lookups.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from core.errors import NotFound
from models.accounts import Account, AccountKind, CustomerUser, Employee


async def account_of_person(person_id: tuple[str, int], field: str) -> Account:
    """The account behind a decoded Employee or CustomerUser id; NOT_FOUND for any other id."""
    type_name, pk = person_id
    model = {"Employee": Employee, "CustomerUser": CustomerUser}.get(type_name)
    found = await model.filter(id=pk).values_list("account_id", flat=True) if model is not None else []
    if not found:
        raise NotFound("No employee or customer user with this ID.", field=field)
    return await Account.get(id=found[0])


async def person_of_account(account: Account) -> Employee | CustomerUser:
    """The employee or customer-user row of an account (one query)."""
    if account.kind is AccountKind.EMPLOYEE:
        return await Employee.get(account_id=account.id)
    return await CustomerUser.get(account_id=account.id)


async def account_by_id(account_id: int) -> Account:
    """The account `account_id` as it is now (for an answer after a change)."""
    return await Account.get(id=account_id)


PERSON_VALUES = (
    "id",
    "name",
    "email",
    "is_active",
    "employee__id",
    "employee__is_system_admin",
    "customer_user__id",
    "customer_user__customer_id",
)


def person_values(prefix: str) -> tuple[str, ...]:
    """Projection of an account at `prefix` with its employee or customer-user row (one join each)."""
    return tuple(prefix + name for name in PERSON_VALUES)


async def people_by_account(account_ids: list[int]) -> list[tuple[Any, Any] | None]:
    """(account, employee or customer-user row) for each account id, in one joined query.

    The rows are plain namespaces with the columns the GraphQL types read (`person_values`).
    """
    found = {}
    for v in await Account.filter(id__in=set(account_ids)).values(*person_values("")):
        account = SimpleNamespace(id=v["id"], name=v["name"], email=v["email"], is_active=v["is_active"])
        row: SimpleNamespace
        if v["employee__id"] is not None:
            row = SimpleNamespace(
                id=v["employee__id"], account_id=v["id"], is_system_admin=v["employee__is_system_admin"]
            )
        elif v["customer_user__id"] is not None:
            row = SimpleNamespace(
                id=v["customer_user__id"], account_id=v["id"], customer_id=v["customer_user__customer_id"]
            )
        else:
            continue
        found[v["id"]] = (account, row)
    return [found.get(pk) for pk in account_ids]
