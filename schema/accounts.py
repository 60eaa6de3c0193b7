"""Account types and operations: login, refresh, me, staff administration."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from core.ids import parse_id, to_global_id
from models.accounts import Account
from models.accounts import CustomerUser as CustomerUserRow
from models.accounts import Employee as EmployeeRow
from models.accounts import PermissionGroup as PermissionGroupRow
from permissions.accounts import may_read_customer_user_contact
from permissions.inbound_mail import READ_CHANNEL
from permissions.policy import ANYONE, EMPLOYEES, SIGNED_IN, SYSTEM_ADMINS, Permission
from permissions.viewer import load_viewer
from resolvers import accounts, people
from schema.directive import described, field, mutation, type_policy
from schema.inputs import PermissionGroupIds, decoded
from schema.loaders import mail_bouncing_by_account_id, permission_groups_by_employee_id
from schema.notifications import NotificationSettings, settings_of_account
from schema.relay import Node, lazy_id


@strawberry.type(directives=type_policy(EMPLOYEES), description="A named set of permissions.")
class PermissionGroup(Node):
    name: str = strawberry.field(description="The group's name.")
    permissions: list[Permission] = strawberry.field(description="What its members may do.")

    @classmethod
    def from_row(cls, row: PermissionGroupRow) -> PermissionGroup:
        return cls(
            id=to_global_id("PermissionGroup", row.id),
            name=row.name,
            permissions=[Permission(p) for p in row.permissions],
        )

    @classmethod
    def from_values(cls, row: dict[str, Any]) -> PermissionGroup:
        """From `resolvers.accounts.permission_groups_by_employee`'s values."""
        return cls(
            id=to_global_id("PermissionGroup", row["id"]),
            name=row["name"],
            permissions=[Permission(p) for p in row["permissions"]],
        )


@strawberry.interface(
    name="Viewer",
    description="A signed-in person: an employee or a customer user. Its `id` is the Employee's or CustomerUser's.",
)
class Person(Node):
    name: str = strawberry.field(description="The full name, as shown to others.")

    # Declared here, resolved (under their own policies) by Employee and CustomerUser.
    @described(description="Yours always; others' as the concrete type's policy allows.")
    def email(self, info: strawberry.Info) -> str | None:
        raise NotImplementedError

    @described(description="Your language and notification settings; null on anyone else.")
    async def notification_settings(self, info: strawberry.Info) -> NotificationSettings | None:
        raise NotImplementedError


@strawberry.type(
    directives=type_policy(SIGNED_IN),
    description="A member of the service company's staff. Customer users see the name only.",
)
class Employee(Person):
    id: strawberry.ID = lazy_id("Employee")
    name: str = strawberry.field(description="The full name, as shown to others.")
    pk: strawberry.Private[int]
    email_address: strawberry.Private[str]
    system_admin: strawberry.Private[bool]
    active: strawberry.Private[bool]
    account_pk: strawberry.Private[int]

    @field(policy=EMPLOYEES, description="Their sign-in and mail address.")
    def email(self, info: strawberry.Info) -> str | None:
        return self.email_address

    @field(policy=EMPLOYEES, description="Whether they administer Sitedesk (and hold every permission).")
    def is_system_admin(self) -> bool | None:
        return self.system_admin

    @field(policy=EMPLOYEES, description="False once deactivated: they can no longer sign in.")
    def is_active(self) -> bool | None:
        return self.active

    @field(policy=SIGNED_IN, description="Your language and notification settings; null on anyone else.")
    async def notification_settings(self, info: strawberry.Info) -> NotificationSettings | None:
        return await settings_of_account(info, self.account_pk)

    @field(
        policy=READ_CHANNEL,
        description="Whether mail to their address bounced: no mail goes to it until the address changes "
        "or `clearMailBouncing`.",
    )
    async def mail_bouncing(self, info: strawberry.Info) -> bool | None:
        return bool(await mail_bouncing_by_account_id(info).load(self.account_pk))

    @field(policy=EMPLOYEES, description="The permission groups this employee belongs to.")
    async def groups(self, info: strawberry.Info) -> list[PermissionGroup] | None:
        rows = await permission_groups_by_employee_id(info).load(self.pk)
        return [PermissionGroup.from_values(row) for row in rows]

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
    name: str = strawberry.field(description="The full name, as shown to others.")
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

    @field(policy=EMPLOYEES, description="False once deactivated: they can no longer sign in.")
    def is_active(self) -> bool | None:
        return self.active

    @field(
        policy=READ_CHANNEL,
        description="Whether mail to their address bounced: no mail goes to it until the address changes "
        "or `clearMailBouncing`.",
    )
    async def mail_bouncing(self, info: strawberry.Info) -> bool | None:
        return bool(await mail_bouncing_by_account_id(info).load(self.account_pk))

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
    row = await people.person_of_account(account)
    if isinstance(row, EmployeeRow):
        return Employee.from_rows(row, account)
    return CustomerUser.from_rows(row, account)


