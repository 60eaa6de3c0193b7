"""The viewer: who is making a request, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.accounts import Account, AccountKind


@dataclass(frozen=True)
class Viewer:
    account_id: int | None = None
    kind: AccountKind | None = None
    name: str = ""
    email: str = ""
    locale: str = "de"
    employee_id: int | None = None
    customer_user_id: int | None = None
    customer_id: int | None = None
    is_system_admin: bool = False
    permissions: frozenset[str] = field(default_factory=frozenset)
    # Set when a token was sent but refused, so the error can say why.
    token_error: str | None = None

    @property
    def is_signed_in(self) -> bool:
        return self.account_id is not None

    @property
    def is_employee(self) -> bool:
        return self.kind is AccountKind.EMPLOYEE

    @property
    def is_customer_user(self) -> bool:
        return self.kind is AccountKind.CUSTOMER_USER

    def has_permission(self, name: str) -> bool:
        return name in self.permissions


ANONYMOUS = Viewer()


async def load_viewer(account_id: int, token_version: int) -> Viewer | None:
    """The viewer for a token's account, or None when the account or token is no longer valid."""
    account = (
        await Account.filter(id=account_id, is_active=True, token_version=token_version)
        .prefetch_related("employee__groups", "customer_user")
        .first()
    )
    if account is None:
        return None
    common = dict(account_id=account.id, kind=account.kind, name=account.name,
                  email=account.email, locale=account.locale)
    if account.kind is AccountKind.EMPLOYEE:
        employee = account.employee
        permissions = {p for group in employee.groups for p in group.permissions}
        return Viewer(**common, employee_id=employee.id, is_system_admin=employee.is_system_admin,
                      permissions=frozenset(permissions))
    customer_user = account.customer_user
    return Viewer(**common, customer_user_id=customer_user.id,
                  customer_id=customer_user.customer_id)
