"""Demo data for `sitedesk seed-demo`: a believable small cleaning company."""

from __future__ import annotations

from models.accounts import Account
from resolvers import accounts
from resolvers.tickets import create_ticket_type
from permissions.policy import Permission

ADMIN = ("admin@sitedesk.example", "demo-admin-2026", "system administrator, every permission")
EMPLOYEES = [
    ("petra.schulz@sitedesk.example", "demo-petra-2026", "Petra Schulz", "Objektleitung",
     [Permission.MANAGE_CHECK_TEMPLATES]),
    ("jonas.weber@sitedesk.example", "demo-jonas-2026", "Jonas Weber", "Reinigungsteam", []),
    ("aylin.demir@sitedesk.example", "demo-aylin-2026", "Aylin Demir", "Personalbüro",
     [Permission.MANAGE_ABSENCES]),
]
TICKET_TYPES = [
    ("Reinigungsmangel", False),
    ("Schaden", False),
    ("Leistungsnachweis", False),
    ("Nachreinigung", False),
    ("Urlaub", True),
    ("Krankmeldung", True),
]


async def seed_demo() -> list[tuple[str, str, str]]:
    """Add the demo data unless it is there; returns the demo logins it created."""
    if await Account.filter(email=ADMIN[0]).exists():
        return []
    logins = [ADMIN]
    await accounts.ensure_admin(ADMIN[0], ADMIN[1], "Sabine Admin")
    for email, password, name, group_name, permissions in EMPLOYEES:
        group = await accounts.create_permission_group(group_name, permissions)
        await accounts.create_employee(email, name, password, False, [group.id])
        who = f"employee ({group_name}" + (
            ": " + ", ".join(p.value for p in permissions) if permissions else "") + ")"
        logins.append((email, password, who))
    for name, is_absence in TICKET_TYPES:
        await create_ticket_type(name, is_absence)
    return logins
