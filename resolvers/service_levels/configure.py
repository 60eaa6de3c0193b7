"""Configuring service levels: business calendars and policies, checked whole before anything is stored.

Who may call these is the `@policy` of the mutations (system administrators with
MANAGE_INSIGHT); the functions take no viewer. Every save of a policy, and every change of a
calendar, writes new `ServiceLevelTerms` for the policies concerned: tickets created later get
them, tickets created earlier keep theirs.

Which policy a ticket gets: the most specific one matching its customer and type (customer and
type > customer > type > neither). Two policies equally specific for one case are refused when
the second is saved (`BAD_USER_INPUT`, field `ticketTypeIds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from core.business_time import format_clock, known_holiday_region, known_time_zone, parse_clock
from core.dates import plausible_date
from core.errors import BadUserInput, NotFound
from models.customers import Customer, SiteObject
from models.service_levels import BusinessCalendar, ServiceLevelPolicy, ServiceLevelTerms, TicketPriority
from models.tickets import TicketType
from resolvers.accounts import check_name
from resolvers.service_levels.clock import Terms

MAX_TARGET_MINUTES = 525_600  # a year
MAX_HOLIDAYS = 1000
MAX_WINDOWS = 7 * 24


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- calendars


def checked_hours(hours: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Working windows as stored ({weekday, start, end}, sorted), or BAD_USER_INPUT naming the item's field."""
    if not hours:
        raise BadUserInput("A calendar needs at least one working window.", field="hours")
    if len(hours) > MAX_WINDOWS:
        raise BadUserInput(f"At most {MAX_WINDOWS} working windows.", field="hours")
    found = []
    for i, item in enumerate(hours):
        weekday = item["weekday"]
        if not 1 <= weekday <= 7:
            raise BadUserInput("The weekday must be 1 (Monday) to 7 (Sunday).", field=f"hours.{i}.weekday")
        start, end = parse_clock(item["start"]), parse_clock(item["end"])
        if start is None or start >= 24 * 60:
            raise BadUserInput("The start must be a time HH:MM from 00:00 to 23:59.", field=f"hours.{i}.start")
        if end is None:
            raise BadUserInput("The end must be a time HH:MM up to 24:00.", field=f"hours.{i}.end")
        if start >= end:
            raise BadUserInput("The end must be after the start.", field=f"hours.{i}.end")
        found.append((weekday, start, end))
    return [{"weekday": w, "start": format_clock(s), "end": format_clock(e)} for w, s, e in sorted(set(found))]


def checked_holidays(holidays: Sequence[date] | None) -> list[str]:
    days = sorted(set(holidays or ()))
    if len(days) > MAX_HOLIDAYS:
        raise BadUserInput(f"At most {MAX_HOLIDAYS} holidays.", field="holidays")
    for i, day in enumerate(holidays or ()):
        plausible_date(day, f"holidays.{i}")
    return [d.isoformat() for d in days]


def checked_region(region: str | None) -> str | None:
    if region is None or not region.strip():
        return None
    region = region.strip()
    if not known_holiday_region(region):
        raise BadUserInput(
            "Unknown holiday region: a country code, or country and subdivision such as DE-NW.",
            field="holidayRegion",
        )
    return region


def checked_zone(name: str) -> str:
    if not known_time_zone(name.strip()):
        raise BadUserInput("Unknown time zone: an IANA name such as Europe/Berlin.", field="timeZone")
    return name.strip()


def calendar_snapshot(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "time_zone": calendar.time_zone,
        "hours": list(calendar.hours),
        "holidays": list(calendar.holidays),
        "holiday_region": calendar.holiday_region,
    }


async def create_business_calendar(
    *,
    name: str,
    time_zone: str,
    hours: Sequence[dict[str, Any]],
    holidays: Sequence[date] | None = None,
    holiday_region: str | None = None,
) -> BusinessCalendar:
    values: dict[str, Any] = {
        "name": check_name(name, "name", 100),
        "time_zone": checked_zone(time_zone),
        "hours": checked_hours(hours),
        "holidays": checked_holidays(holidays),
        "holiday_region": checked_region(holiday_region),
    }
    at = _now()
    return await BusinessCalendar.create(**values, created_at=at, updated_at=at)


async def get_calendar(calendar_id: int, field: str = "id") -> BusinessCalendar:
    calendar = await BusinessCalendar.filter(id=calendar_id).first()
    if calendar is None:
        raise NotFound("No business calendar with this ID.", field=field)
    return calendar


async def update_business_calendar(
    calendar_id: int,
    *,
    name: str | None = None,
    time_zone: str | None = None,
    hours: Sequence[dict[str, Any]] | None = None,
    holidays: Sequence[date] | None = None,
    holiday_region: Any = None,
    clear_holiday_region: bool = False,
) -> BusinessCalendar:
    """Change what is given; the policies using the calendar get new terms (for later tickets)."""
    calendar = await get_calendar(calendar_id)
    if name is not None:
        calendar.name = check_name(name, "name", 100)
    if time_zone is not None:
        calendar.time_zone = checked_zone(time_zone)
    if hours is not None:
        calendar.hours = checked_hours(hours)
    if holidays is not None:
        calendar.holidays = checked_holidays(holidays)
    if clear_holiday_region:
        calendar.holiday_region = None
    elif holiday_region is not None:
        calendar.holiday_region = checked_region(holiday_region)
    calendar.updated_at = _now()
    async with in_transaction() as connection:
        await calendar.save(using_db=connection)
        for policy in await ServiceLevelPolicy.filter(calendar_id=calendar.id).using_db(connection):
            await _renew_terms(connection, policy, calendar)
    return calendar


