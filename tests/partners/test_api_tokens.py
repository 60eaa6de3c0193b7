"""API tokens: created by system administrators, stored hashed, acting exactly as their account,
refused when revoked, expired or their account deactivated — and refused to everyone else to manage."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from core.ids import to_global_id
from models.accounts import Account
from models.api_tokens import ApiToken
from tests.factories import PASSWORD, make_comment, make_employee, make_ticket
from tests.partners.helpers import (
    CREATE_TOKEN,
    REVOKE_TOKEN,
    create_token,
    customer_user_id,
    employee_id,
    post,
)

ME = "{ me { __typename id name } }"
TICKETS = "{ tickets(first: 50) { totalCount edges { node { title } } } }"


def _assert_401(response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}


async def test_the_secret_is_shown_once_and_stored_only_as_a_hash(world, client):
    secret, token = await create_token(world, employee_id(world.staff), name="ERP")
    assert secret.startswith("sdk_") and len(secret) > 40
    assert token["prefix"] == secret[:12]
    assert token["name"] == "ERP" and token["readOnly"] is False and token["revokedAt"] is None
    assert token["account"] == {"__typename": "Employee", "id": employee_id(world.staff), "name": "Jonas Weber"}
    [row] = await ApiToken.all().values()
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(isinstance(value, str) and secret in value for value in row.values())
    # Listing shows the prefix, never the secret.
    listed = await world.as_(world.admin).ok("{ apiTokens { totalCount edges { node { id prefix name } } } }")
    assert listed["apiTokens"]["totalCount"] == 1
    assert secret not in str(listed)


async def test_a_token_acts_exactly_as_its_account(world, client):
    mine = await make_ticket(world.a1, world.defect, "Alices Fenster", by=world.alice)
    await make_ticket(world.a2, world.defect, "Bobs Tor", by=world.bob)
    await make_ticket(world.b1, world.damage, "Kita Dach", by=world.carl)
    await make_comment(mine, world.staff, "nur intern", internal=True)
    secret, _ = await create_token(world, customer_user_id(world.alice))
    as_token = world.gql.as_viewer(secret)
    assert (await as_token.ok(ME))["me"] == {
        "__typename": "CustomerUser",
        "id": customer_user_id(world.alice),
        "name": "Alice",
    }
    tickets = (await as_token.ok(TICKETS))["tickets"]
    assert [e["node"]["title"] for e in tickets["edges"]] == ["Alices Fenster"]
    comments = await as_token.ok(
        "{ tickets { edges { node { commentCount comments { totalCount edges { node { body } } } } } } }"
    )
    assert comments["tickets"]["edges"][0]["node"]["comments"]["totalCount"] == 0
    # The same policies: a customer user's token is refused what the customer user is refused.
    body = await as_token("{ apiTokens { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await as_token(
        "{ tickets { edges { node { comments { edges { node { internal } } } history { kind } } } } }"
    )
    assert body["errors"] and all(e["extensions"]["code"] == "FORBIDDEN" for e in body["errors"])


async def test_a_token_may_write_as_its_account_unless_read_only(world, client):
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice)
    writer, _ = await create_token(world, customer_user_id(world.alice))
    reader, _ = await create_token(world, customer_user_id(world.alice), readOnly=True)
    add = 'mutation($id: ID!) { addComment(input: {ticketId: $id, body: "über die API"}) { body } }'
    variables = {"id": to_global_id("Ticket", ticket.id)}
    assert (await world.gql.as_viewer(writer).ok(add, variables))["addComment"]["body"] == "über die API"
    body = await world.gql.as_viewer(reader)(add, variables)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "READ_ONLY_TOKEN"}
    assert body["errors"][0]["path"] == ["addComment"]
    # Reading still works with it.
    assert (await world.gql.as_viewer(reader).ok(ME))["me"]["name"] == "Alice"


ADMIN_OPERATIONS = {
    "createServiceAccount": ('mutation { createServiceAccount(input: {name: "Bot", isSystemAdmin: true}) { id } }', {}),
    "createApiToken": (CREATE_TOKEN, None),
    "apiTokens": ("{ apiTokens { totalCount edges { node { prefix } } } }", {}),
    "revokeApiToken": (REVOKE_TOKEN, None),
    "auditEvents": ("{ auditEvents { totalCount } }", {}),
}


@pytest.mark.parametrize("operation", sorted(ADMIN_OPERATIONS))
@pytest.mark.parametrize("who", ["alice", "carl", "staff", "hr", "petra"])
async def test_everyone_but_system_administrators_is_refused_token_administration(world, operation, who):
    _, token = await create_token(world, employee_id(world.staff))
    query, variables = ADMIN_OPERATIONS[operation]
    if variables is None:
        variables = (
            {"id": token["id"]}
            if operation == "revokeApiToken"
            else {"input": {"accountId": employee_id(world.admin), "name": "Hintertür"}}
        )
    person = getattr(world, who)
    tokens_before = await ApiToken.all().count()
    accounts_before = await Account.all().count()
    body = await world.as_(person)(query, variables)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert body.get("data") is None
    assert await ApiToken.all().count() == tokens_before
    assert await Account.all().count() == accounts_before
    assert await ApiToken.filter(revoked_at__isnull=False).count() == 0
    # Anonymous: not signed in.
    anonymous = await world.gql(query, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_users_own_token_cannot_mint_more_tokens_or_see_others(world):
    secret, _ = await create_token(world, employee_id(world.staff))
    as_token = world.gql.as_viewer(secret)
    body = await as_token(CREATE_TOKEN, {"input": {"accountId": employee_id(world.admin), "name": "mehr"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    node = await as_token("query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("ApiToken", 1)})
    assert node["data"]["node"] is None


async def test_a_revoked_token_is_refused_with_401(world, client):
    secret, token = await create_token(world, employee_id(world.staff))
    assert (await post(client, ME, secret)).status_code == 200
    revoked = await world.as_(world.admin).ok(REVOKE_TOKEN, {"id": token["id"]})
    assert revoked["revokeApiToken"]["revokedAt"] is not None
    _assert_401(await post(client, ME, secret), "TOKEN_REVOKED")
    # Even for a field open to anyone: the token, not the question, is the problem.
    _assert_401(await post(client, '{ publicFormTemplate(token: "x") { name } }', secret), "TOKEN_REVOKED")
    # Revoking again changes nothing.
    again = await world.as_(world.admin).ok(REVOKE_TOKEN, {"id": token["id"]})
    assert again["revokeApiToken"]["revokedAt"] == revoked["revokeApiToken"]["revokedAt"]


async def test_an_expired_token_is_refused_and_a_past_expiry_cannot_be_set(world, client):
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    secret, token = await create_token(world, employee_id(world.staff), expiresAt=soon)
    assert token["expiresAt"] is not None
    assert (await post(client, ME, secret)).status_code == 200
    await ApiToken.filter(prefix=secret[:12]).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    _assert_401(await post(client, ME, secret), "TOKEN_EXPIRED")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    body = await world.as_(world.admin)(
        CREATE_TOKEN, {"input": {"accountId": employee_id(world.staff), "name": "alt", "expiresAt": past}}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "expiresAt"}


async def test_an_unknown_or_forged_token_is_invalid(world, client):
    secret, _ = await create_token(world, employee_id(world.staff))
    _assert_401(await post(client, ME, secret[:-1] + ("A" if secret[-1] != "A" else "B")), "TOKEN_INVALID")
    _assert_401(await post(client, ME, "sdk_"), "TOKEN_INVALID")


async def test_a_password_change_keeps_tokens_and_deactivation_revokes_them(world, client):
    secret, _ = await create_token(world, employee_id(world.staff))
    await world.as_(world.staff).ok(
        f'mutation {{ changePassword(currentPassword: "{PASSWORD}", newPassword: "ein-neues-passwort") }}'
    )
    assert (await post(client, ME, secret)).status_code == 200
    deactivate = "mutation($id: ID!, $on: Boolean!) { setEmployeeActive(id: $id, active: $on) { isActive } }"
    await world.as_(world.admin).ok(deactivate, {"id": employee_id(world.staff), "on": False})
    _assert_401(await post(client, ME, secret), "TOKEN_REVOKED")
    # Reactivating the account does not bring its tokens back.
    await world.as_(world.admin).ok(deactivate, {"id": employee_id(world.staff), "on": True})
    _assert_401(await post(client, ME, secret), "TOKEN_REVOKED")
    listed = await world.as_(world.admin).ok("{ apiTokens { edges { node { revokedAt } } } }")
    assert listed["apiTokens"]["edges"][0]["node"]["revokedAt"] is not None


async def test_a_token_for_a_deactivated_or_unknown_account_is_refused(world):
    await Account.filter(id=world.bob.account.id).update(is_active=False)
    admin = world.as_(world.admin)
    body = await admin(CREATE_TOKEN, {"input": {"accountId": customer_user_id(world.bob), "name": "x"}})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "accountId"}
    body = await admin(CREATE_TOKEN, {"input": {"accountId": to_global_id("Ticket", 1), "name": "x"}})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "accountId"}
    assert await ApiToken.all().count() == 0


async def test_service_accounts_cannot_sign_in_and_act_through_tokens(world, settings):
    admin = world.as_(world.admin)
    group = await admin.ok(
        'mutation { createPermissionGroup(input: {name: "CAFM", permissions: [MANAGE_ABSENCES]}) { id } }'
    )
    created = await admin.ok(
        'mutation($g: [ID!]!) { createServiceAccount(input: {name: "CAFM-Anbindung", groupIds: $g}) '
        "{ id name email isSystemAdmin groups { name } } }",
        {"g": [group["createPermissionGroup"]["id"]]},
    )
    account = created["createServiceAccount"]
    assert account["name"] == "CAFM-Anbindung" and account["isSystemAdmin"] is False
    assert account["groups"] == [{"name": "CAFM"}]
    row = await Account.get(email=account["email"])
    assert row.is_service_account
    assert account["email"].endswith(".invalid")  # a made-up address, mailed nothing
    assert not (row.notify_comments or row.notify_status_changes or row.notify_assignments or row.notify_new_tickets)
    # No password signs it in — not even the one the timing equaliser hashes.
    for password in ("", "x" * 12, "sitedesk-timing-equaliser", row.password_hash):
        body = await world.gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            {"e": account["email"], "p": password},
        )
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    secret, _ = await create_token(world, account["id"])
    me = await world.gql.as_viewer(secret).ok("{ me { __typename name ... on Employee { groups { name } } } }")
    assert me["me"] == {"__typename": "Employee", "name": "CAFM-Anbindung", "groups": [{"name": "CAFM"}]}
    # Not a system administrator: refused what it is not granted.
    body = await world.gql.as_viewer(secret)("{ apiTokens { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_admins_without_insight_still_manage_tokens(world, settings):
    plain_admin = await make_employee(settings, name="Admin ohne Insight", admin=True, permissions=[])
    data = await world.as_(plain_admin).ok(
        CREATE_TOKEN, {"input": {"accountId": employee_id(world.staff), "name": "ok"}}
    )
    assert data["createApiToken"]["token"].startswith("sdk_")


async def test_api_tokens_page_newest_first(world):
    for n in range(3):
        await create_token(world, employee_id(world.staff), name=f"t{n}")
    admin = world.as_(world.admin)
    first = await admin.ok(
        "{ apiTokens(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }"
    )
    page = first["apiTokens"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in page["edges"]] == ["t2", "t1"]
    rest = await admin.ok(
        "query($a: String) { apiTokens(first: 2, after: $a) { edges { node { name } } } }",
        {"a": page["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["name"] for e in rest["apiTokens"]["edges"]] == ["t0"]


async def test_api_tokens_page_backwards_like_every_connection(world):
    account = to_global_id("Employee", world.staff.pk)
    for name in ("Erstes", "Zweites", "Drittes"):
        await create_token(world, account, name=name)
    admin = world.as_(world.admin)
    query = "query($b: String) { apiTokens(last: 2, before: $b) { pageInfo { startCursor } edges { node { name } } } }"
    newest_first = await admin.ok(query)
    assert [e["node"]["name"] for e in newest_first["apiTokens"]["edges"]] == ["Zweites", "Erstes"]
    rest = await admin.ok(query, {"b": newest_first["apiTokens"]["pageInfo"]["startCursor"]})
    assert [e["node"]["name"] for e in rest["apiTokens"]["edges"]] == ["Drittes"]
    refused = await world.as_(world.alice)(query)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
