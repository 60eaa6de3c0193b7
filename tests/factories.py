"""Builders for test data through the same functions the API uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from models.accounts import Account, AccountKind
from permissions.policy import Permission
from permissions.tokens import issue_access_token
from resolvers import accounts
from core.settings import Settings

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass
class Person:
    account: Account
    pk: int  # employee or customer user id
    token: str
    email: str


def _email(prefix: str) -> str:
    return f"{prefix}{next(_counter)}@example.test"


def token_for(settings: Settings, account: Account) -> str:
    return issue_access_token(settings, account.id, account.kind, account.token_version)


async def make_employee(settings: Settings, *, admin: bool = False,
                        permissions: tuple[Permission, ...] = (), name: str = "Erika Muster",
                        email: str | None = None) -> Person:
    group_ids = []
    if permissions:
        group = await accounts.create_permission_group(f"group-{next(_counter)}", list(permissions))
        group_ids.append(group.id)
    email = email or _email("employee")
    employee = await accounts.create_employee(email, name, PASSWORD, admin, group_ids)
    account = await Account.get(id=employee.account_id)
    return Person(account, employee.id, token_for(settings, account), account.email)


async def make_customer_user(settings: Settings, customer_id: int, *, name: str = "Kunde Kurt",
                             email: str | None = None) -> Person:
    user = await accounts.create_customer_user_account(customer_id, email or _email("customer"),
                                                       name, PASSWORD)
    account = await Account.get(id=user.account_id)
    assert account.kind is AccountKind.CUSTOMER_USER
    return Person(account, user.id, token_for(settings, account), account.email)
