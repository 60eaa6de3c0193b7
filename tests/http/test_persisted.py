"""Persisted queries: Apollo's automatic persisted queries (stored in the database, shared
by every server process), queries over GET, and trusted documents."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace

import httpx
import pytest

from core.settings import ConfigurationError
from models.http import PersistedQuery
from server.app import create_app
from server.persisted import PersistedQueries, PersistedQueryError
from tests.conftest import LOGIN
from tests.factories import PASSWORD

SPEC_ACCEPT = {"accept": "application/graphql-response+json"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fresh_query() -> str:
    """A document no earlier test registered (hashes are per text)."""
    return f"query Fresh_{uuid.uuid4().hex} {{ me {{ name }} }}"


def apq(hash_: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": hash_}}


def app_client(settings) -> httpx.AsyncClient:
    """Another server process as far as persisted queries go: its own in-memory cache."""
    app = create_app(settings, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sitedesk.test")


def auth(person) -> dict:
    return {"authorization": f"Bearer {person.token}"}


async def test_an_unknown_hash_is_not_found_then_registered_then_known_everywhere(client, world, settings):
    query = fresh_query()
    first = await client.post("/graphql", json={"extensions": apq(sha(query))}, headers=auth(world.staff))
    assert first.status_code == 200
    error = first.json()["errors"][0]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert first.json()["extensions"]["cost"] == {"requested": None, "limit": 50000}
    # Under the spec's media type it is a request error.
    spec = await client.post(
        "/graphql", json={"extensions": apq(sha(query))}, headers={**auth(world.staff), **SPEC_ACCEPT}
    )
    assert spec.status_code == 400 and "data" not in spec.json()

    registered = await client.post(
        "/graphql", json={"query": query, "extensions": apq(sha(query))}, headers=auth(world.staff)
    )
    assert registered.json()["data"] == {"me": {"name": "Jonas Weber"}}
    assert await PersistedQuery.filter(sha256=sha(query)).count() == 1
    again = await client.post("/graphql", json={"extensions": apq(sha(query))}, headers=auth(world.staff))
    assert again.json()["data"] == {"me": {"name": "Jonas Weber"}}
    # Another process (a fresh app: nothing in its memory) finds it in the database.
    async with app_client(settings) as other:
        elsewhere = await other.post("/graphql", json={"extensions": apq(sha(query))}, headers=auth(world.alice))
    assert elsewhere.json()["data"] == {"me": {"name": "Alice"}}


async def test_a_hash_that_is_not_the_query_s_is_refused_and_not_stored(client, world):
    query, other = fresh_query(), fresh_query()
    response = await client.post(
        "/graphql", json={"query": query, "extensions": apq(sha(other))}, headers=auth(world.staff)
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert response.json()["data"] is None
    assert await PersistedQuery.filter(sha256=sha(other)).count() == 0
    lookup = await client.post("/graphql", json={"extensions": apq(sha(other))}, headers=auth(world.staff))
    assert lookup.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "a" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not a hash!"}},
        {"persistedQuery": "yes"},
    ],
)
async def test_malformed_persisted_query_extensions_are_bad_input(client, extensions):
    response = await client.post("/graphql", json={"query": "{ me { name } }", "extensions": extensions})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert response.json()["data"] is None


async def test_switched_off_persisted_queries_answer_not_supported(settings, world):
    async with app_client(replace(settings, persisted_queries=False)) as http:
        query = fresh_query()
        response = await http.post("/graphql", json={"extensions": apq(sha(query))})
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
        # A hash with its query still runs (the hash checked), but nothing is stored.
        both = await http.post(
            "/graphql", json={"query": query, "extensions": apq(sha(query))}, headers=auth(world.staff)
        )
        assert both.json()["data"] == {"me": {"name": "Jonas Weber"}}
    assert await PersistedQuery.filter(sha256=sha(query)).count() == 0


async def test_queries_run_over_get_with_variables_and_persisted_hashes(client, world):
    query = "query Page($first: Int) { me { name } tickets(first: $first) { totalCount } }"
    response = await client.get(
        "/graphql",
        params={"query": query, "variables": json.dumps({"first": 3}), "operationName": "Page"},
        headers=auth(world.staff),
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"me": {"name": "Jonas Weber"}, "tickets": {"totalCount": 0}}
    assert (
        response.json()["extensions"]["cost"]["requested"] == 6
    )  # first: 3 read from the variables (20 would give 23)
    # Apollo's GET with a hash only, after the query was registered.
    registered = fresh_query()
    await client.post("/graphql", json={"query": registered, "extensions": apq(sha(registered))})
    by_hash = await client.get(
        "/graphql",
        params={"extensions": json.dumps(apq(sha(registered)))},
        headers={**auth(world.alice), "accept": "*/*"},
    )
    assert by_hash.json()["data"] == {"me": {"name": "Alice"}}


async def test_mutations_over_get_are_405_also_by_hash(client, world):
    mutation = "mutation Out { logout }"
    plain = await client.get("/graphql", params={"query": mutation}, headers=auth(world.staff))
    assert plain.status_code == 405
    assert plain.headers["allow"] == "POST"
    assert plain.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    login = (
        "mutation L($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }"
    )
    # Registered by a login that succeeded (a refused one stores nothing).
    await client.post(
        "/graphql",
        json={
            "query": login,
            "variables": {"email": world.staff.email, "password": PASSWORD},
            "extensions": apq(sha(login)),
        },
    )
    assert await PersistedQuery.filter(sha256=sha(login)).exists()
    by_hash = await client.get(
        "/graphql",
        params={
            "extensions": json.dumps(apq(sha(login))),
            "variables": json.dumps({"email": world.staff.email, "password": PASSWORD}),
        },
    )
    assert by_hash.status_code == 405


async def test_a_browser_without_a_query_still_gets_graphiql(client):
    page = await client.get("/graphql", headers={"accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200 and "Sitedesk GraphiQL" in page.text
    shared = await client.get("/graphql", params={"q": "{ me { name } }"}, headers={"accept": "text/html"})
    assert "Sitedesk GraphiQL" in shared.text


# Trusted documents ------------------------------------------------------------------------

ME = "query Me { me { name } }"
TYPES = "query Types { ticketTypes { name } }"


def manifest(tmp_path, *bodies: str, custom_id: str | None = None):
    operations = [{"id": sha(body), "name": body.split()[1], "type": body.split()[0], "body": body} for body in bodies]
    if custom_id:
        operations[0]["id"] = custom_id
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}))
    return path


async def test_trusted_documents_lock_people_to_the_listed_operations(settings, world, tmp_path):
    path = manifest(tmp_path, ME, LOGIN)
    async with app_client(replace(settings, trusted_documents=path)) as http:
        by_id = await http.post("/graphql", json={"extensions": apq(sha(ME))}, headers=auth(world.staff))
        assert by_id.json()["data"] == {"me": {"name": "Jonas Weber"}}
        by_text = await http.post("/graphql", json={"query": ME}, headers=auth(world.staff))
        assert by_text.json()["data"] == {"me": {"name": "Jonas Weber"}}
        # Anything else is refused, whether sent as text, as an APQ registration or by hash.
        for body in (
            {"query": TYPES},
            {"query": TYPES, "extensions": apq(sha(TYPES))},
            {"extensions": apq(sha(TYPES))},
            {"query": ME + " "},  # not the same document text
        ):
            refused = await http.post("/graphql", json=body, headers=auth(world.admin))
            assert refused.json()["data"] is None
            assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND", body
        assert await PersistedQuery.filter(sha256=sha(TYPES)).count() == 0
        # Anonymous: the listed login works, nothing unlisted does.
        login = await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"email": world.staff.email, "password": PASSWORD}}
        )
        assert login.json()["data"]["login"]["viewer"] == {"name": "Jonas Weber"}
        anonymous = await http.post("/graphql", json={"query": "{ ticketTypes { name } }"})
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_manifest_ids_need_not_be_hashes(settings, world, tmp_path):
    path = manifest(tmp_path, ME, custom_id="web-app:Me:v3")
    async with app_client(replace(settings, trusted_documents=path)) as http:
        response = await http.post("/graphql", json={"extensions": apq("web-app:Me:v3")}, headers=auth(world.staff))
    assert response.json()["data"] == {"me": {"name": "Jonas Weber"}}


async def test_api_tokens_are_exempt_from_trusted_documents(settings, tmp_path):
    # The `sdk_` prefix marks an integration's API token (the viewer is checked before this step).
    persisted = PersistedQueries(replace(settings, trusted_documents=manifest(tmp_path, ME)))
    assert await persisted.resolve(TYPES, None, "Bearer sdk_abcdef") == TYPES
    assert await persisted.resolve(TYPES, apq(sha(TYPES)), "Bearer sdk_abcdef") == TYPES
    for authorization in ("Bearer eyJhbGciOi.x.y", None, "Basic sdk_abc", "Bearer xsdk_abc"):
        with pytest.raises(PersistedQueryError) as refused:
            await persisted.resolve(TYPES, None, authorization)
        assert refused.value.code == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"format": "something-else", "version": 1, "operations": []}),
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "x"}]}),
    ],
)
def test_a_broken_manifest_stops_the_server_at_start(settings, tmp_path, content):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError):
        create_app(replace(settings, trusted_documents=path), manage_database=False)
    with pytest.raises(ConfigurationError):
        create_app(replace(settings, trusted_documents=tmp_path / "missing.json"), manage_database=False)
