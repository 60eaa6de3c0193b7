"""The ticket evaluation from the outside: hand-made tickets imported with timestamps,
exact groups and percentiles back, on whichever database the run uses."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.connection import get_connection

from core.ids import to_global_id
from models.customers import Customer, SiteObject
from models.tickets import Ticket, TicketType
from permissions.policy import Permission
from resolvers.evaluations import Period, evaluation_query, whole_days
from tests.factories import make_employee
from tests.statements import count_statements

DAY = 86400

IMPORT = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount } }"""
SET_EVALUATION = """mutation($c: ID!, $on: Boolean!, $n: Int!) {
  setCustomerTicketEvaluation(customerId: $c, enabled: $on, groupSizeDays: $n) {
    id ticketEvaluationSettings { enabled groupSizeDays } } }"""
FIELDS = "groupSizeDays total averageDays medianDays p90Days buckets { fromDay toDay count }"
OBJECT_EVALUATION = f"""query($id: ID!, $from: Date, $to: Date) {{ node(id: $id) {{ ... on SiteObject {{
  ticketEvaluation(from: $from, to: $to) {{ {FIELDS} }} }} }} }}"""
CUSTOMER_EVALUATION = f"""query($id: ID!, $from: Date, $to: Date) {{ node(id: $id) {{ ... on Customer {{
  ticketEvaluation(from: $from, to: $to) {{ {FIELDS} }} }} }} }}"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# (ref, seconds from creation to done, doneAt) of the tickets that count on object A1.
COUNTED = [
    ("d0a", 0, "2026-03-05T10:00:00+00:00"),
    ("d0b", DAY - 1, "2026-03-05T10:00:00+00:00"),
    ("d1a", DAY, "2026-03-10T10:00:00+00:00"),
    ("d1b", 2 * DAY - 1, "2026-03-10T00:00:00+00:00"),
    ("d2", 2 * DAY + 5 * 3600, "2026-03-15T00:00:00+00:00"),
    ("d3", 3 * DAY, "2026-03-20T23:59:59+00:00"),
    # 2026-03-20 22:30 UTC: within a period ending on the 20th.
    ("d9", 9 * DAY + 7, "2026-03-21T00:30:00+02:00"),
    ("d14", 14 * DAY, "2026-03-21T00:00:00+00:00"),
    ("d31", 31 * DAY + 3600, "2026-04-01T10:00:00+00:00"),
]


@dataclass
class Imported:
    reopened: Ticket  # done long ago, reopened and done again 20 days ago


def ticket_input(
    ref: str,
    site: SiteObject,
    kind: TicketType,
    status: str = "DONE",
    seconds: int = 0,
    done: str = "2026-03-05T10:00:00+00:00",
) -> dict[str, Any]:
    done_at = at(done)
    item = {
        "externalRef": ref,
        "objectId": to_global_id("SiteObject", site.id),
        "ticketTypeId": to_global_id("TicketType", kind.id),
        "title": f"Ticket {ref}",
        "status": status,
        "createdAt": (done_at - timedelta(seconds=seconds)).isoformat(),
    }
    if status == "DONE":
        item["doneAt"] = done_at.isoformat()
    return item


@pytest.fixture
async def imported(world) -> Imported:
    """The tickets of COUNTED on the world's a1 and those that must not count, imported with their
    timestamps; customer A's evaluation switched on with groups of 3 days."""
    a1, defect = world.a1, world.defect
    tickets = [ticket_input(ref, a1, defect, seconds=seconds, done=done) for ref, seconds, done in COUNTED]
    tickets += [
        # Not counted: a type not enabled, an absence request, open work, other objects.
        ticket_input("damage", a1, world.damage, seconds=DAY),
        ticket_input("vacation", a1, world.vacation, seconds=5 * DAY),
        ticket_input("open", a1, defect, status="OPEN"),
        ticket_input("progress", a1, defect, status="IN_PROGRESS"),
        ticket_input("a2", world.a2, defect, seconds=40 * DAY),
        ticket_input("b1", world.b1, defect, seconds=50 * DAY),
        # Done long ago, reopened and done again today: counts with its last doneAt.
        ticket_input(
            "reopened", a1, defect, seconds=1, done=(datetime.now(UTC) - timedelta(days=20, hours=1)).isoformat()
        ),
        # Reopened and still open: not counted.
        ticket_input("reopened-open", a1, defect, seconds=DAY),
    ]
    admin_client = world.as_(world.admin)
    assert (await admin_client.ok(IMPORT, {"t": tickets}))["importTickets"]["importedCount"] == len(tickets)
    status = "mutation($id: ID!, $s: TicketStatus!) { setTicketStatus(id: $id, status: $s) { status } }"
    reopened = await Ticket.get(external_ref="reopened")
    still_open = await Ticket.get(external_ref="reopened-open")
    for ticket, steps in ((reopened, ("OPEN", "DONE")), (still_open, ("OPEN",))):
        for step in steps:
            await admin_client.ok(status, {"id": to_global_id("Ticket", ticket.id), "s": step})
    await admin_client.ok(SET_EVALUATION, {"c": to_global_id("Customer", world.a.id), "on": True, "n": 3})
    return Imported(await Ticket.get(id=reopened.id))


