"""Who may read the audit trail: system administrators only."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.audit import AuditEvent
from permissions.policy import SYSTEM_ADMINS
from permissions.viewer import Viewer


def visible_audit_events(viewer: Viewer) -> QuerySet[AuditEvent]:
    return AuditEvent.all() if SYSTEM_ADMINS.allows(viewer) else AuditEvent.filter(id__in=[])
