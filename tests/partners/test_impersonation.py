"""Read-only impersonation: a system administrator with MANAGE_INSIGHT sees the portal exactly as
one customer user sees it — never more (no other customer's tickets, no internal comment) — and
can change nothing."""

from __future__ import annotations

from datetime import datetime

import jwt
import pytest

from core.ids import to_global_id
from models.accounts import Account
from models.tickets import Comment
from permissions.policy import Permission
from tests.factories import make_comment, make_employee, make_ticket
from tests.partners.helpers import IMPERSONATE, customer_user_id, employee_id, impersonation_token, post

PORTAL = """{ me { __typename id name }
  objects { totalCount edges { node { name } } }
  tickets(first: 50) { totalCount edges { node { id title
    comments { totalCount edges { node { body author { name } } } } } } } }"""


@pytest.fixture
async def tickets(world):
    """Alice's ticket with a public and an internal comment; Bob's and Carl's tickets; an absence request."""
    alices = await make_ticket(world.a1, world.defect, "Alices Fenster", by=world.alice)
    await make_comment(alices, world.staff, "Wir kommen Montag.")
    await make_comment(alices, world.staff, "INTERN: Kunde zahlt schlecht", internal=True)
    await make_ticket(world.a2, world.defect, "Bobs Tor", by=world.bob)
    await make_ticket(world.b1, world.damage, "Kita Dach", by=world.carl)
    await make_ticket(world.a1, world.vacation, "Urlaub Jonas", by=world.staff)
    return alices


async def test_an_impersonation_reads_exactly_as_the_customer_user(world, tickets):
    token = await impersonation_token(world, world.alice)
    seen = await world.gql.as_viewer(token).ok(PORTAL)
    as_herself = await world.as_(world.alice).ok(PORTAL)
    assert seen == as_herself
    assert seen["me"] == {"__typename": "CustomerUser", "id": customer_user_id(world.alice), "name": "Alice"}
    assert [e["node"]["title"] for e in seen["tickets"]["edges"]] == ["Alices Fenster"]
    [ticket] = seen["tickets"]["edges"]
    assert [c["node"]["body"] for c in ticket["node"]["comments"]["edges"]] == ["Wir kommen Montag."]
    assert "INTERN" not in str(seen)


async def test_an_impersonation_is_refused_what_the_customer_user_is_refused(world, tickets):
    as_alice = world.gql.as_viewer(await impersonation_token(world, world.alice))
    body = await as_alice("{ tickets { edges { node { comments { edges { node { body internal } } } } } } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    for query in ("{ apiTokens { totalCount } }", "{ auditEvents { totalCount } }", "{ customers { totalCount } }"):
        body = await as_alice(query)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", query
    # Other customers' tickets are not found, not merely hidden in lists.
    bobs = await as_alice("query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Ticket", tickets.id + 1)})
    assert bobs["data"]["node"] is None


async def test_an_impersonation_cannot_write(world, tickets):
    as_alice = world.gql.as_viewer(await impersonation_token(world, world.alice))
    before = await Comment.all().count()
    body = await as_alice(
        'mutation($id: ID!) { addComment(input: {ticketId: $id, body: "im Namen von Alice"}) { id } }',
        {"id": to_global_id("Ticket", tickets.id)},
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "IMPERSONATION_READ_ONLY"}
    assert await Comment.all().count() == before
    # Not even a new session of its own: signing in is a mutation too.
    body = await as_alice(
        'mutation { login(email: "x@example.test", password: "whatever-it-is") { accessToken refreshToken } }'
    )
    assert body["errors"][0]["extensions"]["reason"] == "IMPERSONATION_READ_ONLY"


async def test_the_token_names_actor_and_subject_is_short_lived_and_has_no_refresh_token(world, settings):
    data = await world.as_(world.admin).ok(IMPERSONATE, {"id": customer_user_id(world.alice)})
    payload = data["impersonate"]
    assert payload["customerUser"] == {"id": customer_user_id(world.alice), "name": "Alice"}
    claims = jwt.decode(payload["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == str(world.alice.account.id)
    assert claims["act"]["sub"] == str(world.admin.account.id)
    assert claims["typ"] == "impersonation"
    assert claims["exp"] - claims["iat"] == settings.impersonation_minutes * 60
    assert datetime.fromisoformat(payload["expiresAt"]).timestamp() == claims["exp"]
    body = await world.as_(world.admin)(
        "mutation($id: ID!) { impersonate(customerUserId: $id) { refreshToken } }",
        {"id": customer_user_id(world.alice)},
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("who", ["alice", "carl", "staff", "hr", "petra", "admin_without_insight"])
async def test_only_system_administrators_with_insight_may_impersonate(world, settings, who):
    if who == "admin_without_insight":
        person = await make_employee(settings, admin=True, permissions=[Permission.MANAGE_CHECK_TEMPLATES])
    else:
        person = getattr(world, who)
    body = await world.as_(person)(IMPERSONATE, {"id": customer_user_id(world.bob)})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None
    # Nothing was recorded as started.
    events = await world.as_(world.admin).ok("{ auditEvents(filter: {action: IMPERSONATION_STARTED}) { totalCount } }")
    assert events["auditEvents"]["totalCount"] == 0


async def test_only_customer_users_are_impersonated(world):
    body = await world.as_(world.admin)(IMPERSONATE, {"id": employee_id(world.staff)})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "customerUserId"}


async def test_an_impersonation_ends_with_the_administrators_right_to_it(world, client):
    token = await impersonation_token(world, world.alice)
    assert (await post(client, "{ me { name } }", token)).status_code == 200
    await Account.filter(id=world.admin.account.id).update(is_active=False)
    response = await post(client, "{ me { name } }", token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "TOKEN_REVOKED"}


async def test_an_impersonation_ends_when_the_customer_users_sessions_do(world, client):
    token = await impersonation_token(world, world.alice)
    await Account.filter(id=world.alice.account.id).update(token_version=world.alice.account.token_version + 1)
    response = await post(client, "{ me { name } }", token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "TOKEN_REVOKED"


async def test_an_impersonation_is_audited_with_actor_subject_and_address(world):
    await impersonation_token(world, world.alice)
    events = await world.as_(world.admin).ok(
        "{ auditEvents { edges { node { action actor { id name } subjectType subjectId summary address "
        "createdAt } } } }"
    )
    [event] = [e["node"] for e in events["auditEvents"]["edges"] if e["node"]["action"] == "IMPERSONATION_STARTED"]
    assert event["actor"] == {"id": employee_id(world.admin), "name": "Admin"}
    assert (event["subjectType"], event["subjectId"]) == ("CustomerUser", customer_user_id(world.alice))
    assert event["address"] == "127.0.0.1"
    assert "Alice" in event["summary"]
