"""Configuring service levels: who may, what is refused (and then nothing is stored), which policy wins."""

from __future__ import annotations

import pytest

from models.service_levels import BusinessCalendar, ServiceLevelPolicy, ServiceLevelTerms
from permissions.policy import Permission
from tests.factories import make_employee
from tests.service_levels.conftest import (
    ALWAYS,
    CALENDARS,
    CREATE_CALENDAR,
    CREATE_POLICY,
    DELETE_POLICY,
    POLICIES,
    UPDATE_CALENDAR,
    UPDATE_POLICY,
    create_ticket,
    gid,
    make_calendar,
    make_policy,
)


@pytest.fixture
async def admin_without_insight(world, settings):
    return await make_employee(settings, name="Admin ohne Insight", admin=True)


async def test_customer_users_and_plain_employees_cannot_configure(world, admin_without_insight):
    calendar = await make_calendar(world)
    new_calendar = {"input": {"name": "X", "timeZone": "Europe/Berlin", "hours": ALWAYS}}
    new_policy = {
        "input": {
            "name": "X",
            "calendarId": calendar["id"],
            "targets": [{"priority": "NORMAL", "firstResponseMinutes": 1, "resolutionMinutes": 2}],
        }
    }
    for who in (world.alice, world.staff, world.petra, admin_without_insight):
        assert await world.as_(who).error_code(CREATE_CALENDAR, new_calendar) == "FORBIDDEN"
        assert await world.as_(who).error_code(CREATE_POLICY, new_policy) == "FORBIDDEN"
        update = {"input": {"id": calendar["id"], "name": "Y"}}
        assert await world.as_(who).error_code(UPDATE_CALENDAR, update) == "FORBIDDEN"
    assert await BusinessCalendar.all().count() == 1
    assert await ServiceLevelPolicy.all().count() == 0


async def test_customer_users_never_read_policies_or_calendars(world, policy):
    for query in (POLICIES, CALENDARS):
        assert await world.as_(world.alice).error_code(query) == "FORBIDDEN"
    body = await world.as_(world.alice)(
        "query($id: ID!) { node(id: $id) { ... on ServiceLevelPolicy { name } } }", {"id": policy["id"]}
    )
    assert body["data"]["node"] is None
    # Employees read them (the contract: configuration for MANAGE_INSIGHT, reading for employees).
    assert (await world.as_(world.staff).ok(POLICIES))["serviceLevelPolicies"][0]["name"] == "Standard"


async def test_anonymous_is_unauthenticated(world, gql, policy):
    assert await gql.error_code(POLICIES) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timeZone": "Mars/Olympus"}, "timeZone"),
        ({"timeZone": "+02:00"}, "timeZone"),
        ({"hours": [{"weekday": 1, "start": "17:00", "end": "08:00"}]}, "hours.0.end"),
        ({"hours": [{"weekday": 1, "start": "08:00", "end": "08:00"}]}, "hours.0.end"),
        ({"hours": [{"weekday": 0, "start": "08:00", "end": "17:00"}]}, "hours.0.weekday"),
        ({"hours": [{"weekday": 8, "start": "08:00", "end": "17:00"}]}, "hours.0.weekday"),
        ({"hours": [{"weekday": 1, "start": "8:00", "end": "17:00"}]}, "hours.0.start"),
        ({"hours": [{"weekday": 1, "start": "08:00", "end": "24:01"}]}, "hours.0.end"),
        ({"hours": []}, "hours"),
        ({"holidayRegion": "DE-XX"}, "holidayRegion"),
        ({"holidays": ["1999-12-31"]}, "holidays.0"),
        ({"name": " "}, "name"),
    ],
)
async def test_a_bad_calendar_is_refused_naming_the_field_and_nothing_is_stored(world, change, field):
    variables = {"name": "Büro", "timeZone": "Europe/Berlin", "hours": ALWAYS, **change}
    body = await world.as_(world.admin)(CREATE_CALENDAR, {"input": variables})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field} | {
        k: v for k, v in body["errors"][0]["extensions"].items() if k not in ("code", "field")
    }
    assert await BusinessCalendar.all().count() == 0


