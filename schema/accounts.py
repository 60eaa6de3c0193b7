"""Account types and operations: login, refresh, me, staff administration."""

from __future__ import annotations

import strawberry
from strawberry.dataloader import DataLoader

from core.ids import parse_id, to_global_id
from models.accounts import Account, AccountKind
from models.accounts import CustomerUser as CustomerUserRow
from models.accounts import Employee as EmployeeRow
from models.accounts import PermissionGroup as PermissionGroupRow
from permissions.accounts import may_read_customer_user_contact
from permissions.policy import ANYONE, EMPLOYEES, SIGNED_IN, SYSTEM_ADMINS, Permission
from permissions.viewer import load_viewer
from resolvers import accounts
from schema.directive import field, mutation, type_policy
from schema.inputs import decoded, refs
from schema.notifications import NotificationSettings, settings_of_account
from schema.relay import Node, lazy_id


@strawberry.type(directives=type_policy(EMPLOYEES), description="A named set of permissions.")
class PermissionGroup(Node):
    name: str
    permissions: list[Permission]

    @classmethod
    def from_row(cls, row: PermissionGroupRow) -> PermissionGroup:
        return cls(
            id=to_global_id("PermissionGroup", row.id),
            name=row.name,
            permissions=[Permission(p) for p in row.permissions],
        )


async def _load_groups(employee_ids: list[int]) -> list[list[PermissionGroup]]:
    rows = await PermissionGroupRow.filter(employees__id__in=employee_ids).values(
        "id", "name", "permissions", "employees__id"
    )
    by_employee: dict[int, list[PermissionGroup]] = {pk: [] for pk in employee_ids}
    for row in rows:
        group = PermissionGroup(
            id=to_global_id("PermissionGroup", row["id"]),
            name=row["name"],
            permissions=[Permission(p) for p in row["permissions"]],
        )
        by_employee[row["employees__id"]].append(group)
    return [by_employee[pk] for pk in employee_ids]


@strawberry.interface(
    name="Viewer",
    description="A signed-in person: an employee or a customer user. Its `id` is the Employee's or CustomerUser's.",
)
class Person(Node):
    name: str
    email: str | None = strawberry.field(description="Yours always; others' as the concrete type's policy allows.")
    notification_settings: NotificationSettings | None = strawberry.field(
        description="Your language and notification settings; null on anyone else."
    )


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="A member of the service company's staff. Customer users see the name only.",
)
class Employee(Person):
    id: strawberry.ID = lazy_id("Employee")
    name: str
    pk: strawberry.Private[int]
    email_address: strawberry.Private[str]
    system_admin: strawberry.Private[bool]
    active: strawberry.Private[bool]
    account_pk: strawberry.Private[int]

    @field(policy=EMPLOYEES)
    def email(self) -> str | None:
        return self.email_address

    @field(policy=EMPLOYEES)
    def is_system_admin(self) -> bool | None:
        return self.system_admin

    @field(policy=EMPLOYEES)
    def is_active(self) -> bool | None:
        return self.active

    @field(policy=SIGNED_IN, description="Your language and notification settings; null on anyone else.")
    async def notification_settings(self, info: strawberry.Info) -> NotificationSettings | None:
        return await settings_of_account(info, self.account_pk)

    @field(policy=EMPLOYEES, description="The permission groups this employee belongs to.")
    async def groups(self, info: strawberry.Info) -> list[PermissionGroup] | None:
        loader = info.context.loader("permission_groups_by_employee_id", lambda: DataLoader(_load_groups))
        return await loader.load(self.pk)

    @classmethod
    def from_rows(cls, employee: EmployeeRow, account: Account) -> Employee:
        return cls(
            name=account.name,
            pk=employee.id,
            email_address=account.email,
            system_admin=employee.is_system_admin,
            active=account.is_active,
            account_pk=account.id,
        )


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="A person at a customer who uses the portal.",
)
class CustomerUser(Person):
    id: strawberry.ID = lazy_id("CustomerUser")
    name: str
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    email_address: strawberry.Private[str]
    active: strawberry.Private[bool]
    account_pk: strawberry.Private[int]

    @field(policy=SIGNED_IN, description="Your language and notification settings; null on anyone else.")
    async def notification_settings(self, info: strawberry.Info) -> NotificationSettings | None:
        return await settings_of_account(info, self.account_pk)

    @field(policy=SIGNED_IN, description="Null unless it is your own (employees see all).")
    def email(self, info: strawberry.Info) -> str | None:
        if may_read_customer_user_contact(info.context.viewer, self.pk):
            return self.email_address
        return None

    @field(policy=EMPLOYEES)
    def is_active(self) -> bool | None:
        return self.active

    @classmethod
    def from_rows(cls, user: CustomerUserRow, account: Account) -> CustomerUser:
        return cls(
            name=account.name,
            pk=user.id,
            customer_pk=user.customer_id,
            email_address=account.email,
            active=account.is_active,
            account_pk=account.id,
        )


