"""Accounts: login, token refresh, password changes and administration of staff."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.database import dialect
from core.errors import BadUserInput, NotFound, RateLimited, Unauthenticated
from core.lookup import get_in_scope
from core.metrics import LOGIN_REFUSALS
from core.settings import Settings
from models.accounts import Account, AccountKind, CustomerUser, Employee, LoginThrottle, PermissionGroup, RefreshToken
from models.api_tokens import ApiToken
from models.audit import AuditAction
from permissions.accounts import visible_customer_users, visible_employees, visible_permission_groups
from permissions.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from permissions.policy import Permission
from permissions.tokens import hash_refresh_token, issue_access_token, new_refresh_token
from permissions.viewer import Viewer
from resolvers.audit import audited_change, record_audit

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOGIN_FAILED = "Email or password is wrong."


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    account: Account


def normalise_email(email: str, field: str = "email") -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not EMAIL_PATTERN.match(cleaned):
        raise BadUserInput("This is not a valid email address.", field=field)
    return cleaned


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", field=field)


def check_name(name: str, field: str = "name", max_length: int = 200) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise BadUserInput("The name must not be empty.", field=field)
    if len(cleaned) > max_length:
        raise BadUserInput(f"The name must have at most {max_length} characters.", field=field)
    return cleaned


async def _start_session(settings: Settings, account: Account, family: str | None = None) -> Session:
    token, token_hash = new_refresh_token()
    await RefreshToken.create(
        account=account,
        family=family or str(uuid.uuid4()),
        token_hash=token_hash,
        expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days),
    )
    access = issue_access_token(settings, account.id, account.kind, account.token_version)
    return Session(access, token, settings.access_token_minutes * 60, account)


async def login(settings: Settings, email: str, password: str, client_address: str | None = None) -> Session:
    """A new session; wrong password and unknown email fail alike, after one hash each.

    Attempts are throttled per typed email and per client address (see
    `count_login_attempt`); a refused attempt checks no password at all.
    """
    email = email.strip().lower()
    keys = throttle_keys(email, client_address)
    try:
        await count_login_attempt(settings, keys)
    except RateLimited:
        LOGIN_REFUSALS.labels(reason="throttled").inc()
        raise
    account = await Account.filter(email=email).first()
    password_ok = verify_password(account.password_hash if account else None, password)
    if account is None or not password_ok or not account.is_active or account.is_service_account:
        LOGIN_REFUSALS.labels(reason="credentials").inc()
        raise Unauthenticated(LOGIN_FAILED)
    await forgive_login_attempt(keys)
    return await _start_session(settings, account)


# ------------------------------------------------------------ login throttling
# Attempts are counted before the password is checked, in one atomic upsert
# per key, so parallel guesses from several server processes cannot slip past
# the limit together. A success forgets the account's count and gives the
# address its attempt back. Keys depend only on what was typed: an unknown
# email is throttled exactly like a known one.


def throttle_keys(email: str, client_address: str | None) -> dict[str, str]:
    """{"account": key, "address": key} (no address key when the address is unknown)."""
    keys = {"account": "account:" + hashlib.sha256(email.encode()).hexdigest()}
    if client_address:
        keys["address"] = "address:" + client_address[:90]
    return keys


async def count_login_attempt(settings: Settings, keys: dict[str, str], now: int | None = None) -> None:
    """Count one attempt per key; `RateLimited` (with `retryAfter`) once a key is over its limit."""
    now = int(time.time()) if now is None else now
    window = settings.login_window_minutes * 60
    limits = {"account": settings.login_max_failures, "address": settings.login_max_failures_per_address}
    connection = LoginThrottle._meta.db
    retry_after = 0
    new_window = False
    for kind, key in keys.items():
        rows = await connection.execute_query_dict(*_attempt_upsert(key, now, now - window))
        row = rows[0]
        new_window = new_window or row["attempts"] == 1
        if row["attempts"] > limits[kind]:
            retry_after = max(retry_after, int(row["window_started"]) + window - now)
    if new_window:  # sweep expired windows as often as new ones start
        await LoginThrottle.filter(window_started__lte=now - window).delete()
    if retry_after:
        raise RateLimited(
            f"Too many sign-in attempts. Try again in {retry_after} seconds.", retryAfter=max(retry_after, 1)
        )


def _attempt_upsert(key: str, now: int, expired: int) -> tuple[str, list[object]]:
    """SQL and values: insert or bump the key's count, restarting an expired window."""
    if dialect() == "sqlite":  # positional `?`, in order of appearance
        key_p, now_p, expired_p = "?", "?", "?"
        values: list[object] = [key, now, expired, expired, now]
    else:
        key_p, now_p, expired_p = "$1", "$2", "$3"
        values = [key, now, expired]
    sql = (
        f'INSERT INTO "login_throttle" ("key", "attempts", "window_started") '
        f'VALUES ({key_p}, 1, {now_p}) ON CONFLICT ("key") DO UPDATE SET '
        f'"attempts" = CASE WHEN "login_throttle"."window_started" <= {expired_p} THEN 1 '
        'ELSE "login_throttle"."attempts" + 1 END, '
        f'"window_started" = CASE WHEN "login_throttle"."window_started" <= {expired_p} '
        f'THEN {now_p} ELSE "login_throttle"."window_started" END '
        'RETURNING "attempts", "window_started"'
    )
    return sql, values