# Days of the counted tickets on A1: the nine imported ones and the reopened one (20).
ALL_DAYS = [0, 0, 1, 1, 2, 3, 9, 14, 31, 20]

EXPECTED_A1 = {
    "groupSizeDays": 3,
    "total": 10,
    "averageDays": pytest.approx(81 / 10),
    # Sorted: 0 0 1 1 2 | 3 9 14 20 31. Rank ceil(0.5 · 10) = 5 → 2; rank ceil(0.9 · 10) = 9 → 20.
    "medianDays": 2,
    "p90Days": 20,
    "buckets": [
        {"fromDay": 0, "toDay": 2, "count": 5},
        {"fromDay": 3, "toDay": 5, "count": 1},
        {"fromDay": 6, "toDay": 8, "count": 0},
        {"fromDay": 9, "toDay": 11, "count": 1},
        {"fromDay": 12, "toDay": 14, "count": 1},
        {"fromDay": 15, "toDay": 17, "count": 0},
        {"fromDay": 18, "toDay": 20, "count": 1},
        {"fromDay": 21, "toDay": 23, "count": 0},
        {"fromDay": 24, "toDay": 26, "count": 0},
        {"fromDay": 27, "toDay": 29, "count": 0},
        {"fromDay": 30, "toDay": 32, "count": 1},
    ],
}


async def evaluation_of(client, site, **period) -> Any:
    data = await client.ok(OBJECT_EVALUATION, {"id": to_global_id("SiteObject", site.id), **period})
    return data["node"] and data["node"]["ticketEvaluation"]


async def test_exact_groups_average_median_and_p90(world, imported):
    assert sorted(ALL_DAYS) == [0, 0, 1, 1, 2, 3, 9, 14, 20, 31]
    assert imported.reopened.resolution_days == 20
    assert await evaluation_of(world.as_(world.alice), world.a1) == EXPECTED_A1
    assert await evaluation_of(world.as_(world.staff), world.a1) == EXPECTED_A1


async def test_resolution_days_stored_with_done_at(world, imported):
    for ticket in await Ticket.filter(object_id=world.a1.id):
        if ticket.done_at is None:
            assert ticket.resolution_days is None, ticket.external_ref
        else:
            assert ticket.resolution_days == whole_days(ticket.created_at, ticket.done_at), ticket.external_ref
    assert (await Ticket.get(external_ref="reopened-open")).resolution_days is None


async def test_period_counts_utc_days_both_ends_inclusive(world, imported):
    result = await evaluation_of(world.as_(world.alice), world.a1, **{"from": "2026-03-10", "to": "2026-03-20"})
    # d1a d1b d2 d3 d9 (done 2026-03-20 22:30 UTC); d14 is done on the 21st.
    assert result == {
        "groupSizeDays": 3,
        "total": 5,
        "averageDays": pytest.approx(16 / 5),
        "medianDays": 2,
        "p90Days": 9,
        "buckets": [
            {"fromDay": 0, "toDay": 2, "count": 3},
            {"fromDay": 3, "toDay": 5, "count": 1},
            {"fromDay": 6, "toDay": 8, "count": 0},
            {"fromDay": 9, "toDay": 11, "count": 1},
        ],
    }
    only_from = await evaluation_of(world.as_(world.staff), world.a1, **{"from": "2026-03-21"})
    assert only_from["total"] == 3  # d14, d31 and the reopened one
    assert (only_from["medianDays"], only_from["p90Days"]) == (20, 31)
    only_to = await evaluation_of(world.as_(world.staff), world.a1, to="2026-03-05")
    assert only_to["total"] == 2 and only_to["buckets"] == [{"fromDay": 0, "toDay": 2, "count": 2}]
    assert only_to["averageDays"] == 0 and only_to["medianDays"] == 0 and only_to["p90Days"] == 0


