"""The audit trail: `auditEvents` for system administrators."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from core.ids import to_global_id
from models.audit import AuditAction as AuditActionValue
from models.audit import AuditEvent as AuditEventRow
from permissions.policy import SYSTEM_ADMINS
from resolvers.audit import AUDIT_EVENTS, page_of_audit_events
from schema.accounts import Person
from schema.directive import described, field, type_policy
from schema.relay import (
    Connection,
    Node,
    Paging,
    connection,
    paged,
)
from schema.tickets.types import person


@strawberry.enum(description="What an audit event records.")
class AuditAction(Enum):
    IMPERSONATION_STARTED = strawberry.enum_value(
        "IMPERSONATION_STARTED", description="An administrator started a read-only impersonation of a customer user."
    )
    API_TOKEN_CREATED = strawberry.enum_value("API_TOKEN_CREATED", description="An API token was created.")
    API_TOKEN_REVOKED = strawberry.enum_value("API_TOKEN_REVOKED", description="An API token was revoked.")
    WEBHOOK_CREATED = strawberry.enum_value("WEBHOOK_CREATED", description="A webhook was created.")
    WEBHOOK_UPDATED = strawberry.enum_value("WEBHOOK_UPDATED", description="A webhook was changed.")
    WEBHOOK_DELETED = strawberry.enum_value("WEBHOOK_DELETED", description="A webhook was deleted.")
    ACCOUNT_CREATED = strawberry.enum_value(
        "ACCOUNT_CREATED", description="An employee, customer user or service account was created."
    )
    ACCOUNT_UPDATED = strawberry.enum_value(
        "ACCOUNT_UPDATED", description="An account was changed (reactivated, its objects replaced)."
    )
    ACCOUNT_DEACTIVATED = strawberry.enum_value(
        "ACCOUNT_DEACTIVATED", description="An account was deactivated: its sessions and API tokens ended."
    )
    PERMISSION_GROUP_CHANGED = strawberry.enum_value(
        "PERMISSION_GROUP_CHANGED", description="A permission group was created or changed."
    )


@strawberry.type(
    directives=type_policy(SYSTEM_ADMINS),
    description="One administrative action: who did what to whom, when and from which address.",
)
class AuditEvent(Node):
    action: AuditAction = strawberry.field(description="What happened.")
    subject_type: str = strawberry.field(
        description="The type of what it happened to: Employee, CustomerUser, ApiToken, PermissionGroup, Webhook."
    )
    subject_id: strawberry.ID | None = strawberry.field(
        description="The global id of what it happened to (it may no longer exist); null when there is none."
    )
    summary: str = strawberry.field(description="The event in one line, for people.")
    address: str | None = strawberry.field(description="The client address the request came from, when known.")
    created_at: datetime = strawberry.field(description="When it happened.")
    actor_name: str = strawberry.field(description="The actor's name at the time (kept when the account is gone).")
    actor_pk: strawberry.Private[int | None]

    @described(description="Who did it; null for the system itself or an account that no longer exists.")
    async def actor(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.actor_pk)

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            id=to_global_id("AuditEvent", row.id),
            action=AuditAction(AuditActionValue(row.action).value),
            subject_type=row.subject_type,
            subject_id=to_global_id(row.subject_type, row.subject_id) if row.subject_id is not None else None,
            summary=row.summary,
            address=row.address,
            created_at=row.created_at,
            actor_name=row.actor_name,
            actor_pk=row.actor_id,
        )


@strawberry.input(description="Narrows `auditEvents`; every field given must match.")
class AuditEventFilterInput:
    action: AuditAction | None = strawberry.field(default=None, description="Only events of this action.")
    actor_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only events by this Employee (or CustomerUser)."
    )
    since: datetime | None = strawberry.field(default=None, description="Only events at or after this instant.")


@strawberry.type
class AuditQueries:
    @field(policy=SYSTEM_ADMINS, description="The audit trail, newest first.")
    @paged(AUDIT_EVENTS)
    async def audit_events(
        self,
        info: strawberry.Info,
        page: Paging,
        filter: Annotated[
            AuditEventFilterInput | None, strawberry.argument(description="Which events to list (all when absent).")
        ] = None,
    ) -> Connection[AuditEvent]:
        rows, total = await page_of_audit_events(
            info.context.viewer,
            page.window,
            action=AuditActionValue(filter.action.value) if filter and filter.action else None,
            actor_id=filter.actor_id if filter else None,
            since=filter.since if filter else None,
        )
        return connection([AuditEvent.from_row(r) for r in rows], rows, page, total)