async def business_calendars() -> list[BusinessCalendar]:
    return list(await BusinessCalendar.all().order_by("name", "id"))


async def find_calendar(calendar_id: int) -> BusinessCalendar | None:
    return await BusinessCalendar.filter(id=calendar_id).first()


# ---------------------------------------------------------------- policies


PRIORITY_ORDER = {p.value: i for i, p in enumerate(TicketPriority)}


def checked_targets(targets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not targets:
        raise BadUserInput("A policy needs at least one target.", field="targets")
    seen: set[str] = set()
    found = []
    for i, target in enumerate(targets):
        priority = TicketPriority(target["priority"]).value
        if priority in seen:
            raise BadUserInput("At most one target per priority.", field=f"targets.{i}.priority")
        seen.add(priority)
        first, resolution = target["first_response_minutes"], target["resolution_minutes"]
        for value, name in ((first, "firstResponseMinutes"), (resolution, "resolutionMinutes")):
            if not 1 <= value <= MAX_TARGET_MINUTES:
                raise BadUserInput(
                    f"Minutes must be 1 to {MAX_TARGET_MINUTES:,} business minutes.", field=f"targets.{i}.{name}"
                )
        if first > resolution:
            raise BadUserInput(
                "The first response must not be due after the resolution.", field=f"targets.{i}.firstResponseMinutes"
            )
        found.append({"priority": priority, "first_response_minutes": first, "resolution_minutes": resolution})
    return sorted(found, key=lambda t: PRIORITY_ORDER[t["priority"]])


def checked_percent(value: int) -> int:
    if not 1 <= value <= 99:
        raise BadUserInput("The warning threshold must be 1 to 99 percent.", field="warnAtPercent")
    return value


async def checked_types(type_ids: Sequence[int]) -> list[int]:
    wanted = sorted(set(type_ids))
    rows = {r["id"]: r for r in await TicketType.filter(id__in=wanted).values("id", "is_absence_request")}
    for i, pk in enumerate(type_ids):
        if pk not in rows:
            raise NotFound("No ticket type with this ID.", field=f"ticketTypeIds.{i}")
        if rows[pk]["is_absence_request"]:
            raise BadUserInput("Absence requests have no service levels.", field=f"ticketTypeIds.{i}")
    return wanted


async def checked_customer(customer_id: int | None) -> int | None:
    if customer_id is not None and not await Customer.filter(id=customer_id).exists():
        raise NotFound("No customer with this ID.", field="customerId")
    return customer_id


def overlaps(a_customer: int | None, a_types: list[int], b_customer: int | None, b_types: list[int]) -> bool:
    """Whether two policies are equally specific for some customer and type (then one must go)."""
    if a_customer != b_customer or bool(a_types) != bool(b_types):
        return False
    return not a_types or bool(set(a_types) & set(b_types))


async def _check_unique(customer_id: int | None, type_ids: list[int], except_id: int | None = None) -> None:
    query = ServiceLevelPolicy.filter(customer_id=customer_id)
    if except_id is not None:
        query = query.exclude(id=except_id)
    for other in await query.values("name", "ticket_type_ids"):
        if overlaps(customer_id, type_ids, customer_id, list(other["ticket_type_ids"])):
            raise BadUserInput(
                f"The policy {other['name']!r} is as specific for the same customer and ticket types.",
                field="ticketTypeIds",
            )


async def _renew_terms(connection: Any, policy: ServiceLevelPolicy, calendar: BusinessCalendar) -> None:
    """New terms from the policy and calendar as they are now; later tickets get them."""
    terms = await ServiceLevelTerms.create(
        policy_id=policy.id,
        policy_name=policy.name,
        calendar=calendar_snapshot(calendar),
        targets=list(policy.targets),
        warn_at_percent=policy.warn_at_percent,
        created_at=_now(),
        using_db=connection,
    )
    policy.terms_id = terms.id
    await ServiceLevelPolicy.filter(id=policy.id).using_db(connection).update(terms_id=terms.id)


@dataclass(frozen=True)
class PolicyInput:
    name: str
    calendar: BusinessCalendar
    customer_id: int | None
    ticket_type_ids: list[int]
    targets: list[dict[str, Any]]
    warn_at_percent: int


async def create_service_level_policy(
    *,
    name: str,
    calendar_id: int,
    targets: Sequence[dict[str, Any]],
    warn_at_percent: int = 80,
    customer_id: int | None = None,
    ticket_type_ids: Sequence[int] | None = None,
) -> ServiceLevelPolicy:
    checked = PolicyInput(
        name=check_name(name, "name", 100),
        calendar=await get_calendar(calendar_id, "calendarId"),
        customer_id=await checked_customer(customer_id),
        ticket_type_ids=await checked_types(ticket_type_ids or ()),
        targets=checked_targets(targets),
        warn_at_percent=checked_percent(warn_at_percent),
    )
    await _check_unique(checked.customer_id, checked.ticket_type_ids)
    at = _now()
    async with in_transaction() as connection:
        terms = await ServiceLevelTerms.create(
            policy_name=checked.name,
            calendar=calendar_snapshot(checked.calendar),
            targets=checked.targets,
            warn_at_percent=checked.warn_at_percent,
            created_at=at,
            using_db=connection,
        )
        policy = await ServiceLevelPolicy.create(
            name=checked.name,
            calendar_id=checked.calendar.id,
            customer_id=checked.customer_id,
            ticket_type_ids=checked.ticket_type_ids,
            targets=checked.targets,
            warn_at_percent=checked.warn_at_percent,
            terms_id=terms.id,
            created_at=at,
            updated_at=at,
            using_db=connection,
        )
        await ServiceLevelTerms.filter(id=terms.id).using_db(connection).update(policy_id=policy.id)
    return policy


async def get_policy(policy_id: int) -> ServiceLevelPolicy:
    policy = await ServiceLevelPolicy.filter(id=policy_id).first()
    if policy is None:
        raise NotFound("No service-level policy with this ID.", field="id")
    return policy


async def update_service_level_policy(
    policy_id: int,
    *,
    name: str | None = None,
    calendar_id: int | None = None,
    targets: Sequence[dict[str, Any]] | None = None,
    warn_at_percent: int | None = None,
    customer_id: int | None = None,
    clear_customer: bool = False,
    ticket_type_ids: Sequence[int] | None = None,
) -> ServiceLevelPolicy:
    """Change what is given (`clear_customer`: the policy applies to any customer); new terms for later tickets."""
    policy = await get_policy(policy_id)
    if name is not None:
        policy.name = check_name(name, "name", 100)
    calendar = await get_calendar(calendar_id if calendar_id is not None else policy.calendar_id, "calendarId")
    policy.calendar_id = calendar.id
    if clear_customer:
        policy.customer_id = None
    elif customer_id is not None:
        policy.customer_id = await checked_customer(customer_id)
    if ticket_type_ids is not None:
        policy.ticket_type_ids = await checked_types(ticket_type_ids)
    if targets is not None:
        policy.targets = checked_targets(targets)
    if warn_at_percent is not None:
        policy.warn_at_percent = checked_percent(warn_at_percent)
    await _check_unique(policy.customer_id, list(policy.ticket_type_ids), except_id=policy.id)
    policy.updated_at = _now()
    async with in_transaction() as connection:
        await policy.save(using_db=connection)
        await _renew_terms(connection, policy, calendar)
    return policy


async def delete_service_level_policy(policy_id: int) -> int:
    """Remove the policy; tickets created under it keep their terms and due times."""
    policy = await get_policy(policy_id)
    await ServiceLevelPolicy.filter(id=policy.id).delete()
    return policy.id


async def service_level_policies() -> list[ServiceLevelPolicy]:
    return list(await ServiceLevelPolicy.all().order_by("name", "id"))


async def find_policy(policy_id: int) -> ServiceLevelPolicy | None:
    return await ServiceLevelPolicy.filter(id=policy_id).first()


# ---------------------------------------------------------------- which policy a new ticket gets


def specificity(customer_id: int | None, type_ids: Sequence[int]) -> int:
    return (2 if customer_id is not None else 0) + (1 if type_ids else 0)


async def terms_for(connection: Any, object_id: int, ticket_type_id: int) -> Terms | None:
    """The current terms of the most specific policy for a new ticket on the object, of the type.

    One query for the candidate policies (for the object's customer, or any; the type's absence
    flag riding along), one more for the chosen terms. Absence requests never get a service level.
    """
    customer = Subquery(SiteObject.filter(id=object_id).values("customer_id"))
    absence = Subquery(TicketType.filter(id=ticket_type_id).values("is_absence_request"))
    candidates = await (
        ServiceLevelPolicy.filter(Q(customer_id=None) | Q(customer_id__in=customer))
        .annotate(absence=absence)
        .using_db(connection)
        .values("customer_id", "ticket_type_ids", "terms_id", "absence")
    )
    matching = [
        c
        for c in candidates
        if not c["absence"] and (not c["ticket_type_ids"] or ticket_type_id in c["ticket_type_ids"])
    ]
    if not matching:
        return None
    best = max(matching, key=lambda c: specificity(c["customer_id"], c["ticket_type_ids"]))
    return (await terms_by_id([best["terms_id"]], connection))[best["terms_id"]]


async def terms_by_id(ids: Sequence[int], connection: Any = None) -> dict[int, Terms]:
    query = ServiceLevelTerms.filter(id__in=set(ids))
    rows = await (query.using_db(connection) if connection is not None else query)
    return {row.id: Terms.of(row) for row in rows}
