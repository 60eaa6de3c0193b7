"""Which account details a viewer may read, beyond what the field policies say."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.accounts import CustomerUser, Employee, PermissionGroup
from permissions.policy import EMPLOYEES, SIGNED_IN
from permissions.viewer import Viewer


def may_read_customer_user_contact(viewer: Viewer, customer_user_id: int) -> bool:
    """Employees read every customer user's email; a customer user only their own."""
    return EMPLOYEES.allows(viewer) or viewer.customer_user_id == customer_user_id


def visible_employees(viewer: Viewer) -> QuerySet[Employee]:
    """Every signed-in viewer knows the staff (customer users see their names only, by field policy)."""
    return Employee.all() if SIGNED_IN.allows(viewer) else Employee.filter(id__in=[])


def visible_customer_users(viewer: Viewer) -> QuerySet[CustomerUser]:
    """Employees see every customer user; a customer user only themselves."""
    if EMPLOYEES.allows(viewer):
        return CustomerUser.all()
    return CustomerUser.filter(id=viewer.customer_user_id or 0)


def visible_permission_groups(viewer: Viewer) -> QuerySet[PermissionGroup]:
    """Permission groups are staff matters: employees only."""
    return PermissionGroup.all() if EMPLOYEES.allows(viewer) else PermissionGroup.filter(id__in=[])
