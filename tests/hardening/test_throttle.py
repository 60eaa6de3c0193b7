"""Login throttling: per account and per client address, in the database, revealing nothing."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import httpx
import pytest

from core.errors import RateLimited
from models.accounts import LoginThrottle
from resolvers.accounts import count_login_attempt, throttle_keys
from server.app import create_app
from tests.conftest import LOGIN, GraphQLClient
from tests.factories import PASSWORD, make_employee


def client_from(settings, address: str) -> httpx.AsyncClient:
    app = create_app(settings, manage_database=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://sitedesk.test"
    )


async def attempt(http: httpx.AsyncClient, email: str, password: str) -> dict:
    return await GraphQLClient(http)(LOGIN, {"email": email, "password": password})


def outcome(body: dict) -> tuple[str, str]:
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"]


async def test_account_is_refused_after_five_failures_even_with_the_right_password(settings):
    person = await make_employee(settings)
    async with client_from(settings, "127.0.0.10") as http:
        for _ in range(5):
            assert outcome(await attempt(http, person.email, "wrong-password"))[0] == "UNAUTHENTICATED"
        body = await attempt(http, person.email, PASSWORD)
    error = body["errors"][0]
    assert body["data"] is None
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 15 * 60
    assert person.email not in error["message"]


async def test_unknown_and_known_accounts_are_throttled_alike(settings):
    person = await make_employee(settings)
    async with client_from(settings, "127.0.0.11") as http:
        known = [outcome(await attempt(http, person.email.upper(), "wrong-password")) for _ in range(7)]
        unknown = [outcome(await attempt(http, "nobody@example.test", "wrong-password")) for _ in range(7)]
    # The same answers, but for the seconds left, which the clock moves on between the two.
    assert [(code, re.sub(r"\d+", "N", message)) for code, message in known] == [
        (code, re.sub(r"\d+", "N", message)) for code, message in unknown
    ]
    assert [code for code, _ in known] == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"] * 2


async def test_address_is_refused_after_many_failures_across_accounts(settings):
    tight = replace(settings, login_max_failures_per_address=8)
    person = await make_employee(settings)
    async with client_from(tight, "127.0.0.12") as http:
        for i in range(8):
            assert outcome(await attempt(http, f"guess{i}@example.test", "x"))[0] == "UNAUTHENTICATED"
        assert outcome(await attempt(http, person.email, PASSWORD))[0] == "RATE_LIMITED"
    async with client_from(tight, "127.0.0.13") as other:  # another address is not affected
        assert not (await attempt(other, person.email, PASSWORD)).get("errors")


async def test_a_success_resets_the_account_count(settings):
    person = await make_employee(settings)
    async with client_from(settings, "127.0.0.14") as http:
        for _ in range(4):
            await attempt(http, person.email, "wrong-password")
        assert not (await attempt(http, person.email, PASSWORD)).get("errors")
        for _ in range(4):
            assert outcome(await attempt(http, person.email, "wrong-password"))[0] == "UNAUTHENTICATED"
        assert not (await attempt(http, person.email, PASSWORD)).get("errors")


async def test_state_is_shared_by_separate_app_instances_and_parallel_attempts(settings):
    person = await make_employee(settings)
    async with client_from(settings, "127.0.0.15") as first, client_from(settings, "127.0.0.16") as second:
        bodies = await asyncio.gather(*(attempt(first if i % 2 else second, person.email, "wrong") for i in range(16)))
    codes = sorted(outcome(body)[0] for body in bodies)
    assert codes == ["RATE_LIMITED"] * 11 + ["UNAUTHENTICATED"] * 5
    assert await LoginThrottle.filter(key=throttle_keys(person.email, None)["account"]).count() == 1


async def test_the_window_expires(settings):
    keys = throttle_keys("someone@example.test", "127.0.0.17")
    start = 1_900_000_000
    for _ in range(5):
        await count_login_attempt(settings, keys, now=start)
    with pytest.raises(RateLimited) as refused:
        await count_login_attempt(settings, keys, now=start + 60)
    assert refused.value.extensions == {"code": "RATE_LIMITED", "retryAfter": 15 * 60 - 60}
    await count_login_attempt(settings, keys, now=start + 15 * 60)  # a new window
    assert (await LoginThrottle.get(key=keys["account"])).attempts == 1