async def test_a_calendar_keeps_what_was_given_and_24_00(world):
    calendar = await make_calendar(
        world,
        hours=[{"weekday": 1, "start": "13:00", "end": "24:00"}, {"weekday": 1, "start": "08:00", "end": "12:00"}],
        holidays=["2026-12-24", "2026-12-31"],
        holidayRegion="DE-NW",
    )
    assert calendar["hours"] == [
        {"weekday": 1, "start": "08:00", "end": "12:00"},
        {"weekday": 1, "start": "13:00", "end": "24:00"},
    ]
    assert calendar["holidays"] == ["2026-12-24", "2026-12-31"] and calendar["holidayRegion"] == "DE-NW"
    changed = await world.as_(world.admin).ok(UPDATE_CALENDAR, {"input": {"id": calendar["id"], "holidayRegion": None}})
    assert changed["updateBusinessCalendar"]["holidayRegion"] is None
    assert changed["updateBusinessCalendar"]["hours"] == calendar["hours"]
    refused = await world.as_(world.admin)(UPDATE_CALENDAR, {"input": {"id": calendar["id"], "timeZone": "Nowhere"}})
    assert refused["errors"][0]["extensions"]["field"] == "timeZone"
    assert (await BusinessCalendar.get()).time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"warnAtPercent": 0}, "warnAtPercent"),
        ({"warnAtPercent": 100}, "warnAtPercent"),
        (
            {"targets": [{"priority": "NORMAL", "firstResponseMinutes": -5, "resolutionMinutes": 60}]},
            "targets.0.firstResponseMinutes",
        ),
        (
            {"targets": [{"priority": "NORMAL", "firstResponseMinutes": 5, "resolutionMinutes": 0}]},
            "targets.0.resolutionMinutes",
        ),
        (
            {"targets": [{"priority": "NORMAL", "firstResponseMinutes": 5, "resolutionMinutes": 525601}]},
            "targets.0.resolutionMinutes",
        ),
        (
            {"targets": [{"priority": "NORMAL", "firstResponseMinutes": 90, "resolutionMinutes": 60}]},
            "targets.0.firstResponseMinutes",
        ),
        (
            {
                "targets": [
                    {"priority": "HIGH", "firstResponseMinutes": 5, "resolutionMinutes": 60},
                    {"priority": "HIGH", "firstResponseMinutes": 5, "resolutionMinutes": 60},
                ]
            },
            "targets.1.priority",
        ),
        ({"targets": []}, "targets"),
    ],
)
async def test_a_bad_policy_is_refused_naming_the_field_and_nothing_is_stored(world, change, field):
    calendar = await make_calendar(world)
    variables = {
        "name": "Premium",
        "calendarId": calendar["id"],
        "targets": [{"priority": "NORMAL", "firstResponseMinutes": 60, "resolutionMinutes": 240}],
        **change,
    }
    body = await world.as_(world.admin)(CREATE_POLICY, {"input": variables})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == field
    assert await ServiceLevelPolicy.all().count() == 0
    assert await ServiceLevelTerms.all().count() == 0


async def test_unknown_references_are_not_found(world):
    calendar = await make_calendar(world)
    for change, field in (
        ({"calendarId": gid("BusinessCalendar", 999)}, "calendarId"),
        ({"customerId": gid("Customer", 999)}, "customerId"),
        ({"ticketTypeIds": [gid("TicketType", world.defect.id), gid("TicketType", 999)]}, "ticketTypeIds.1"),
    ):
        variables = {
            "name": "P",
            "calendarId": calendar["id"],
            "targets": [{"priority": "NORMAL", "firstResponseMinutes": 1, "resolutionMinutes": 1}],
            **change,
        }
        body = await world.as_(world.admin)(CREATE_POLICY, {"input": variables})
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert body["errors"][0]["extensions"]["field"] == field
    absence = {
        "name": "P",
        "calendarId": calendar["id"],
        "ticketTypeIds": [gid("TicketType", world.vacation.id)],
        "targets": [{"priority": "NORMAL", "firstResponseMinutes": 1, "resolutionMinutes": 1}],
    }
    body = await world.as_(world.admin)(CREATE_POLICY, {"input": absence})
    assert body["errors"][0]["extensions"]["field"] == "ticketTypeIds.0"
    assert await ServiceLevelPolicy.all().count() == 0