async def forgive_login_attempt(keys: dict[str, str]) -> None:
    await LoginThrottle.filter(key=keys["account"]).delete()
    if "address" in keys:
        await LoginThrottle.filter(key=keys["address"], attempts__gt=0).update(attempts=F("attempts") - 1)


async def refresh_session(settings: Settings, refresh_token: str) -> Session:
    """Rotate a refresh token; a token used twice revokes its whole family."""
    now = datetime.now(UTC)
    token_hash = hash_refresh_token(refresh_token)
    async with in_transaction():
        stored = await RefreshToken.filter(token_hash=token_hash).select_for_update().first()
        if stored is None:
            raise Unauthenticated("The refresh token is not valid.")
        reused = stored.rotated_at is not None or stored.revoked_at is not None
        if reused:
            await RefreshToken.filter(family=stored.family, revoked_at=None).update(revoked_at=now)
        elif stored.expires_at > now:
            account = await Account.get(id=stored.account_id)
            if account.is_active:
                stored.rotated_at = now
                await stored.save(update_fields=["rotated_at"])
                return await _start_session(settings, account, stored.family)
    # Reached after the transaction committed, so a reuse revocation sticks.
    raise Unauthenticated("The refresh token is not valid.")


async def logout(refresh_token: str) -> bool:
    """Revoke the family of a refresh token (all tokens of that login)."""
    stored = await RefreshToken.filter(token_hash=hash_refresh_token(refresh_token)).first()
    if stored is None:
        return False
    await RefreshToken.filter(family=stored.family, revoked_at=None).update(revoked_at=datetime.now(UTC))
    return True


async def change_password(viewer: Viewer, current_password: str, new_password: str) -> Account:
    """Set a new password; every existing access and refresh token stops working."""
    account = await Account.get(id=viewer.account_id)
    if not verify_password(account.password_hash, current_password):
        raise BadUserInput("The current password is wrong.", field="currentPassword")
    check_password_strength(new_password, field="newPassword")
    async with in_transaction():
        await Account.filter(id=account.id).update(
            password_hash=hash_password(new_password), token_version=F("token_version") + 1
        )
        await RefreshToken.filter(account_id=account.id, revoked_at=None).update(revoked_at=datetime.now(UTC))
    await account.refresh_from_db()
    return account


async def set_account_active(account: Account, active: bool) -> None:
    """(De)activate an account; deactivation ends its sessions and revokes its API tokens at once."""
    async with in_transaction():
        await Account.filter(id=account.id).update(is_active=active, token_version=F("token_version") + 1)
        if not active:
            await RefreshToken.filter(account_id=account.id, revoked_at=None).update(revoked_at=datetime.now(UTC))
            await ApiToken.filter(account_id=account.id, revoked_at=None).update(revoked_at=datetime.now(UTC))


async def create_account(kind: AccountKind, email: str, name: str, password: str) -> Account:
    """Insert an account (inside the caller's transaction); duplicate email → `BAD_USER_INPUT`."""
    email = normalise_email(email)
    name = check_name(name)
    check_password_strength(password)
    if await Account.filter(email=email).exists():
        raise BadUserInput("An account with this email exists already.", field="email")
    try:
        return await Account.create(kind=kind, email=email, name=name, password_hash=hash_password(password))
    except IntegrityError:
        raise BadUserInput("An account with this email exists already.", field="email") from None


async def new_permission_group(name: str, permissions: list[Permission]) -> PermissionGroup:
    """Insert a permission group (no audit event: the demo data and `create_permission_group` use it)."""
    name = check_name(name, max_length=100)
    if await PermissionGroup.filter(name=name).exists():
        raise BadUserInput("A permission group with this name exists already.", field="name")
    values = sorted({p.value for p in permissions})
    try:
        return await PermissionGroup.create(name=name, permissions=values)
    except IntegrityError:
        raise BadUserInput("A permission group with this name exists already.", field="name") from None


async def new_employee(email: str, name: str, password: str, is_system_admin: bool, group_ids: list[int]) -> Employee:
    """Insert an employee with their account (no audit event: the demo data and `create_employee` use it)."""
    groups = await PermissionGroup.filter(id__in=group_ids)
    if len(groups) != len(set(group_ids)):
        raise NotFound("One of the permission groups does not exist.", field="groupIds")
    async with in_transaction():
        account = await create_account(AccountKind.EMPLOYEE, email, name, password)
        employee = await Employee.create(account=account, is_system_admin=is_system_admin)
        if groups:
            await employee.groups.add(*groups)
    return employee


