"""Verified access tokens are remembered (`permissions/tokens.py`), never beyond what verifying again would allow.

A token used once and cached must still be refused when it expires, when its
key is rotated out, and when its session ends.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from core.settings import settings_from_env
from models.accounts import Account
from permissions.tokens import issue_access_token
from server.app import create_app
from tests.factories import make_employee

ME = {"query": "{ me { name } }"}


def refused_because(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    return str(response.json()["errors"][0]["extensions"]["reason"])


async def test_a_remembered_token_is_refused_once_it_expires(client, settings):
    person = await make_employee(settings, name="Erika")
    # Issued so that it expires about 1.5 seconds from now.
    issued = datetime.now(UTC) - timedelta(minutes=settings.access_token_minutes) + timedelta(seconds=1.5)
    token = issue_access_token(settings, person.account.id, person.account.kind, 1, now=issued)
    headers = {"authorization": f"Bearer {token}"}
    for _ in range(2):
        answer = await client.post("/graphql", json=ME, headers=headers)
        assert answer.json()["data"] == {"me": {"name": "Erika"}}
    await asyncio.sleep(2)
    assert refused_because(await client.post("/graphql", json=ME, headers=headers)) == "TOKEN_EXPIRED"


async def test_a_remembered_token_is_refused_when_its_key_is_rotated_out(client, settings):
    person = await make_employee(settings, name="Erika")
    headers = {"authorization": f"Bearer {person.token}"}
    assert (await client.post("/graphql", json=ME, headers=headers)).status_code == 200
    rotated = settings_from_env(
        {
            "SITEDESK_DATABASE_URL": settings.database_url,
            "SITEDESK_SECRET_KEYS": "a-completely-new-key-0123456789abcdef0123456789",
            "SITEDESK_ENV": "test",
        }
    )
    app = create_app(replace(settings, secret_keys=rotated.secret_keys), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as other:
        assert refused_because(await other.post("/graphql", json=ME, headers=headers)) == "TOKEN_INVALID"
    # Back under the old key it still works: the cache never turned the refusal into an answer or back.
    assert (await client.post("/graphql", json=ME, headers=headers)).status_code == 200


async def test_a_remembered_token_of_an_ended_session_is_revoked(client, settings):
    person = await make_employee(settings, name="Erika")
    headers = {"authorization": f"Bearer {person.token}"}
    assert (await client.post("/graphql", json=ME, headers=headers)).status_code == 200
    await Account.filter(id=person.account.id).update(token_version=2)
    assert refused_because(await client.post("/graphql", json=ME, headers=headers)) == "TOKEN_REVOKED"
