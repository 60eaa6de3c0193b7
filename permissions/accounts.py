"""Which account details a viewer may read, beyond what the field policies say."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from models.accounts import CustomerUser, Employee, PermissionGroup
from permissions.policy import EMPLOYEES
from permissions.tickets import visible_attachments, visible_comments, visible_tickets
from permissions.viewer import Viewer


def may_read_customer_user_contact(viewer: Viewer, customer_user_id: int) -> bool:
    """Employees read every customer user's email; a customer user only their own."""
    return EMPLOYEES.allows(viewer) or viewer.customer_user_id == customer_user_id


def visible_employees(viewer: Viewer) -> QuerySet[Employee]:
    """Employees know all staff; a customer user only the staff they meet; anyone else none.

    A customer user meets an employee as the assignee or creator of a ticket they can see, or as the
    author of a comment or the uploader of an attachment on one (internal comments excepted: they are
    not seen). Their name only, by field policy.
    """
    if EMPLOYEES.allows(viewer):
        return Employee.all()
    if not viewer.is_customer_user:
        return Employee.filter(id__in=[])
    tickets = visible_tickets(viewer)
    return Employee.filter(
        Q(id__in=Subquery(tickets.filter(assignee_id__isnull=False).values("assignee_id")))
        | Q(account_id__in=Subquery(tickets.filter(created_by_id__isnull=False).values("created_by_id")))
        | Q(account_id__in=Subquery(visible_comments(viewer).values("author_id")))
        | Q(
            account_id__in=Subquery(
                visible_attachments(viewer).filter(uploaded_by_id__isnull=False).values("uploaded_by_id")
            )
        )
    )


def visible_customer_users(viewer: Viewer) -> QuerySet[CustomerUser]:
    """Employees see every customer user; a customer user only themselves."""
    if EMPLOYEES.allows(viewer):
        return CustomerUser.all()
    return CustomerUser.filter(id=viewer.customer_user_id or 0)


def visible_permission_groups(viewer: Viewer) -> QuerySet[PermissionGroup]:
    """Permission groups are staff matters: employees only."""
    return PermissionGroup.all() if EMPLOYEES.allows(viewer) else PermissionGroup.filter(id__in=[])