@strawberry.type(directives=type_policy(ANYONE), description="A new session.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="Send as `Authorization: Bearer <accessToken>`; valid for `expiresIn` seconds (15 minutes "
        "by default)."
    )
    refresh_token: str = strawberry.field(
        description="Secret: trade it for a new session with `refreshToken` before it expires (30 days by "
        "default); each one works once."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    viewer: Person = strawberry.field(description="Who signed in.")


@strawberry.input(description="A new permission group: a name for a set of permissions employees are given together.")
class CreatePermissionGroupInput:
    name: str = strawberry.field(description="Unique, e.g. Qualitätsmanagement.")
    permissions: list[Permission] = strawberry.field(description="What members of the group may do.")


@strawberry.input(description="A new employee who signs in with email and password.")
class CreateEmployeeInput:
    email: str = strawberry.field(
        description="Their sign-in; unique across employees and customer users, compared ignoring case."
    )
    name: str = strawberry.field(description="Shown to colleagues and, as assignee or author, to customer users.")
    password: str = strawberry.field(description="Their first password; at least 8 characters.")
    is_system_admin: bool = strawberry.field(default=False, description="Whether they administer Sitedesk.")
    group_ids: PermissionGroupIds = strawberry.field(
        default_factory=list, description="The permission groups they belong to."
    )


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


def client_address(info: strawberry.Info) -> str | None:
    """The request's client address, which audit events record."""
    address: str | None = info.context.client_ip
    return address


@strawberry.type
class AccountQueries:
    @field(policy=ANYONE, description="The signed-in viewer; null when anonymous.")
    async def me(self, info: strawberry.Info) -> Person | None:
        viewer = info.context.viewer
        if not viewer.is_signed_in:
            return None
        return await viewer_object(await people.account_by_id(viewer.account_id))


@strawberry.type
class AccountMutations:
    @mutation(policy=ANYONE, description="Sign in with email and password.")
    async def login(
        self,
        info: strawberry.Info,
        email: Annotated[str, strawberry.argument(description="The account's email, in any case.")],
        password: Annotated[str, strawberry.argument(description="The account's password.")],
    ) -> AuthPayload:
        return await _payload(
            info, await accounts.login(info.context.settings, email, password, info.context.client_ip)
        )

    @mutation(policy=ANYONE, description="Trade a refresh token for a new session (the old token is spent).")
    async def refresh_token(
        self,
        info: strawberry.Info,
        refresh_token: Annotated[
            str, strawberry.argument(description="The `refreshToken` of the current session; spent by this call.")
        ],
    ) -> AuthPayload:
        return await _payload(info, await accounts.refresh_session(info.context.settings, refresh_token))

    @mutation(policy=ANYONE, description="End the session a refresh token belongs to.")
    async def logout(
        self,
        refresh_token: Annotated[str, strawberry.argument(description="The `refreshToken` of the session to end.")],
    ) -> bool:
        return await accounts.logout(refresh_token)

    @mutation(policy=SIGNED_IN, description="Change your password; all your sessions end.")
    async def change_password(
        self,
        info: strawberry.Info,
        current_password: Annotated[str, strawberry.argument(description="Your password now.")],
        new_password: Annotated[str, strawberry.argument(description="At least 8 characters.")],
    ) -> bool:
        await accounts.change_password(info.context.viewer, current_password, new_password)
        return True

    @mutation(policy=SYSTEM_ADMINS, description="A new permission group; its name must be unique.")
    async def create_permission_group(
        self,
        info: strawberry.Info,
        input: Annotated[
            CreatePermissionGroupInput, strawberry.argument(description="The group's name and permissions.")
        ],
    ) -> PermissionGroup:
        row = await accounts.create_permission_group(info.context.viewer, client_address(info), **decoded(input))
        return PermissionGroup.from_row(row)

    @mutation(policy=SYSTEM_ADMINS, description="A new employee who signs in with email and password.")
    async def create_employee(
        self,
        info: strawberry.Info,
        input: Annotated[CreateEmployeeInput, strawberry.argument(description="The new employee.")],
    ) -> Employee:
        row, account = await accounts.create_employee(info.context.viewer, client_address(info), **decoded(input))
        return Employee.from_rows(row, account)

    @mutation(
        policy=SYSTEM_ADMINS,
        description=(
            "Activate or deactivate an employee; deactivation ends their sessions and revokes their API tokens."
        ),
    )
    async def set_employee_active(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The employee's ID.")],
        active: Annotated[bool, strawberry.argument(description="True activates, false deactivates.")],
    ) -> Employee:
        pk = parse_id(id, "Employee", field="id")
        row, account = await accounts.set_employee_active(info.context.viewer, client_address(info), pk, active)
        return Employee.from_rows(row, account)