async def test_empty_evaluation_has_no_groups(world, imported):
    result = await evaluation_of(world.as_(world.alice), world.a1, **{"from": "2027-01-01"})
    assert result == {
        "groupSizeDays": 3,
        "total": 0,
        "averageDays": None,
        "medianDays": None,
        "p90Days": None,
        "buckets": [],
    }


async def test_from_after_to_is_bad_input(world, imported):
    body = await world.as_(world.alice)(
        OBJECT_EVALUATION, {"id": to_global_id("SiteObject", world.a1.id), "from": "2026-03-21", "to": "2026-03-20"}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "to"}


async def test_switched_off_customer_users_get_null_employees_still_see_it(world, imported):
    admin = world.as_(world.admin)
    data = await admin.ok(SET_EVALUATION, {"c": to_global_id("Customer", world.a.id), "on": False, "n": 7})
    assert data["setCustomerTicketEvaluation"]["ticketEvaluationSettings"] == {"enabled": False, "groupSizeDays": 7}
    alice = world.as_(world.alice)
    data = await alice.ok(OBJECT_EVALUATION, {"id": to_global_id("SiteObject", world.a1.id)})
    assert data["node"] == {"ticketEvaluation": None}
    staff = await evaluation_of(world.as_(world.staff), world.a1)
    assert staff["groupSizeDays"] == 7 and staff["total"] == 10
    assert [b["count"] for b in staff["buckets"]] == [6, 1, 2, 0, 1]


async def test_customer_user_of_another_customer_gets_nothing(world, imported):
    carl = world.as_(world.carl)
    assert await evaluation_of(carl, world.a1) is None
    listed = await carl.ok("{ objects { edges { node { name ticketEvaluation { total } } } } }")
    # Customer B has the evaluation off: Carl sees his object, without an evaluation, and nothing of A.
    assert listed["objects"]["edges"] == [{"node": {"name": "Kita Nord", "ticketEvaluation": None}}]
    body = await carl(CUSTOMER_EVALUATION, {"id": to_global_id("Customer", world.a.id)})
    assert body["data"]["node"] is None
    body = await carl("{ objects { edges { node { customer { ticketEvaluation { total } } } } } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_customer_user_sees_only_assigned_objects_evaluation(world, imported):
    alice = world.as_(world.alice)
    assert await evaluation_of(alice, world.a2) is None
    staff = await evaluation_of(world.as_(world.staff), world.a2)
    assert staff["total"] == 1 and staff["medianDays"] == 40


async def test_employees_evaluate_a_whole_customer_and_other_customers(world, imported):
    staff = world.as_(world.staff)
    data = await staff.ok(CUSTOMER_EVALUATION, {"id": to_global_id("Customer", world.a.id)})
    result = data["node"]["ticketEvaluation"]
    days = sorted(ALL_DAYS + [40])
    assert result["total"] == 11
    assert result["averageDays"] == pytest.approx(sum(days) / 11)
    assert result["medianDays"] == days[5]  # rank ceil(5.5) = 6
    assert result["p90Days"] == days[9]  # rank ceil(9.9) = 10
    assert result["buckets"][-1] == {"fromDay": 39, "toDay": 41, "count": 1}
    # Customer B is switched off; employees see it anyway, with its default group size.
    other = await staff.ok(CUSTOMER_EVALUATION, {"id": to_global_id("Customer", world.b.id)})
    assert other["node"]["ticketEvaluation"]["total"] == 1
    assert other["node"]["ticketEvaluation"]["groupSizeDays"] == 7
    assert (await evaluation_of(staff, world.b1))["medianDays"] == 50


@pytest.mark.parametrize("size", [0, -1, 366, 400])
async def test_group_size_outside_1_to_365_is_bad_input(world, imported, size):
    admin = world.as_(world.admin)
    body = await admin(SET_EVALUATION, {"c": to_global_id("Customer", world.a.id), "on": True, "n": size})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "groupSizeDays"}
    stored = await Customer.get(id=world.a.id)
    assert (stored.ticket_evaluation_enabled, stored.ticket_evaluation_group_size_days) == (True, 3)


