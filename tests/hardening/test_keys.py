"""Key rotation: new signatures use the newest key, every listed key still verifies (by kid)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import jwt

from core.ids import to_global_id
from core.keys import key_id
from files.signing import signed_path
from tests.conftest import LOGIN, GraphQLClient
from tests.factories import PASSWORD, make_employee
from tests.hardening.conftest import app_client

NEW = "rotated-key-" + "n" * 40
OLD = "test-secret-key-0123456789abcdef0123456789"  # the suite's key (tests/conftest.py)
ADD_ATTACHMENT = """mutation($t: ID!, $f: Upload!) { addAttachment(ticketId: $t, file: $f) { id downloadUrl } }"""


async def test_rotation_keeps_old_tokens_and_signs_new_ones_with_the_new_key(world, settings):
    assert settings.secret_keys == (OLD,)
    old_token = world.admin.token
    assert jwt.get_unverified_header(old_token)["kid"] == key_id(OLD)
    rotated = replace(settings, secret_keys=(NEW, OLD))
    async with app_client(rotated) as http:
        gql = GraphQLClient(http)
        assert (await gql.as_viewer(old_token).ok("{ me { name } }"))["me"]["name"] == "Admin"
        session = (await gql.ok(LOGIN, {"email": world.admin.email, "password": PASSWORD}))["login"]
    assert jwt.get_unverified_header(session["accessToken"])["kid"] == key_id(NEW)

    retired = replace(settings, secret_keys=(NEW,))
    async with app_client(retired) as http:
        gql = GraphQLClient(http)
        assert await gql.as_viewer(old_token).error_code("{ ticketTypes { name } }") == "UNAUTHENTICATED"
        assert (await gql.as_viewer(session["accessToken"]).ok("{ me { name } }"))["me"]["name"] == "Admin"
        # Refresh tokens are random and stored hashed: rotation does not touch them.
        mutation = "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }"
        refreshed = await gql.ok(mutation, {"r": session["refreshToken"]})
        assert jwt.get_unverified_header(refreshed["refreshToken"]["accessToken"])["kid"] == key_id(NEW)


async def test_tokens_with_unknown_or_missing_kid_are_refused(world, settings):
    person = await make_employee(settings)
    claims = jwt.decode(person.token, OLD, algorithms=["HS256"], audience="sitedesk-api", issuer="sitedesk")
    no_kid = jwt.encode(claims, OLD, algorithm="HS256")
    wrong_kid = jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": key_id(NEW)})
    foreign = jwt.encode(claims, "some-other-key-" + "x" * 30, algorithm="HS256", headers={"kid": key_id(OLD)})
    for token in (no_kid, wrong_kid, foreign):
        assert await world.gql.as_viewer(token).error_code("{ ticketTypes { name } }") == "UNAUTHENTICATED"
    # The same claims signed again with the same key and kid give the same token (no clock involved).
    assert jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": key_id(OLD)}) == person.token


async def test_signed_urls_survive_rotation_until_the_key_is_removed(world, tickets, settings, gql):
    ticket = tickets["Fenster streifig"]
    response = await gql.upload(
        ADD_ATTACHMENT,
        {"t": to_global_id("Ticket", ticket.id), "f": None},
        {"variables.f": ("note.txt", f"rotation {uuid.uuid4()}".encode())},
        token=world.admin.token,
    )
    attachment = response.json()["data"]["addAttachment"]
    url = attachment["downloadUrl"]
    assert f"signature={key_id(OLD)}." in url
    async with app_client(replace(settings, secret_keys=(NEW, OLD))) as http:
        assert (await http.get(url)).status_code == 200
        pk = int(url.split("/files/attachment/")[1].split("?")[0])
        fresh = signed_path(replace(settings, secret_keys=(NEW, OLD)), "attachment", pk)
        assert f"signature={key_id(NEW)}." in fresh
        assert (await http.get(fresh)).status_code == 200
    async with app_client(replace(settings, secret_keys=(NEW,))) as http:
        assert (await http.get(url)).status_code == 403
        assert (await http.get(fresh)).status_code == 200
