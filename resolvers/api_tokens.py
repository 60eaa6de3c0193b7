"""Partners' credentials: service accounts, API tokens and read-only impersonation.

Each operation records its audit event in its own transaction
(`resolvers.audit.record_audit`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from core.dates import plausible_instant
from core.errors import BadUserInput, NotFound
from core.ids import decode_global_id
from core.keyset import Listing, Window
from core.lookup import get_in_scope
from core.settings import Settings
from models.accounts import Account, AccountKind, CustomerUser, Employee, PermissionGroup
from models.api_tokens import ApiToken
from models.audit import AuditAction
from permissions.api_tokens import issue_impersonation_token, new_api_token, visible_api_tokens
from permissions.viewer import Viewer
from resolvers.accounts import check_name
from resolvers.audit import record_audit
from resolvers.people import account_of_person

# Service accounts never sign in: no password hash verifies against this
# (argon2 refuses it as malformed), and `login` refuses them before that.
NO_PASSWORD = "!service-account"
SERVICE_EMAIL_DOMAIN = "service-accounts.sitedesk.invalid"


@dataclass(frozen=True)
class CreatedToken:
    secret: str
    token: ApiToken


@dataclass(frozen=True)
class Impersonation:
    access_token: str
    expires_at: datetime
    customer_user: CustomerUser


async def create_service_account(
    actor: Viewer, address: str | None, name: str, is_system_admin: bool, group_ids: list[int]
) -> tuple[Employee, Account]:
    """An employee-kind account for one integration (with its account): no password, a generated address,
    tokens only."""
    name = check_name(name)
    groups = await PermissionGroup.filter(id__in=group_ids)
    if len(groups) != len(set(group_ids)):
        raise NotFound("One of the permission groups does not exist.", field="groupIds")
    async with in_transaction():
        account = await Account.create(
            kind=AccountKind.EMPLOYEE,
            email=f"service-{uuid.uuid4().hex}@{SERVICE_EMAIL_DOMAIN}",
            name=name,
            password_hash=NO_PASSWORD,
            is_service_account=True,
            # Its address is made up: nobody reads mail sent there.
            notify_comments=False,
            notify_status_changes=False,
            notify_assignments=False,
            notify_new_tickets=False,
        )
        employee = await Employee.create(account=account, is_system_admin=is_system_admin)
        if groups:
            await employee.groups.add(*groups)
        await record_audit(
            actor,
            AuditAction.ACCOUNT_CREATED,
            "Employee",
            employee.id,
            f"Service account {name!r} created" + (" (system administrator)" if is_system_admin else ""),
            address,
        )
    return employee, account


async def token_account(account_id: str, field: str = "accountId") -> Account:
    """The account behind an Employee or CustomerUser id; NOT_FOUND for anything else."""
    return await account_of_person(decode_global_id(account_id, field), field)


async def create_api_token(
    actor: Viewer,
    address: str | None,
    account_id: str,
    name: str,
    expires_at: datetime | None = None,
    read_only: bool = False,
    now: datetime | None = None,
) -> CreatedToken:
    """A new token for the account; the secret exists only in the answer."""
    now = now or datetime.now(UTC)
    name = check_name(name)
    if expires_at is not None:
        expires_at = plausible_instant(expires_at, "expiresAt")
        if expires_at <= now:
            raise BadUserInput("The expiry must lie in the future (or be null for none).", field="expiresAt")
    account = await token_account(account_id)
    if not account.is_active:
        raise BadUserInput("This account is deactivated: its tokens would not work.", field="accountId")
    secret, token_hash, prefix = new_api_token()
    async with in_transaction():
        token = await ApiToken.create(
            account_id=account.id,
            name=name,
            token_hash=token_hash,
            prefix=prefix,
            read_only=read_only,
            expires_at=expires_at,
            created_by_id=actor.account_id,
        )
        await record_audit(
            actor,
            AuditAction.API_TOKEN_CREATED,
            "ApiToken",
            token.id,
            f"API token {name!r} ({prefix}…{', read-only' if read_only else ''}) created for {account.name!r}",
            address,
        )
    return CreatedToken(secret, token)


API_TOKENS = Listing("api_tokens", "created_at", descending=True)


async def page_of_api_tokens(viewer: Viewer, window: Window) -> tuple[list[ApiToken], int]:
    """One page of the tokens the viewer may see, newest first (`API_TOKENS`), and how many there are in all."""
    return await API_TOKENS.page(visible_api_tokens(viewer), window)


async def revoke_api_token(actor: Viewer, address: str | None, token_id: int) -> ApiToken:
    """Revoke a token at once; revoking a revoked token changes nothing (and records nothing)."""
    token = await get_in_scope(visible_api_tokens(actor), token_id, "API token")
    if token.revoked_at is not None:
        return token
    async with in_transaction():
        changed = await ApiToken.filter(id=token.id, revoked_at=None).update(revoked_at=datetime.now(UTC))
        if changed:
            await record_audit(
                actor,
                AuditAction.API_TOKEN_REVOKED,
                "ApiToken",
                token.id,
                f"API token {token.name!r} ({token.prefix}…) revoked",
                address,
            )
    await token.refresh_from_db()
    return token


async def impersonate(settings: Settings, actor: Viewer, address: str | None, customer_user_id: int) -> Impersonation:
    """A short-lived, read-only access token that reads as the customer user."""
    user = await CustomerUser.filter(id=customer_user_id).select_related("account").first()
    if user is None:
        raise NotFound("No customer user with this ID.", field="customerUserId")
    account = user.account
    if not account.is_active:
        raise BadUserInput("This customer user is deactivated.", field="customerUserId")
    token, expires_at = issue_impersonation_token(settings, actor, account.id, account.token_version)
    await record_audit(
        actor,
        AuditAction.IMPERSONATION_STARTED,
        "CustomerUser",
        user.id,
        f"{actor.name} started a read-only impersonation of {account.name!r} until {expires_at.isoformat()}",
        address,
    )
    return Impersonation(token, expires_at, user)


async def find_api_token(viewer: Viewer, token_id: int) -> ApiToken | None:
    return await visible_api_tokens(viewer).filter(id=token_id).first()
