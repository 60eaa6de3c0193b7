"""Policies: the one declaration of who may use a field.

A `Policy` names roles (any one of which admits the viewer) and permissions
(all of which an admitted viewer must hold). The GraphQL directive in
`schema/directive.py` prints and enforces exactly these objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from itertools import combinations

from models.accounts import AccountKind
from permissions.viewer import ANONYMOUS, Viewer


class Role(Enum):
    ANYONE = "ANYONE"
    SIGNED_IN = "SIGNED_IN"
    CUSTOMER_USER = "CUSTOMER_USER"
    EMPLOYEE = "EMPLOYEE"
    SYSTEM_ADMIN = "SYSTEM_ADMIN"


class Permission(Enum):
    MANAGE_INSIGHT = "MANAGE_INSIGHT"
    MANAGE_CHECK_TEMPLATES = "MANAGE_CHECK_TEMPLATES"
    MANAGE_ABSENCES = "MANAGE_ABSENCES"


ROLE_WORDS = {
    Role.ANYONE: "anyone, signed in or not",
    Role.SIGNED_IN: "any signed-in viewer",
    Role.CUSTOMER_USER: "customer users",
    Role.EMPLOYEE: "employees",
    Role.SYSTEM_ADMIN: "system administrators",
}


def has_role(viewer: Viewer, role: Role) -> bool:
    if role is Role.ANYONE:
        return True
    if role is Role.SIGNED_IN:
        return viewer.is_signed_in
    if role is Role.CUSTOMER_USER:
        return viewer.is_customer_user
    if role is Role.EMPLOYEE:
        return viewer.is_employee
    return viewer.is_system_admin


@dataclass(frozen=True)
class Policy:
    roles: tuple[Role, ...]
    permissions: tuple[Permission, ...] = ()

    def allows(self, viewer: Viewer) -> bool:
        return any(has_role(viewer, role) for role in self.roles) and all(
            permission.value in viewer.permissions for permission in self.permissions
        )

    @property
    def is_open(self) -> bool:
        return Role.ANYONE in self.roles and not self.permissions

    def describe(self) -> str:
        """The policy in words, for field descriptions (directives do not show in introspection)."""
        who = " or ".join(ROLE_WORDS[role] for role in self.roles)
        text = f"Allowed for: {who}."
        if self.permissions:
            text += " Requires permissions: " + ", ".join(p.value for p in self.permissions) + "."
        return text


def allow(*roles: Role, permissions: tuple[Permission, ...] = ()) -> Policy:
    return Policy(roles=tuple(roles), permissions=tuple(permissions))


ANYONE = allow(Role.ANYONE)
SIGNED_IN = allow(Role.SIGNED_IN)
CUSTOMER_USERS = allow(Role.CUSTOMER_USER)
EMPLOYEES = allow(Role.EMPLOYEE)
SYSTEM_ADMINS = allow(Role.SYSTEM_ADMIN)
PORTAL_ADMINS = allow(Role.SYSTEM_ADMIN, permissions=(Permission.MANAGE_INSIGHT,))
TEMPLATE_MANAGERS = allow(Role.EMPLOYEE, permissions=(Permission.MANAGE_CHECK_TEMPLATES,))


# ------------------------------------------------------- comparing policies
# Two policies are compared by whom they admit among viewer archetypes: one of
# each kind of viewer a policy can tell apart (anonymous, a customer user, an
# employee holding each subset of the permissions, a system administrator
# holding each subset). Ids and names play no part in a policy's answer.


def _permission_subsets() -> list[frozenset[str]]:
    names = [p.value for p in Permission]
    return [frozenset(chosen) for size in range(len(names) + 1) for chosen in combinations(names, size)]


def _archetypes() -> dict[str, Viewer]:
    found = {
        "anonymous": ANONYMOUS,
        "customer user": Viewer(account_id=1, kind=AccountKind.CUSTOMER_USER, customer_user_id=1, customer_id=1),
    }
    for admin in (False, True):
        for held in _permission_subsets():
            label = ("system admin" if admin else "employee") + " holding " + (", ".join(sorted(held)) or "nothing")
            found[label] = Viewer(
                account_id=1, kind=AccountKind.EMPLOYEE, employee_id=1, is_system_admin=admin, permissions=held
            )
    return found


VIEWER_ARCHETYPES: dict[str, Viewer] = _archetypes()


def admitted(policy: Policy) -> frozenset[str]:
    """The archetypes (by label) `policy` admits."""
    return frozenset(label for label, viewer in VIEWER_ARCHETYPES.items() if policy.allows(viewer))


def refused_within(narrow: Policy, wide: Policy) -> list[str]:
    """The archetypes `wide` admits and `narrow` refuses, in archetype order (empty: `narrow` refuses none of them).

    A field's policy refusing some viewer its type's policy admits is what makes the field nullable.
    """
    return [label for label, viewer in VIEWER_ARCHETYPES.items() if wide.allows(viewer) and not narrow.allows(viewer)]
