"""Persisted-query registration under hostile clients (issue 24): only what ran cleanly is stored,
anonymous clients register a bounded number per address, the table has a cap with least recently
used eviction, unused rows are cleaned up, and `/metrics` shows the count."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from models.http import PersistedQuery
from server.app import create_app
from server.persisted import PersistedQueries
from tests.factories import PASSWORD

METRICS_TOKEN = "metrics-token-for-the-persisted-query-tests"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(text: str) -> dict:
    return {"query": text, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}}


def by_hash(text: str) -> dict:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}}


def fresh(body: str = "__typename") -> str:
    return f"query Fresh_{uuid.uuid4().hex} {{ {body} }}"


def app_client(settings, peer: str = "192.0.2.10", **changes) -> httpx.AsyncClient:
    """An app (a server process of its own: its own memory) seen from client address `peer`."""
    app = create_app(replace(settings, **changes), manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 50000)), base_url="http://t")


def auth(person) -> dict:
    return {"authorization": f"Bearer {person.token}"}


async def stored() -> set[str]:
    return set(await PersistedQuery.all().values_list("sha256", flat=True))


async def test_only_a_query_that_ran_without_errors_is_stored(settings, world):
    refused = [
        "query { nope }",  # does not validate
        "query { me { name ",  # does not parse
        "query { tickets(first: 1) { totalCount } }",  # refused for anonymous clients
        "mutation Out { logout }",  # a mutation refused anonymously
        'mutation In { login(email: "nobody@example.com", password: "wrong") { accessToken } }',
    ]
    async with app_client(settings) as http:
        for text in refused:
            response = await http.post("/graphql", json=apq(text))
            assert response.json().get("errors"), text
            again = await http.post("/graphql", json=by_hash(text))
            assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert await stored() == set()
        # Signed in, a refused field is a refusal too; a query that ran is stored.
        admin_only = "query { auditEvents(first: 1) { totalCount } }"
        denied = await http.post("/graphql", json=apq(admin_only), headers=auth(world.alice))
        assert denied.json()["errors"]
        ran = fresh("me { name }")
        assert (await http.post("/graphql", json=apq(ran), headers=auth(world.alice))).json()["data"]
        login = "mutation In($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
        body = {**apq(login), "variables": {"e": world.staff.email, "p": PASSWORD}}
        assert (await http.post("/graphql", json=body)).json()["data"]["login"]["accessToken"]
    assert await stored() == {sha(ran), sha(login)}


async def test_anonymous_registration_is_limited_per_client_address(settings, world):
    texts = [fresh() for _ in range(5)]
    async with app_client(settings, peer="198.51.100.7", persisted_queries_per_address=3) as http:
        for text in texts:  # every one runs; the first three are stored
            assert (await http.post("/graphql", json=apq(text))).json()["data"] == {"__typename": "Query"}
        assert await stored() == {sha(t) for t in texts[:3]}
        missing = await http.post("/graphql", json=by_hash(texts[4]))
        assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        # A signed-in client from the same address is not counted against it.
        assert (await http.post("/graphql", json=apq(texts[4]), headers=auth(world.alice))).json()["data"]
    # The count is in the database: another process (app) from that address is over it too.
    async with app_client(settings, peer="198.51.100.7", persisted_queries_per_address=3) as other:
        await other.post("/graphql", json=apq(texts[3]))
    # Another address has its own quota.
    async with app_client(settings, peer="198.51.100.8", persisted_queries_per_address=3) as elsewhere:
        await elsewhere.post("/graphql", json=apq(fresh()))
    assert len(await stored()) == 5
    assert sha(texts[3]) not in await stored()


async def test_anonymous_registration_can_be_switched_off(settings, world):
    anonymous, signed_in = fresh(), fresh()
    async with app_client(settings, persisted_queries_anonymous=False) as http:
        assert (await http.post("/graphql", json=apq(anonymous))).json()["data"] == {"__typename": "Query"}
        assert (await http.post("/graphql", json=apq(signed_in), headers=auth(world.staff))).json()["data"]
        # Stored queries still answer anonymous clients by hash.
        assert (await http.post("/graphql", json=by_hash(signed_in))).json()["data"] == {"__typename": "Query"}
    assert await stored() == {sha(signed_in)}


async def test_the_table_has_a_cap_and_the_least_recently_used_go_first(settings, world):
    texts = [fresh() for _ in range(4)]
    async with app_client(settings, persisted_queries_max=3) as http:
        for text in texts[:3]:
            await http.post("/graphql", json=apq(text), headers=auth(world.staff))
    now = datetime.now(UTC)
    for text, hours in zip(texts[:3], (2, 3, 1), strict=True):  # last used 2, 3 and 1 hours ago
        await PersistedQuery.filter(sha256=sha(text)).update(last_used_at=now - timedelta(hours=hours))
    async with app_client(settings, persisted_queries_max=3) as http:
        # Using the oldest by its hash makes it the most recently used.
        assert (await http.post("/graphql", json=by_hash(texts[1]))).json()["data"] == {"__typename": "Query"}
        await http.post("/graphql", json=apq(texts[3]), headers=auth(world.staff))
        assert await stored() == {sha(texts[1]), sha(texts[2]), sha(texts[3])}
        # The evicted one is unknown again (the client sends its text once more).
        gone = await http.post("/graphql", json=by_hash(texts[0]))
        assert gone.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_unused_rows_are_cleaned_up_by_every_process_at_once(settings):
    now = datetime.now(UTC)
    old, recent = fresh(), fresh()
    await PersistedQuery.create(sha256=sha(old), query=old, last_used_at=now - timedelta(days=8))
    await PersistedQuery.create(sha256=sha(recent), query=recent, last_used_at=now - timedelta(days=6))
    processes = [PersistedQueries(replace(settings, persisted_queries_unused_days=7)) for _ in range(3)]
    deleted = await asyncio.gather(*(p.clean_up() for p in processes))
    assert sum(deleted) == 1
    assert await stored() == {sha(recent)}


async def test_metrics_show_the_persisted_query_count(settings, world):
    async with app_client(settings, metrics_token=METRICS_TOKEN) as http:
        for _ in range(2):
            await http.post("/graphql", json=apq(fresh()), headers=auth(world.staff))
        metrics = await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert "sitedesk_persisted_queries 2.0" in metrics.text.splitlines()
