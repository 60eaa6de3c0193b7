"""Which account details a viewer may read, beyond what the field policies say."""

from __future__ import annotations

from permissions.viewer import Viewer


def may_read_customer_user_contact(viewer: Viewer, customer_user_id: int) -> bool:
    """Employees read every customer user's email; a customer user only their own."""
    return viewer.is_employee or viewer.customer_user_id == customer_user_id
