"""Service levels in GraphQL: business calendars, policies, a ticket's `serviceLevel` and the evaluation's counts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from core.ids import parse_id, to_global_id
from models.service_levels import BusinessCalendar as CalendarRow
from models.service_levels import ServiceLevelPolicy as PolicyRow
from models.service_levels import TicketPriority
from permissions.service_levels import CONFIGURE, READ
from resolvers.service_levels import configure
from schema.customers import Customer
from schema.directive import field, mutation, type_policy
from schema.inputs import BusinessCalendarId, CustomerId, ServiceLevelPolicyId, TicketTypeId, decoded
from schema.loaders import business_calendar_by_id, customer_by_id, ticket_type_by_id
from schema.relay import Node, lazy_id
from schema.tickets import enums as _enums  # noqa: F401 (registers TicketPriority first)
from schema.tickets.types import TicketType

# ---------------------------------------------------------------- types


@strawberry.type(directives=type_policy(READ), description="One working window of a weekday.")
class WorkingHours:
    weekday: int = strawberry.field(description="1 = Monday … 7 = Sunday.")
    start: str = strawberry.field(description='Local start time "HH:MM" (inclusive).')
    end: str = strawberry.field(description='Local end time "HH:MM" (exclusive); "24:00" is the end of the day.')


@strawberry.type(
    directives=type_policy(READ),
    description="Working hours in a time zone, with holidays: what a service-level policy's business minutes "
    "count. Only working time counts; across daylight-saving changes real elapsed time counts.",
)
class BusinessCalendar(Node):
    id: strawberry.ID = lazy_id("BusinessCalendar")
    name: str = strawberry.field(description="The calendar's name, e.g. Werktage NRW.")
    time_zone: str = strawberry.field(description='The IANA time zone, e.g. "Europe/Berlin".')
    hours: list[WorkingHours] = strawberry.field(description="The working windows, by weekday and start.")
    holidays: list[date] = strawberry.field(description="Days on which nothing counts, besides the region's.")
    holiday_region: str | None = strawberry.field(
        description='A region of the `holidays` package (e.g. "DE-NW") whose public holidays count as holidays too.'
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: CalendarRow) -> BusinessCalendar:
        return cls(
            name=row.name,
            time_zone=row.time_zone,
            hours=[WorkingHours(weekday=h["weekday"], start=h["start"], end=h["end"]) for h in row.hours],
            holidays=[date.fromisoformat(d) for d in row.holidays],
            holiday_region=row.holiday_region,
            pk=row.id,
        )


@strawberry.type(directives=type_policy(READ), description="The targets of one priority, in business minutes.")
class ServiceLevelTarget:
    priority: TicketPriority = strawberry.field(description="The tickets' priority this target is for.")
    first_response_minutes: int = strawberry.field(description="Business minutes until the first response is due.")
    resolution_minutes: int = strawberry.field(description="Business minutes until the resolution is due.")


@strawberry.type(
    directives=type_policy(READ),
    description="Response and resolution targets per priority for a customer (or any) and some ticket types "
    "(or any). A new ticket gets the most specific matching policy (customer and type > customer > type > "
    "neither) and keeps it as it was then.",
)
class ServiceLevelPolicy(Node):
    id: strawberry.ID = lazy_id("ServiceLevelPolicy")
    name: str = strawberry.field(description="The policy's name, e.g. Premium Stadtwerke.")
    targets: list[ServiceLevelTarget] = strawberry.field(
        description="At most one per priority; a ticket whose priority has none has no service level."
    )
    warn_at_percent: int = strawberry.field(
        description="At this share of a target's business time (1–99) the assignee is warned."
    )
    pk: strawberry.Private[int]
    calendar_pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int | None]
    type_pks: strawberry.Private[list[int]]

    @field(policy=READ, description="The calendar the minutes are counted in.")
    async def calendar(self, info: strawberry.Info) -> BusinessCalendar:
        return BusinessCalendar.from_row(await business_calendar_by_id(info).load(self.calendar_pk))

    @field(policy=READ, description="The customer it applies to; null: any customer.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        if self.customer_pk is None:
            return None
        return Customer.from_row(await customer_by_id(info).load(self.customer_pk))

    @field(policy=READ, description="The ticket types it applies to; empty: any type.")
    async def ticket_types(self, info: strawberry.Info) -> list[TicketType]:
        rows = await ticket_type_by_id(info).load_many(self.type_pks)
        return [TicketType.from_row(r) for r in rows if r is not None]

    @classmethod
    def from_row(cls, row: PolicyRow) -> ServiceLevelPolicy:
        return cls(
            name=row.name,
            targets=[
                ServiceLevelTarget(
                    priority=TicketPriority(t["priority"]),
                    first_response_minutes=t["first_response_minutes"],
                    resolution_minutes=t["resolution_minutes"],
                )
                for t in row.targets
            ],
            warn_at_percent=row.warn_at_percent,
            pk=row.id,
            calendar_pk=row.calendar_id,
            customer_pk=row.customer_id,
            type_pks=list(row.ticket_type_ids),
        )


# ---------------------------------------------------------------- inputs


@strawberry.input(description="One working window of a weekday.")
class WorkingHoursInput:
    weekday: int = strawberry.field(description="1 = Monday … 7 = Sunday.")
    start: str = strawberry.field(description='"HH:MM", 00:00 to 23:59.')
    end: str = strawberry.field(description='"HH:MM" after the start, up to "24:00".')


@strawberry.input(description="A new business calendar.")
class CreateBusinessCalendarInput:
    name: str = strawberry.field(description="1 to 100 characters.")
    time_zone: str = strawberry.field(description='An IANA time zone, e.g. "Europe/Berlin".')
    hours: list[WorkingHoursInput] = strawberry.field(description="The working windows (at least one).")
    holidays: list[date] | None = strawberry.field(default=None, description="Days on which nothing counts.")
    holiday_region: str | None = strawberry.field(
        default=None, description='A region of the `holidays` package, e.g. "DE" or "DE-NW".'
    )


@strawberry.input(description="Changes to a business calendar; absent fields stay. Tickets keep their due times.")
class UpdateBusinessCalendarInput:
    id: BusinessCalendarId = strawberry.field(description="The calendar to change.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    time_zone: str | None = strawberry.field(default=None, description="A new IANA time zone.")
    hours: list[WorkingHoursInput] | None = strawberry.field(default=None, description="New working windows (all).")
    holidays: list[date] | None = strawberry.field(default=None, description="New holidays (all).")
    holiday_region: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new holiday region; null or empty removes it."
    )


@strawberry.input(description="The targets of one priority.")
class ServiceLevelTargetInput:
    priority: TicketPriority = strawberry.field(description="The priority (at most one target each).")
    first_response_minutes: int = strawberry.field(description="1 to 525,600 business minutes.")
    resolution_minutes: int = strawberry.field(
        description="1 to 525,600 business minutes, not fewer than `firstResponseMinutes`."
    )


@strawberry.input(description="A new service-level policy.")
class CreateServiceLevelPolicyInput:
    name: str = strawberry.field(description="1 to 100 characters.")
    calendar_id: BusinessCalendarId = strawberry.field(description="The calendar its minutes count in.")
    customer_id: CustomerId | None = strawberry.field(default=None, description="The customer; null: any.")
    ticket_type_ids: list[TicketTypeId] | None = strawberry.field(
        default=None, description="The ticket types; empty or absent: any type."
    )
    targets: list[ServiceLevelTargetInput] = strawberry.field(description="At most one per priority.")
    warn_at_percent: int = strawberry.field(default=80, description="Warning threshold, 1 to 99 percent.")


@strawberry.input(description="Changes to a service-level policy; absent fields stay. Only later tickets get them.")
class UpdateServiceLevelPolicyInput:
    id: ServiceLevelPolicyId = strawberry.field(description="The policy to change.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    calendar_id: BusinessCalendarId | None = strawberry.field(default=None, description="A new calendar.")
    customer_id: CustomerId | None = strawberry.field(
        default=strawberry.UNSET, description="A new customer; null: any customer."
    )
    ticket_type_ids: list[TicketTypeId] | None = strawberry.field(
        default=None, description="New ticket types; empty: any type."
    )
    targets: list[ServiceLevelTargetInput] | None = strawberry.field(default=None, description="New targets (all).")
    warn_at_percent: int | None = strawberry.field(default=None, description="A new warning threshold, 1 to 99.")


# ---------------------------------------------------------------- operations


@strawberry.type
class ServiceLevelQueries:
    @field(policy=READ, description="The business calendars, by name.")
    async def business_calendars(self) -> list[BusinessCalendar]:
        return [BusinessCalendar.from_row(r) for r in await configure.business_calendars()]

    @field(policy=READ, description="The service-level policies, by name (customer users never see them).")
    async def service_level_policies(self) -> list[ServiceLevelPolicy]:
        return [ServiceLevelPolicy.from_row(r) for r in await configure.service_level_policies()]


def _unset_to(fields: dict[str, Any], name: str, clear: str) -> dict[str, Any]:
    """An UNSET field is left out; an explicit null becomes `clear=True`."""
    value = fields.pop(name)
    if value is strawberry.UNSET:
        return fields
    if value is None or value == "":
        fields[clear] = True
    else:
        fields[name] = value
    return fields


@strawberry.type
class ServiceLevelMutations:
    @mutation(policy=CONFIGURE, description="A new business calendar.")
    async def create_business_calendar(
        self, input: Annotated[CreateBusinessCalendarInput, strawberry.argument(description="The calendar.")]
    ) -> BusinessCalendar:
        return BusinessCalendar.from_row(await configure.create_business_calendar(**decoded(input)))

    @mutation(
        policy=CONFIGURE, description="Change a calendar; the policies using it apply the change to later tickets."
    )
    async def update_business_calendar(
        self, input: Annotated[UpdateBusinessCalendarInput, strawberry.argument(description="The changes.")]
    ) -> BusinessCalendar:
        fields = _unset_to(decoded(input), "holiday_region", "clear_holiday_region")
        return BusinessCalendar.from_row(await configure.update_business_calendar(fields.pop("id"), **fields))

    @mutation(policy=CONFIGURE, description="A new service-level policy; one as specific as another is refused.")
    async def create_service_level_policy(
        self, input: Annotated[CreateServiceLevelPolicyInput, strawberry.argument(description="The policy.")]
    ) -> ServiceLevelPolicy:
        return ServiceLevelPolicy.from_row(await configure.create_service_level_policy(**decoded(input)))

    @mutation(policy=CONFIGURE, description="Change a policy; tickets created before keep their due times.")
    async def update_service_level_policy(
        self, input: Annotated[UpdateServiceLevelPolicyInput, strawberry.argument(description="The changes.")]
    ) -> ServiceLevelPolicy:
        fields = _unset_to(decoded(input), "customer_id", "clear_customer")
        return ServiceLevelPolicy.from_row(await configure.update_service_level_policy(fields.pop("id"), **fields))

    @mutation(policy=CONFIGURE, description="Remove a policy; tickets created under it keep their due times.")
    async def delete_service_level_policy(
        self, id: Annotated[strawberry.ID, strawberry.argument(description="The policy's ID.")]
    ) -> strawberry.ID:
        pk = await configure.delete_service_level_policy(parse_id(id, "ServiceLevelPolicy", "id"))
        return to_global_id("ServiceLevelPolicy", pk)