async def test_two_equally_specific_policies_are_refused_at_save(world):
    calendar = await make_calendar(world)
    a = gid("Customer", world.a.id)
    defect, damage = gid("TicketType", world.defect.id), gid("TicketType", world.damage.id)
    await make_policy(world, calendar, name="Alle")
    await make_policy(world, calendar, name="Stadtwerke", customerId=a)
    await make_policy(world, calendar, name="Mängel", ticketTypeIds=[defect])
    both = await make_policy(world, calendar, name="Stadtwerke Mängel", customerId=a, ticketTypeIds=[defect])
    for name, fields in (
        ("Alle 2", {}),
        ("Stadtwerke 2", {"customerId": a}),
        ("Mängel und Schäden", {"ticketTypeIds": [damage, defect]}),
        ("Stadtwerke Mängel 2", {"customerId": a, "ticketTypeIds": [defect]}),
    ):
        variables = {
            "name": name,
            "calendarId": calendar["id"],
            "targets": [{"priority": "NORMAL", "firstResponseMinutes": 1, "resolutionMinutes": 1}],
            **fields,
        }
        body = await world.as_(world.admin)(CREATE_POLICY, {"input": variables})
        assert body["errors"][0]["extensions"]["field"] == "ticketTypeIds", name
    assert await ServiceLevelPolicy.all().count() == 4
    # Changing a policy into another's case is refused as well, and leaves it as it was.
    body = await world.as_(world.admin)(UPDATE_POLICY, {"input": {"id": both["id"], "customerId": None}})
    assert body["errors"][0]["extensions"]["field"] == "ticketTypeIds"
    assert (await ServiceLevelPolicy.get(name="Stadtwerke Mängel")).customer_id == world.a.id


async def test_the_most_specific_policy_wins(world):
    calendar = await make_calendar(world)
    a = gid("Customer", world.a.id)
    defect = gid("TicketType", world.defect.id)
    await make_policy(world, calendar, name="Alle")
    await make_policy(world, calendar, name="Mängel", ticketTypeIds=[defect])
    await make_policy(world, calendar, name="Stadtwerke", customerId=a)

    async def name_for(site, kind) -> str | None:
        ticket = await create_ticket(world, world.staff, site=site, kind=kind)
        return ticket["serviceLevel"] and ticket["serviceLevel"]["policyName"]

    assert await name_for(world.a1, world.defect) == "Stadtwerke"  # customer > type
    assert await name_for(world.b1, world.defect) == "Mängel"
    assert await name_for(world.b1, world.damage) == "Alle"
    await make_policy(world, calendar, name="Stadtwerke Mängel", customerId=a, ticketTypeIds=[defect])
    assert await name_for(world.a1, world.defect) == "Stadtwerke Mängel"
    # Absence requests never get a service level, not even from a policy for any type.
    assert await name_for(world.a1, world.vacation) is None


async def test_a_policy_reads_back_and_is_deleted(world, policy):
    policies = (await world.as_(world.admin).ok(POLICIES))["serviceLevelPolicies"]
    assert policies == [policy]
    assert policy["targets"] == [
        {"priority": "NORMAL", "firstResponseMinutes": 60, "resolutionMinutes": 240},
        {"priority": "URGENT", "firstResponseMinutes": 15, "resolutionMinutes": 60},
    ]
    assert policy["customer"] is None and policy["ticketTypes"] == [] and policy["warnAtPercent"] == 50
    assert await world.as_(world.staff).error_code(DELETE_POLICY, {"id": policy["id"]}) == "FORBIDDEN"
    assert (await world.as_(world.admin).ok(DELETE_POLICY, {"id": policy["id"]}))["deleteServiceLevelPolicy"] == policy[
        "id"
    ]
    assert await world.as_(world.admin).error_code(DELETE_POLICY, {"id": policy["id"]}) == "NOT_FOUND"


async def test_a_plain_admin_without_the_permission_holds_it_through_a_group(world, settings):
    insight = await make_employee(settings, name="Insight", admin=True, permissions=[Permission.MANAGE_INSIGHT])
    body = await world.as_(insight)(CREATE_CALENDAR, {"input": {"name": "B", "timeZone": "UTC", "hours": ALWAYS}})
    assert body["data"]["createBusinessCalendar"]["timeZone"] == "UTC"
