"""A token that is sent but does not verify is refused whatever is asked (RFC 6750 `invalid_token`).

Before, `me` and every field open to anyone answered as if anonymous, so a web
app with an expired token showed its login page instead of refreshing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.accounts import Account
from permissions.tokens import issue_access_token
from tests.factories import PASSWORD, make_employee

OPEN_TO_ANYONE = ["{ me { name } }", '{ publicFormTemplate(token: "nope") { name } }']


async def _post(client, query: str, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await client.post("/graphql", json={"query": query}, headers=headers)


def _assert_refused(response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}


@pytest.mark.parametrize("query", OPEN_TO_ANYONE)
@pytest.mark.parametrize("authorization", ["Bearer not.a.jwt", "Bearer ", "Basic dXNlcjpwdw==", "garbage"])
async def test_an_invalid_token_is_refused_even_for_fields_open_to_anyone(client, query, authorization):
    _assert_refused(await _post(client, query, authorization), "TOKEN_INVALID")


@pytest.mark.parametrize("query", OPEN_TO_ANYONE)
async def test_an_expired_token_says_a_refresh_will_help(client, settings, query):
    person = await make_employee(settings)
    expired = issue_access_token(
        settings, person.account.id, person.account.kind, 1, now=datetime.now(UTC) - timedelta(hours=1)
    )
    _assert_refused(await _post(client, query, f"Bearer {expired}"), "TOKEN_EXPIRED")


async def test_a_token_of_an_ended_session_is_revoked(client, gql, settings):
    person = await make_employee(settings)
    assert (await _post(client, "{ me { name } }", f"Bearer {person.token}")).status_code == 200
    await gql.as_viewer(person.token).ok(
        f'mutation {{ changePassword(currentPassword: "{PASSWORD}", newPassword: "a-brand-new-secret") }}'
    )
    _assert_refused(await _post(client, "{ me { name } }", f"Bearer {person.token}"), "TOKEN_REVOKED")


async def test_a_deactivated_accounts_token_is_revoked(client, settings):
    person = await make_employee(settings)
    await Account.filter(id=person.account.id).update(is_active=False)
    _assert_refused(
        await _post(client, '{ publicFormTemplate(token: "x") { name } }', f"Bearer {person.token}"), "TOKEN_REVOKED"
    )


async def test_no_header_stays_anonymous(client):
    response = await _post(client, "{ me { name } }", None)
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None} and "errors" not in response.json()


async def test_a_mutation_with_a_bad_token_changes_nothing(client, settings):
    person = await make_employee(settings)
    response = await client.post(
        "/graphql",
        json={"query": f'mutation {{ login(email: "{person.email}", password: "{PASSWORD}") {{ accessToken }} }}'},
        headers={"Authorization": "Bearer forged.token.value"},
    )
    _assert_refused(response, "TOKEN_INVALID")
