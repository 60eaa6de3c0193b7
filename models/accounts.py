"""Accounts: who can sign in (employees and customer users) and their credentials.

Every login identity is one `Account` row, so an email is unique across
employees and customer users by the database, compared case-insensitively:
migration 0001 adds a unique index on `lower(email)` (code also stores
emails lower-cased).
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class AccountKind(str, Enum):
    EMPLOYEE = "employee"
    CUSTOMER_USER = "customer_user"


class Account(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(AccountKind, max_length=16)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    # Bumped on password change or deactivation: older access tokens stop working.
    token_version = fields.IntField(default=1)
    locale = fields.CharField(max_length=5, default="de")
    # Optional notification mails (see resolvers/notifications.py); the DONE
    # mail to a ticket's portal creator cannot be switched off.
    notify_comments = fields.BooleanField(default=True, db_default=True)
    notify_status_changes = fields.BooleanField(default=True, db_default=True)
    notify_assignments = fields.BooleanField(default=True, db_default=True)
    notify_new_tickets = fields.BooleanField(default=True, db_default=True)
    # A service account (an employee-kind account for one integration) has no
    # password and cannot sign in; it acts through API tokens only.
    is_service_account = fields.BooleanField(default=False, db_default=False)
    # The address a delivery status notification reported as failing (issue 27, lower-cased). While
    # it equals `email` no mail goes out; a changed address or `clearMailBouncing` ends that.
    mail_bouncing_address = fields.CharField(max_length=254, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"


class PermissionGroup(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    # Names of `permissions.policy.Permission` members.
    permissions: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "permission_group"


class Employee(Model):
    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="employee", on_delete=fields.CASCADE
    )
    account_id: int
    is_system_admin = fields.BooleanField(default=False)
    groups: fields.ManyToManyRelation[PermissionGroup] = fields.ManyToManyField(
        "models.PermissionGroup", related_name="employees", through="employee_permission_group"
    )

    class Meta:
        table = "employee"


class CustomerUser(Model):
    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="customer_user", on_delete=fields.CASCADE
    )
    account_id: int
    # Typed as a plain Model: models.customers imports this module (CustomerUserObject), and the
    # layer test forbids the import cycle even under TYPE_CHECKING.
    customer: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.Customer", related_name="users", on_delete=fields.RESTRICT
    )
    customer_id: int

    class Meta:
        table = "customer_user"


class RefreshToken(Model):
    # One issued refresh token, stored as its SHA-256 only. The tokens of one
    # login form a family: each use rotates to a new token of the same family,
    # and presenting a rotated token again revokes the family.

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    account_id: int
    family = fields.CharField(max_length=36, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    rotated_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_token"


class LoginThrottle(Model):
    # Sign-in attempts per key in the current window, shared by every server
    # process: the key is "account:" plus the SHA-256 of the typed email (so
    # unknown emails are throttled alike and no email is stored) or "address:"
    # plus the client address. Times are Unix seconds.

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100, unique=True)
    attempts = fields.IntField(default=0)
    window_started = fields.BigIntField(db_index=True)

    class Meta:
        table = "login_throttle"