async def create_customer_user_account(customer_id: int, email: str, name: str, password: str) -> CustomerUser:
    async with in_transaction():
        account = await create_account(AccountKind.CUSTOMER_USER, email, name, password)
        return await CustomerUser.create(account=account, customer_id=customer_id)


# ---------------------------------------------------------------- administration (audited)
# The mutations' use cases: each change and its audit event in one transaction, both stored or neither.
# `actor` and `address` are the request's viewer and client address (`resolvers.audit.record_audit`).


async def create_permission_group(
    actor: Viewer, address: str | None, name: str, permissions: list[Permission]
) -> PermissionGroup:
    """A new permission group; its name must be unique."""
    async with audited_change():
        row = await new_permission_group(name, permissions)
        await record_audit(
            actor,
            AuditAction.PERMISSION_GROUP_CHANGED,
            "PermissionGroup",
            row.id,
            f"Permission group {row.name!r} created with {', '.join(row.permissions) or 'no permissions'}",
            address,
        )
    return row


async def create_employee(
    actor: Viewer,
    address: str | None,
    email: str,
    name: str,
    password: str,
    is_system_admin: bool,
    group_ids: list[int],
) -> tuple[Employee, Account]:
    """A new employee who signs in with email and password, with their account."""
    async with audited_change():
        row = await new_employee(email, name, password, is_system_admin, group_ids)
        account = await Account.get(id=row.account_id)
        await record_audit(
            actor,
            AuditAction.ACCOUNT_CREATED,
            "Employee",
            row.id,
            f"Employee {account.name!r} <{account.email}> created"
            + (" (system administrator)" if row.is_system_admin else ""),
            address,
        )
    return row, account


async def set_employee_active(
    actor: Viewer, address: str | None, employee_id: int, active: bool
) -> tuple[Employee, Account]:
    """(De)activate an employee; deactivation ends their sessions and revokes their API tokens."""
    async with audited_change():
        # System admins manage every employee: no viewer scope narrows the lookup.
        row = await get_in_scope(Employee.all().select_related("account"), employee_id, "employee", "id")
        await set_account_active(row.account, active)
        account = await Account.get(id=row.account_id)
        await record_audit(
            actor,
            AuditAction.ACCOUNT_UPDATED if active else AuditAction.ACCOUNT_DEACTIVATED,
            "Employee",
            row.id,
            f"Employee {account.name!r} {'activated' if active else 'deactivated'}",
            address,
        )
    return row, account


async def permission_groups_by_employee(employee_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The permission groups (id, name, permissions) of each employee, in one query."""
    grouped: dict[int, list[dict[str, Any]]] = {pk: [] for pk in employee_ids}
    for row in await PermissionGroup.filter(employees__id__in=set(employee_ids)).values(
        "id", "name", "permissions", "employees__id"
    ):
        grouped.setdefault(row["employees__id"], []).append(row)
    return grouped


# ---------------------------------------------------------------- node lookups


async def find_employee(viewer: Viewer, employee_id: int) -> Employee | None:
    """The employee with their account (one joined query), if the viewer may know them."""
    return await visible_employees(viewer).filter(id=employee_id).select_related("account").first()


async def find_customer_user(viewer: Viewer, customer_user_id: int) -> CustomerUser | None:
    """The customer user with their account (one joined query), if the viewer may know them."""
    return await visible_customer_users(viewer).filter(id=customer_user_id).select_related("account").first()


async def find_permission_group(viewer: Viewer, group_id: int) -> PermissionGroup | None:
    return await visible_permission_groups(viewer).filter(id=group_id).first()


async def ensure_admin(email: str, password: str, name: str = "Administrator") -> Employee:
    """Create or update a system administrator holding every permission (CLI `create-admin`)."""
    email = normalise_email(email)
    check_password_strength(password)
    group, _ = await PermissionGroup.get_or_create(
        name="Administratoren", defaults={"permissions": [p.value for p in Permission]}
    )
    group.permissions = [p.value for p in Permission]
    await group.save()
    async with in_transaction():
        account = await Account.filter(email=email).first()
        if account is None:
            account = await create_account(AccountKind.EMPLOYEE, email, name, password)
            employee = await Employee.create(account=account, is_system_admin=True)
        else:
            if account.kind is not AccountKind.EMPLOYEE:
                raise BadUserInput("This email belongs to a customer user.", field="email")
            account.password_hash = hash_password(password)
            account.name = check_name(name)
            account.is_active = True
            account.token_version += 1
            await account.save()
            employee = await Employee.get(account_id=account.id)
            employee.is_system_admin = True
            await employee.save()
        await employee.groups.add(group)
    return employee
