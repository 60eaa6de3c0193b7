"""The audit trail: every administrative change leaves one event (actor, subject, time, address);
refused or failed changes leave none; only system administrators read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.ids import to_global_id
from models.audit import AuditAction, AuditEvent
from permissions.viewer import Viewer
from resolvers.audit import record_audit
from tests.factories import make_employee
from tests.partners.helpers import REVOKE_TOKEN, create_token, customer_user_id, employee_id

EVENTS = """query($filter: AuditEventFilterInput, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id action actor { __typename id name } actorName subjectType subjectId summary address createdAt } }
  } }"""


async def _events(world, **filter) -> list[dict]:
    data = await world.as_(world.admin).ok(EVENTS, {"filter": filter or None, "first": 100})
    return [e["node"] for e in data["auditEvents"]["edges"]]


async def test_account_group_and_token_changes_are_recorded(world):
    admin = world.as_(world.admin)
    group = await admin.ok('mutation { createPermissionGroup(input: {name: "Leitung", permissions: []}) { id } }')
    employee = await admin.ok(
        'mutation { createEmployee(input: {email: "neu@example.test", name: "Neu", password: "lang-genug-1"}) { id } }'
    )
    user = await admin.ok(
        'mutation($c: ID!) { createCustomerUser(input: {customerId: $c, email: "k@example.test", name: "Kundin", '
        'password: "lang-genug-1"}) { id } }',
        {"c": to_global_id("Customer", world.a.id)},
    )
    user_id = user["createCustomerUser"]["id"]
    await admin.ok(
        "mutation($u: ID!, $o: [ID!]!) { setCustomerUserObjects(customerUserId: $u, objectIds: $o) { id } }",
        {"u": user_id, "o": [to_global_id("SiteObject", world.a1.id)]},
    )
    employee_gid = employee["createEmployee"]["id"]
    await admin.ok("mutation($id: ID!) { setEmployeeActive(id: $id, active: false) { id } }", {"id": employee_gid})
    service = await admin.ok('mutation { createServiceAccount(input: {name: "ERP"}) { id } }')
    _, token = await create_token(world, service["createServiceAccount"]["id"], name="ERP-Token")
    await admin.ok(REVOKE_TOKEN, {"id": token["id"]})

    events = await _events(world)
    assert [(e["action"], e["subjectType"], e["subjectId"]) for e in reversed(events)] == [
        ("PERMISSION_GROUP_CHANGED", "PermissionGroup", group["createPermissionGroup"]["id"]),
        ("ACCOUNT_CREATED", "Employee", employee_gid),
        ("ACCOUNT_CREATED", "CustomerUser", user_id),
        ("ACCOUNT_UPDATED", "CustomerUser", user_id),
        ("ACCOUNT_DEACTIVATED", "Employee", employee_gid),
        ("ACCOUNT_CREATED", "Employee", service["createServiceAccount"]["id"]),
        ("API_TOKEN_CREATED", "ApiToken", token["id"]),
        ("API_TOKEN_REVOKED", "ApiToken", token["id"]),
    ]
    for event in events:
        assert event["actor"] == {"__typename": "Employee", "id": employee_id(world.admin), "name": "Admin"}
        assert event["actorName"] == "Admin"
        assert event["address"] == "127.0.0.1"
        assert datetime.fromisoformat(event["createdAt"]) > datetime.now(UTC) - timedelta(minutes=1)
    # Summaries name the subject, never a secret.
    created = next(e for e in events if e["action"] == "API_TOKEN_CREATED")
    assert "ERP-Token" in created["summary"] and token["prefix"] in created["summary"]


async def test_refused_and_failed_changes_record_nothing(world):
    body = await world.as_(world.staff)('mutation { createServiceAccount(input: {name: "x"}) { id } }')
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await world.as_(world.admin)(
        'mutation { createEmployee(input: {email: "kaputt", name: "X", password: "lang-genug-1"}) { id } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await world.as_(world.admin)(
        'mutation($id: ID!) { createApiToken(input: {accountId: $id, name: ""}) { token } }',
        {"id": employee_id(world.staff)},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await AuditEvent.all().count() == 0


async def test_the_filter_narrows_by_action_actor_and_time(world, settings):
    other_admin = await make_employee(settings, name="Zweite Admin", admin=True)
    await create_token(world, employee_id(world.staff), name="von Admin")
    data = await world.as_(other_admin).ok(
        'mutation($id: ID!) { createApiToken(input: {accountId: $id, name: "von Zweite"}) { apiToken { id } } }',
        {"id": employee_id(world.staff)},
    )
    await world.as_(world.admin).ok(REVOKE_TOKEN, {"id": data["createApiToken"]["apiToken"]["id"]})

    assert [e["action"] for e in await _events(world, action="API_TOKEN_CREATED")] == ["API_TOKEN_CREATED"] * 2
    mine = await _events(world, actorId=employee_id(other_admin))
    assert [(e["action"], e["actorName"]) for e in mine] == [("API_TOKEN_CREATED", "Zweite Admin")]
    assert await _events(world, actorId=customer_user_id(world.alice)) == []
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert await _events(world, since=future) == []
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert len(await _events(world, since=past)) == 3
    combined = await _events(world, action="API_TOKEN_REVOKED", actorId=employee_id(world.admin), since=past)
    assert len(combined) == 1


async def test_audit_events_page_newest_first(world):
    for n in range(3):
        await record_audit(None, AuditAction.WEBHOOK_CREATED, "Webhook", n + 1, f"hook {n}", None)
    admin = world.as_(world.admin)
    first = (await admin.ok(EVENTS, {"first": 2}))["auditEvents"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    assert [e["node"]["summary"] for e in first["edges"]] == ["hook 2", "hook 1"]
    rest = (await admin.ok(EVENTS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["auditEvents"]
    assert [e["node"]["summary"] for e in rest["edges"]] == ["hook 0"]
    # The system itself as actor: no actor object, an empty name.
    assert rest["edges"][0]["node"]["actor"] is None and rest["edges"][0]["node"]["actorName"] == ""


async def test_record_audit_is_callable_by_other_domains(world):
    actor = Viewer(account_id=world.admin.account.id, name="Admin")
    event = await record_audit(actor, AuditAction.WEBHOOK_DELETED, "Webhook", 7, "x" * 900, "10.0.0.1")
    stored = await AuditEvent.get(id=event.id)
    assert stored.action is AuditAction.WEBHOOK_DELETED and len(stored.summary) == 500
    [node] = await _events(world, action="WEBHOOK_DELETED")
    assert node["subjectId"] == to_global_id("Webhook", 7) and node["address"] == "10.0.0.1"


@pytest.mark.parametrize("who", ["alice", "carl", "staff", "hr", "petra"])
async def test_only_system_administrators_read_the_trail(world, who):
    await create_token(world, employee_id(world.staff))
    body = await world.as_(getattr(world, who))(EVENTS, {})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None
    [event] = await AuditEvent.all()
    node = await world.as_(getattr(world, who))(
        "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("AuditEvent", event.id)}
    )
    assert node["data"]["node"] is None


async def test_an_actor_id_that_names_no_person_is_not_found(world):
    body = await world.as_(world.admin)(EVENTS, {"filter": {"actorId": to_global_id("SiteObject", world.a1.id)}})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["field"] == "filter.actorId"