async def viewer_object(account: Account) -> Employee | CustomerUser:
    """The GraphQL object for an account (one query)."""
    if account.kind is AccountKind.EMPLOYEE:
        employee = await EmployeeRow.get(account_id=account.id)
        return Employee.from_rows(employee, account)
    user = await CustomerUserRow.get(account_id=account.id)
    return CustomerUser.from_rows(user, account)


@strawberry.type(directives=type_policy(ANYONE), description="A new session.")
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    viewer: Person


@strawberry.input
class CreatePermissionGroupInput:
    name: str
    permissions: list[Permission]


@strawberry.input
class CreateEmployeeInput:
    email: str
    name: str
    password: str
    is_system_admin: bool = False
    group_ids: refs("PermissionGroup") = strawberry.field(default_factory=list)


async def _payload(info: strawberry.Info, session: accounts.Session) -> AuthPayload:
    """The new session; the rest of this response is rendered for its account."""
    viewer = await load_viewer(session.account.id, session.account.token_version)
    if viewer is not None:
        info.context.viewer = viewer
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        viewer=await viewer_object(session.account),
    )


@strawberry.type
class AccountQueries:
    @field(policy=ANYONE, description="The signed-in viewer; null when anonymous.")
    async def me(self, info: strawberry.Info) -> Person | None:
        viewer = info.context.viewer
        if not viewer.is_signed_in:
            return None
        return await viewer_object(await Account.get(id=viewer.account_id))


@strawberry.type
class AccountMutations:
    @mutation(policy=ANYONE, description="Sign in with email and password.")
    async def login(self, info: strawberry.Info, email: str, password: str) -> AuthPayload:
        return await _payload(
            info, await accounts.login(info.context.settings, email, password, info.context.client_ip)
        )

    @mutation(policy=ANYONE, description="Trade a refresh token for a new session (the old token is spent).")
    async def refresh_token(self, info: strawberry.Info, refresh_token: str) -> AuthPayload:
        return await _payload(info, await accounts.refresh_session(info.context.settings, refresh_token))

    @mutation(policy=ANYONE, description="End the session a refresh token belongs to.")
    async def logout(self, refresh_token: str) -> bool:
        return await accounts.logout(refresh_token)

    @mutation(policy=SIGNED_IN, description="Change your password; all your sessions end.")
    async def change_password(self, info: strawberry.Info, current_password: str, new_password: str) -> bool:
        await accounts.change_password(info.context.viewer, current_password, new_password)
        return True

    @mutation(policy=SYSTEM_ADMINS)
    async def create_permission_group(self, input: CreatePermissionGroupInput) -> PermissionGroup:
        return PermissionGroup.from_row(await accounts.create_permission_group(**decoded(input)))

    @mutation(policy=SYSTEM_ADMINS)
    async def create_employee(self, input: CreateEmployeeInput) -> Employee:
        row = await accounts.create_employee(**decoded(input))
        return Employee.from_rows(row, await Account.get(id=row.account_id))

    @mutation(policy=SYSTEM_ADMINS, description="Activate or deactivate an employee; deactivation ends their sessions.")
    async def set_employee_active(self, id: strawberry.ID, active: bool) -> Employee:
        row = await accounts.set_employee_active(parse_id(id, "Employee", field="id"), active)
        return Employee.from_rows(row, await Account.get(id=row.account_id))
