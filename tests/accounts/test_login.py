"""Login, refresh tokens and what makes a token invalid."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from core.keys import key_id
from models.accounts import RefreshToken
from models.customers import Customer
from permissions.tokens import AUDIENCE, ISSUER, issue_access_token
from tests.conftest import LOGIN
from tests.factories import PASSWORD, make_customer_user, make_employee

ME = "{ me { name email } }"
NEEDS_SIGN_IN = "{ ticketTypes { name } }"


async def test_login_returns_tokens_that_work(gql, settings):
    person = await make_employee(settings, name="Petra Schulz")
    data = await gql.ok(LOGIN, {"email": person.email.upper(), "password": PASSWORD})
    session = data["login"]
    assert session["viewer"]["name"] == "Petra Schulz"
    assert session["expiresIn"] == 15 * 60
    me = await gql.as_viewer(session["accessToken"]).ok(ME)
    assert me["me"] == {"name": "Petra Schulz", "email": person.email}


async def test_wrong_password_and_unknown_email_fail_alike(gql, settings):
    person = await make_employee(settings)
    wrong = await gql(LOGIN, {"email": person.email, "password": "not-the-password"})
    unknown = await gql(LOGIN, {"email": "nobody@example.test", "password": "not-the-password"})
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert wrong["errors"][0]["extensions"] == unknown["errors"][0]["extensions"]
    assert wrong["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unknown_email_still_computes_a_hash(gql, settings, monkeypatch):
    import permissions.passwords as passwords

    calls = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, hashed, password):
            calls.append(hashed)
            return real.verify(hashed, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    await gql(LOGIN, {"email": "nobody@example.test", "password": "whatever-it-is"})
    assert calls == [passwords._DUMMY_HASH]


async def test_deactivated_account_cannot_log_in_and_its_tokens_die(gql, settings):
    admin = await make_employee(settings, admin=True)
    person = await make_employee(settings)
    assert (await gql.as_viewer(person.token).ok(ME))["me"] is not None
    await gql.as_viewer(admin.token).ok(
        "mutation($id: ID!) { setEmployeeActive(id: $id, active: false) { name } }",
        {"id": (await gql.as_viewer(person.token).ok("{ me { ... on Employee { id } } }"))["me"]["id"]},
    )
    assert await gql.error_code(LOGIN, {"email": person.email, "password": PASSWORD}) == "UNAUTHENTICATED"
    assert await gql.as_viewer(person.token).error_code(NEEDS_SIGN_IN) == "UNAUTHENTICATED"


async def test_password_change_kills_existing_tokens(gql, settings):
    person = await make_employee(settings)
    session = (await gql.ok(LOGIN, {"email": person.email, "password": PASSWORD}))["login"]
    viewer = gql.as_viewer(session["accessToken"])
    await viewer.ok(
        'mutation { changePassword(currentPassword: "correct-horse-battery", newPassword: "a-brand-new-secret") }'
    )
    assert await viewer.error_code(NEEDS_SIGN_IN) == "UNAUTHENTICATED"
    refresh = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"
    assert await gql.error_code(refresh, {"t": session["refreshToken"]}) == "UNAUTHENTICATED"
    assert (await gql.ok(LOGIN, {"email": person.email, "password": "a-brand-new-secret"}))["login"]


async def test_change_password_refuses_wrong_current_password(gql, settings):
    person = await make_employee(settings)
    body = await gql.as_viewer(person.token)(
        'mutation { changePassword(currentPassword: "wrong-password", newPassword: "a-brand-new-secret") }'
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "currentPassword"}
    assert (await gql.as_viewer(person.token).ok(ME))["me"]


REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"


async def test_refresh_rotates_and_reuse_revokes_the_family(gql, settings):
    person = await make_employee(settings)
    first = (await gql.ok(LOGIN, {"email": person.email, "password": PASSWORD}))["login"]
    second = (await gql.ok(REFRESH, {"t": first["refreshToken"]}))["refreshToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await gql.as_viewer(second["accessToken"]).ok(ME))["me"]
    # The first token again: someone copied it. The whole family dies.
    assert await gql.error_code(REFRESH, {"t": first["refreshToken"]}) == "UNAUTHENTICATED"
    assert await gql.error_code(REFRESH, {"t": second["refreshToken"]}) == "UNAUTHENTICATED"
    assert await RefreshToken.filter(revoked_at=None).count() == 0
    # Tokens are stored hashed only.
    assert not await RefreshToken.filter(token_hash=second["refreshToken"]).exists()


async def test_expired_refresh_token_is_refused(gql, settings):
    person = await make_employee(settings)
    first = (await gql.ok(LOGIN, {"email": person.email, "password": PASSWORD}))["login"]
    await RefreshToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await gql.error_code(REFRESH, {"t": first["refreshToken"]}) == "UNAUTHENTICATED"


async def test_logout_ends_the_session(gql, settings):
    person = await make_employee(settings)
    first = (await gql.ok(LOGIN, {"email": person.email, "password": PASSWORD}))["login"]
    await gql.ok("mutation($t: String!) { logout(refreshToken: $t) }", {"t": first["refreshToken"]})
    assert await gql.error_code(REFRESH, {"t": first["refreshToken"]}) == "UNAUTHENTICATED"


async def test_customer_user_logs_in_and_sees_own_email_only(gql, settings):
    customer = await Customer.create(name="Stadtwerke")
    user = await make_customer_user(settings, customer.id, name="Kurt Kunde")
    session = (await gql.ok(LOGIN, {"email": user.email, "password": PASSWORD}))["login"]
    me = await gql.as_viewer(session["accessToken"]).ok(ME)
    assert me["me"] == {"name": "Kurt Kunde", "email": user.email}


def _claims(account_id: int, **changes):
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(account_id),
        "kind": "employee",
        "ver": 1,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "expired",
        "alg_none",
        "wrong_audience",
        "wrong_issuer",
        "wrong_type",
        "missing_exp",
        "refresh_token_as_bearer",
        "garbage",
        "unknown_kid",
        "wrong_kind",
    ],
)
async def test_bad_tokens_are_unauthenticated(gql, settings, case):
    person = await make_employee(settings)
    key = settings.secret_key
    kid = key_id(key)
    account_id = person.account.id
    if case == "forged":
        token = jwt.encode(
            _claims(account_id), "another-key-of-enough-length-000000", algorithm="HS256", headers={"kid": kid}
        )
    elif case == "expired":
        token = issue_access_token(
            settings, account_id, person.account.kind, 1, now=datetime.now(UTC) - timedelta(hours=1)
        )
    elif case == "alg_none":
        token = jwt.encode(_claims(account_id), None, algorithm="none", headers={"kid": kid})
    elif case == "wrong_audience":
        token = jwt.encode(_claims(account_id, aud="someone-else"), key, algorithm="HS256", headers={"kid": kid})
    elif case == "wrong_issuer":
        token = jwt.encode(_claims(account_id, iss="evil"), key, algorithm="HS256", headers={"kid": kid})
    elif case == "wrong_type":
        token = jwt.encode(_claims(account_id, typ="download"), key, algorithm="HS256", headers={"kid": kid})
    elif case == "missing_exp":
        token = jwt.encode(_claims(account_id, exp=None), key, algorithm="HS256", headers={"kid": kid})
    elif case == "refresh_token_as_bearer":
        token = (await gql.ok(LOGIN, {"email": person.email, "password": PASSWORD}))["login"]["refreshToken"]
    elif case == "garbage":
        token = "not.a.jwt"
    elif case == "unknown_kid":
        token = jwt.encode(_claims(account_id), key, algorithm="HS256", headers={"kid": "deadbeef"})
    else:
        token = jwt.encode(_claims(account_id, kind="customer_user"), key, algorithm="HS256", headers={"kid": kid})
    body = await gql.as_viewer(token)(NEEDS_SIGN_IN)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["extensions"]["reason"] == ("TOKEN_EXPIRED" if case == "expired" else "TOKEN_INVALID")
    assert "data" not in body  # refused before execution
    # A well-made token for the same account does work, so the refusal was the token's fault.
    assert (await gql.as_viewer(person.token).ok(NEEDS_SIGN_IN)) == {"ticketTypes": []}


async def test_token_signed_with_an_older_listed_key_still_verifies(gql, settings):
    from dataclasses import replace

    from permissions.tokens import read_access_token

    person = await make_employee(settings)
    rotated = replace(settings, secret_keys=("a-newer-key-0123456789abcdef0123456789",) + settings.secret_keys)
    claims = read_access_token(rotated, person.token)
    assert claims.account_id == person.account.id
