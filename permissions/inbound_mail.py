"""Who may see and configure the email channel (issue 27); the fields and mutations use these policies."""

from __future__ import annotations

from permissions.policy import EMPLOYEES, PORTAL_ADMINS, SYSTEM_ADMINS

# SiteObject.intakeAddress (a secret: whoever knows it can open tickets as a customer user who sees the
# object, by mail from that user's address), Customer.mailTicketType, Employee/CustomerUser.mailBouncing.
READ_CHANNEL = EMPLOYEES
# rotateObjectIntakeAddress, setCustomerMailTicketType: portal configuration.
CONFIGURE_CHANNEL = PORTAL_ADMINS
# clearMailBouncing: an address's state is the administrators'.
CLEAR_BOUNCING = SYSTEM_ADMINS
