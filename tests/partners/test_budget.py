"""The per-token request budget (SITEDESK_TOKEN_REQUESTS_PER_MINUTE), counted in the database so that
every server process shares it, and `lastUsedAt` written at most once a minute."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.settings import Settings, settings_from_env
from models.api_tokens import ApiToken, ApiTokenUsage
from permissions.api_tokens import TokenBudgetExceeded, count_token_request
from server.app import create_app
from tests.hardening.servers import running_servers, server_env
from tests.partners.helpers import create_token, customer_user_id, employee_id, fresh_minute, post

ME = "{ me { name } }"
LIMIT = 4


def test_the_budget_is_600_a_minute_unless_configured():
    assert settings_from_env({}).token_requests_per_minute == 600
    assert settings_from_env({"SITEDESK_TOKEN_REQUESTS_PER_MINUTE": "50"}).token_requests_per_minute == 50


def _app_client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(dataclasses.replace(settings, token_requests_per_minute=LIMIT), manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)), base_url="http://t")


@pytest.fixture
async def limited(settings) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two app instances with a budget of LIMIT requests a minute: two server processes on one database."""
    async with _app_client(settings) as first, _app_client(settings) as second:
        yield first, second


async def test_a_token_over_its_budget_is_rate_limited_with_retry_after(world, limited):
    first, _ = limited
    secret, _ = await create_token(world, employee_id(world.staff))
    other, _ = await create_token(world, customer_user_id(world.alice))
    await fresh_minute()
    for _ in range(LIMIT):
        assert (await post(first, ME, secret)).status_code == 200
    refused = await post(first, ME, secret)
    assert refused.status_code == 429, refused.text
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and 1 <= retry_after <= 60
    assert refused.headers["retry-after"] == str(retry_after)
    # A mutation is refused the same way, before it runs.
    refused = await post(first, 'mutation { createCustomer(input: {name: "x"}) { id } }', secret)
    assert refused.status_code == 429
    # Another token has its own budget; sessions have none.
    assert (await post(first, ME, other)).status_code == 200
    for _ in range(LIMIT + 1):
        assert (await post(first, ME, world.staff.token)).status_code == 200


async def test_the_budget_is_shared_by_every_server_process(world, limited):
    first, second = limited
    secret, _ = await create_token(world, employee_id(world.staff))
    await fresh_minute()
    for client in (first, second, first, second):
        assert (await post(client, ME, secret)).status_code == 200
    assert (await post(second, ME, secret)).status_code == 429
    assert (await post(first, ME, secret)).status_code == 429


async def test_concurrent_requests_never_exceed_the_budget(world, limited):
    first, second = limited
    secret, _ = await create_token(world, employee_id(world.staff))
    await fresh_minute()
    responses = await asyncio.gather(*(post((first, second)[n % 2], ME, secret) for n in range(3 * LIMIT)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * LIMIT + [429] * (2 * LIMIT)


async def test_last_used_at_is_written_once_a_minute(world, settings):
    _, token = await create_token(world, employee_id(world.staff))
    assert token["lastUsedAt"] is None
    row = await ApiToken.get(prefix=token["prefix"])
    start = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC)
    assert await count_token_request(settings, row.id, start) == 1
    assert (await ApiToken.get(id=row.id)).last_used_at == start
    await ApiToken.filter(id=row.id).update(last_used_at=None)
    # Later requests of the same minute count, but write no lastUsedAt.
    for n in range(1, 4):
        assert await count_token_request(settings, row.id, start + timedelta(seconds=10 * n)) == n + 1
    assert (await ApiToken.get(id=row.id)).last_used_at is None
    # The next minute's first request writes it again and drops the old counter.
    later = start + timedelta(seconds=60)
    assert await count_token_request(settings, row.id, later) == 1
    assert (await ApiToken.get(id=row.id)).last_used_at == later
    assert await ApiTokenUsage.filter(token_id=row.id).values_list("requests", flat=True) == [1]


async def test_the_budget_error_names_the_wait_until_the_next_minute(world, settings):
    _, token = await create_token(world, employee_id(world.staff))
    row = await ApiToken.get(prefix=token["prefix"])
    tight = dataclasses.replace(settings, token_requests_per_minute=1)
    at = datetime(2026, 12, 3, 10, 0, 45, tzinfo=UTC)
    await count_token_request(tight, row.id, at)
    with pytest.raises(TokenBudgetExceeded) as refused:
        await count_token_request(tight, row.id, at)
    assert refused.value.retry_after == 15


async def test_last_used_at_shows_in_the_list_after_use(world, client):
    secret, _ = await create_token(world, employee_id(world.staff))
    assert (await post(client, ME, secret)).status_code == 200
    listed = await world.as_(world.admin).ok("{ apiTokens { edges { node { lastUsedAt } } } }")
    assert listed["apiTokens"]["edges"][0]["node"]["lastUsedAt"] is not None


@pytest.mark.skipif(
    not os.environ.get("SITEDESK_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several server processes need PostgreSQL (SQLite means one process)",
)
async def test_two_server_processes_share_one_budget(world, settings, tmp_path):
    secret, _ = await create_token(world, employee_id(world.staff))
    env = server_env(settings, SITEDESK_TOKEN_REQUESTS_PER_MINUTE="10", SITEDESK_MAIL_SENDER="false")
    with running_servers(env, 2, tmp_path) as servers:
        clients = [httpx.AsyncClient(base_url=s.url, timeout=60) for s in servers]
        try:
            await fresh_minute()
            responses = await asyncio.gather(*(post(clients[n % 2], ME, secret) for n in range(30)))
        finally:
            for http in clients:
                await http.aclose()
        logs = "".join(s.output() for s in servers)
    assert sorted(r.status_code for r in responses) == [200] * 10 + [429] * 20
    assert "Traceback" not in logs