@pytest.mark.parametrize("size", [1, 365])
async def test_group_size_limits_are_accepted(world, imported, size):
    admin = world.as_(world.admin)
    await admin.ok(SET_EVALUATION, {"c": to_global_id("Customer", world.a.id), "on": True, "n": size})
    result = await evaluation_of(world.as_(world.alice), world.a1)
    assert result["groupSizeDays"] == size
    assert sum(b["count"] for b in result["buckets"]) == 10
    assert len(result["buckets"]) == (32 if size == 1 else 1)


async def test_only_portal_admins_configure_the_evaluation(world, imported, settings):
    variables = {"c": to_global_id("Customer", world.a.id), "on": False, "n": 5}
    admin_without_insight = await make_employee(settings, admin=True)
    insight_without_admin = await make_employee(settings, permissions=(Permission.MANAGE_INSIGHT,))
    for person in (world.alice, world.staff, admin_without_insight, insight_without_admin):
        assert await world.as_(person).error_code(SET_EVALUATION, variables) == "FORBIDDEN"
    assert (await Customer.get(id=world.a.id)).ticket_evaluation_enabled is True


async def test_unknown_customer_is_not_found(world, imported):
    body = await world.as_(world.admin)(SET_EVALUATION, {"c": to_global_id("Customer", 999999), "on": True, "n": 3})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "customerId"}


async def test_one_query_evaluates_a_page_of_objects(world, imported):
    page = "{ objects(first: %d) { edges { node { name ticketEvaluation { total medianDays } } } } }"
    staff = world.as_(world.staff)
    one, _ = await count_statements(staff, page % 1)
    three, data = await count_statements(staff, page % 3)
    assert len(data["objects"]["edges"]) == 3
    assert {e["node"]["name"]: e["node"]["ticketEvaluation"]["total"] for e in data["objects"]["edges"]} == {
        "Rathaus": 10,
        "Bauhof": 1,
        "Kita Nord": 1,
    }
    assert one == three


async def test_stored_days_of_older_tickets_are_backfilled_by_the_migration(world, imported):
    migration = importlib.import_module("models.migrations.0003_documents_and_evaluation")
    connection = get_connection("default")
    await Ticket.all().update(resolution_days=None)
    await connection.execute_script(migration.BACKFILL_RESOLUTION_DAYS[connection.capabilities.dialect])
    for ticket in await Ticket.all():
        expected = whole_days(ticket.created_at, ticket.done_at) if ticket.done_at else None
        assert ticket.resolution_days == expected, ticket.external_ref


def test_whole_days_floor_seconds():
    start = at("2026-03-01T12:00:00.500000+00:00")
    assert whole_days(start, start) == 0
    assert whole_days(start, start + timedelta(seconds=DAY - 0.000001)) == 0
    assert whole_days(start, start + timedelta(seconds=DAY)) == 1
    assert whole_days(at("2026-03-01T00:30:00+02:00"), at("2026-03-01T22:30:00+00:00")) == 1


def test_postgres_query_numbers_its_placeholders():
    period = Period(at("2026-01-01T00:00:00").date(), at("2026-01-31T00:00:00").date())
    sql, params = evaluation_query("postgres", "object", [4, 7], period)
    assert "?" not in sql and "$4" in sql and "$5" not in sql
    assert params[:2] == [4, 7]
    assert params[2:] == [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)]


async def test_demo_company_shows_documents_and_an_evaluation(gql, settings):
    from server.demo import seed_demo

    logins = await seed_demo(settings)
    for ticket in await Ticket.all():
        expected = whole_days(ticket.created_at, ticket.done_at) if ticket.done_at else None
        assert ticket.resolution_days == expected
    email, password, _ = next(login for login in logins if login[2].startswith("customer user"))
    login = await gql(
        """mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }""",
        {"e": email, "p": password},
    )
    user = gql.as_viewer(login["data"]["login"]["accessToken"])
    data = await user.ok(
        "{ objects { edges { node { documents { ticketType { name } } "
        "ticketEvaluation { groupSizeDays total buckets { count } } } } } }"
    )
    nodes = [e["node"] for e in data["objects"]["edges"]]
    assert nodes and all(n["ticketEvaluation"]["groupSizeDays"] == 1 for n in nodes)
    assert sum(n["ticketEvaluation"]["total"] for n in nodes) > 0
    assert all(
        sum(b["count"] for b in n["ticketEvaluation"]["buckets"]) == n["ticketEvaluation"]["total"] for n in nodes
    )
    assert {d["ticketType"]["name"] for n in nodes for d in n["documents"]} <= {"Leistungsnachweis"}
