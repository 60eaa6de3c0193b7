"""Row scoping for customers and their objects: what a viewer may know exists."""

from __future__ import annotations

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from models.customers import Customer, CustomerUserObject, SiteObject
from permissions.viewer import Viewer


def assigned_object_ids(viewer: Viewer) -> Subquery:
    """Subquery of the object ids assigned to a customer user."""
    return Subquery(CustomerUserObject.filter(customer_user_id=viewer.customer_user_id).values("object_id"))


def assigned_object_ids_of_customer(viewer: Viewer) -> Subquery:
    """The object ids assigned to a customer user that (still) belong to their customer."""
    return Subquery(
        CustomerUserObject.filter(
            customer_user_id=viewer.customer_user_id, object__customer_id=viewer.customer_id
        ).values("object_id")
    )


def visible_objects(viewer: Viewer) -> QuerySet[SiteObject]:
    """Employees see every object; customer users only the objects assigned to them."""
    if viewer.is_employee:
        return SiteObject.all()
    if viewer.is_customer_user:
        return SiteObject.filter(customer_id=viewer.customer_id, id__in=assigned_object_ids(viewer))
    return SiteObject.filter(id__in=[])


def visible_customers(viewer: Viewer) -> QuerySet[Customer]:
    """Employees see every customer; a customer user only their own."""
    if viewer.is_employee:
        return Customer.all()
    if viewer.is_customer_user:
        return Customer.filter(id=viewer.customer_id)
    return Customer.filter(id__in=[])
