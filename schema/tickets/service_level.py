"""`Ticket.serviceLevel`: a ticket's due times and how its targets went, from its own columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from permissions.service_levels import TICKET_SERVICE_LEVEL
from schema.directive import field, type_policy
from schema.loaders import service_level_terms_by_id

# The ticket values (`resolvers.tickets.read.TICKET_VALUES`) `service_level_of` reads.
SLA_VALUES = (
    "sla_terms_id",
    "sla_first_response_due_at",
    "sla_first_responded_at",
    "sla_first_response_breached",
    "sla_resolution_due_at",
    "sla_resolved_at",
    "sla_resolution_breached",
    "sla_paused_since",
    "sla_terms__policy_name",
)


@strawberry.type(
    directives=type_policy(TICKET_SERVICE_LEVEL),
    description="A ticket's service level: its due times under the policy it got when it was created, when "
    "each target was met, and whether it was missed.",
)
class TicketServiceLevel:
    first_response_due_at: datetime = strawberry.field(
        description="When the first response is due (an employee's first public comment, or first move into "
        "an IN_PROGRESS or DONE state)."
    )
    first_responded_at: datetime | None = strawberry.field(description="When it came; null until then.")
    first_response_breached: bool = strawberry.field(
        description="Whether it came after its due time, or has not come and is overdue."
    )
    resolution_due_at: datetime = strawberry.field(
        description="When the move into DONE is due; later by the business time spent in pausing states, "
        "and counted again from a reopening."
    )
    resolved_at: datetime | None = strawberry.field(description="When it was resolved; null while it is not.")
    resolution_breached: bool = strawberry.field(
        description="Whether the resolution was (or is now) late; a breach recorded stays after a reopening."
    )
    paused_since: datetime | None = strawberry.field(
        description="Since when the resolution clock stands still (a state with `pausesServiceLevel`); "
        "null while it runs."
    )
    name: strawberry.Private[str | None]
    terms_pk: strawberry.Private[int]

    @field(policy=TICKET_SERVICE_LEVEL, description="The name of the policy the ticket got (as it was named then).")
    def policy_name(self, info: strawberry.Info) -> str:
        if self.name is not None:
            return self.name
        return _policy_name(info, self.terms_pk)  # type: ignore[return-value]


async def _policy_name(info: strawberry.Info, terms_pk: int) -> str:
    return (await service_level_terms_by_id(info).load(terms_pk)).policy_name


def service_level_of(values: dict[str, Any]) -> TicketServiceLevel | None:
    """The ticket's service level from its `sla_*` values (None without a target)."""
    first_due = values.get("sla_first_response_due_at")
    if first_due is None or values.get("sla_terms_id") is None:
        return None
    now = datetime.now(UTC)
    responded = values["sla_first_responded_at"]
    resolution_due = values["sla_resolution_due_at"]
    resolved, paused = values["sla_resolved_at"], values["sla_paused_since"]
    return TicketServiceLevel(
        first_response_due_at=first_due,
        first_responded_at=responded,
        first_response_breached=bool(values["sla_first_response_breached"]) or (responded is None and first_due <= now),
        resolution_due_at=resolution_due,
        resolved_at=resolved,
        resolution_breached=bool(values["sla_resolution_breached"])
        or (resolved is None and paused is None and resolution_due <= now),
        paused_since=paused,
        name=values.get("sla_terms__policy_name"),
        terms_pk=values["sla_terms_id"],
    )


def service_level_of_ticket(ticket: Any) -> TicketServiceLevel | None:
    """`Ticket.serviceLevel`: from the ticket's `sla_*` attributes, the policy's name from its values row."""
    found = {name: getattr(ticket, name) for name in SLA_VALUES if "__" not in name}
    found["sla_terms__policy_name"] = (ticket.values or {}).get("sla_terms__policy_name")
    return service_level_of(found)
