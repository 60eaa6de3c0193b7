"""Who configures and reads service levels, and whose actions count toward a ticket's targets.

Business calendars and service-level policies are configured by system administrators with
MANAGE_INSIGHT (like the rest of what customers were promised) and read by employees; a
customer user never sees a policy, only their tickets' due times (`Ticket.serviceLevel`).
A ticket's priority is chosen by whoever creates it (`createTicket`'s policy) and changed
afterwards only through `updateTicket` (employees).
"""

from __future__ import annotations

from permissions.policy import EMPLOYEES, PORTAL_ADMINS, SIGNED_IN

CONFIGURE = PORTAL_ADMINS
READ = EMPLOYEES
# A ticket's service level (its due times, never the policy's configuration).
TICKET_SERVICE_LEVEL = SIGNED_IN
# Whose public comment or move into IN_PROGRESS/DONE is a ticket's first response.
RESPONDS = EMPLOYEES
