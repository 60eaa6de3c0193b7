"""Who sees a ticket evaluation: customer users only while their customer has it on."""

from __future__ import annotations

from permissions.policy import EMPLOYEES
from permissions.viewer import Viewer

# Employees look at any customer's evaluation, switched on or not (to judge it before turning it on).
SEE_WHEN_OFF = EMPLOYEES


def evaluation_shown(viewer: Viewer, enabled: bool) -> bool:
    """Whether `viewer` gets the evaluation of an object or customer they may already see."""
    return enabled or SEE_WHEN_OFF.allows(viewer)
