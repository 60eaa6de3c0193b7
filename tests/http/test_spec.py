"""GraphQL over HTTP: `application/graphql-response+json` status codes, the legacy
`application/json` answers, `extensions.cost` on every answer, `Retry-After`, CORS and
the upload CSRF rule."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from server.app import create_app
from server.http_spec import is_request_error, prefers_graphql_response
from tests.conftest import LOGIN
from tests.factories import make_employee

GRAPHQL_RESPONSE = "application/graphql-response+json"
SPEC_ACCEPT = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}


async def post(client, query, variables=None, headers=None, token=None):
    sent = dict(headers or {})
    if token:
        sent["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)


@pytest.mark.parametrize(
    ("accept", "prefers"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (GRAPHQL_RESPONSE, True),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", True),
        (f"application/json, {GRAPHQL_RESPONSE}", True),  # equal weight: the new type wins
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", False),
        (f"{GRAPHQL_RESPONSE};q=0", False),
        (f"{GRAPHQL_RESPONSE};q=bogus, text/html", False),
    ],
)
def test_accept_negotiation(accept, prefers):
    assert prefers_graphql_response(accept) is prefers


def test_a_field_error_is_not_a_request_error():
    assert is_request_error({"data": None, "errors": [{"message": "x"}]})
    assert not is_request_error({"data": None, "errors": [{"message": "x", "path": ["login"]}]})
    assert not is_request_error({"data": {"a": 1}, "errors": [{"message": "x"}]})
    assert not is_request_error({"data": {"a": 1}})


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ me { name ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ me { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { tickets(first: $n) { totalCount } }", {"n": "many"}, "BAD_USER_INPUT"),
        ("{ " + " ".join(f"a{i}: me {{ name }}" for i in range(31)) + " }", None, "TOO_MANY_ALIASES"),
        (
            "{ tickets(first: 100) { edges { node { comments(first: 100) { edges { node { body author { name } "
            "id createdAt } } } } } } }",
            None,
            "QUERY_TOO_COMPLEX",
        ),
    ],
)
async def test_request_errors_are_400_without_data_for_graphql_response_json(client, world, query, variables, code):
    response = await post(client, query, variables, SPEC_ACCEPT, world.staff.token)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["extensions"]["cost"]["limit"] == 50000
    # application/json (and no Accept at all) keeps the legacy answer: 200 with data null.
    for headers in ({"accept": "application/json"}, {}):
        legacy = await post(client, query, variables, headers, world.staff.token)
        assert legacy.status_code == 200
        assert legacy.headers["content-type"] == "application/json"
        assert legacy.json()["data"] is None
        assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_errors_during_execution_stay_200_with_data(client, world):
    # A customer user is refused `isAbsenceRequest`: a field error, the rest of the data stays.
    response = await post(client, "{ ticketTypes { name isAbsenceRequest } }", None, SPEC_ACCEPT, world.alice.token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"]["ticketTypes"][0]["isAbsenceRequest"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A refused root field nulls `data` but executed: still 200.
    refused = await post(client, "{ customers(first: 1) { totalCount } }", None, SPEC_ACCEPT, world.alice.token)
    assert refused.status_code == 200 and refused.json()["data"] is None
    assert refused.json()["errors"][0]["path"] == ["customers"]


async def test_a_success_carries_the_media_type_and_its_cost(client, world):
    response = await post(
        client, "{ tickets(first: 10) { edges { node { title } } } }", None, SPEC_ACCEPT, world.staff.token
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json()["extensions"]["cost"] == {"requested": 31, "limit": 50000}
    legacy = await post(client, "{ me { name } }", token=world.staff.token)
    assert legacy.json()["extensions"] == {"cost": {"requested": 2, "limit": 50000}}


async def test_cost_on_refusals(client, world):
    too_complex = await post(
        client,
        "{ tickets(first: 100) { edges { node { comments(first: 100) { edges { node { body id author { name } "
        "createdAt } } } } } } }",
        token=world.staff.token,
    )
    cost = too_complex.json()["extensions"]["cost"]
    assert cost["requested"] > cost["limit"] == 50000
    assert too_complex.json()["errors"][0]["extensions"]["cost"] == cost["requested"]
    invalid = await post(client, "{ me { name nope } }", token=world.staff.token)
    assert invalid.json()["extensions"]["cost"] == {"requested": 3, "limit": 50000}
    unparsed = await post(client, "{ me {", token=world.staff.token)
    assert unparsed.json()["extensions"]["cost"] == {"requested": None, "limit": 50000}
    forbidden = await post(client, "{ customers(first: 5) { totalCount } }", token=world.alice.token)
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert forbidden.json()["extensions"]["cost"] == {"requested": 6, "limit": 50000}


async def test_rate_limited_answers_carry_retry_after(client, settings):
    person = await make_employee(settings)
    for _ in range(settings.login_max_failures):
        await post(client, LOGIN, {"email": person.email, "password": "wrong-password"})
    response = await post(client, LOGIN, {"email": person.email, "password": "wrong-password"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    assert int(response.headers["retry-after"]) > 0
    # Only rate-limited answers carry it.
    other = await post(client, LOGIN, {"email": "nobody@example.com", "password": "wrong-password"})
    assert other.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "retry-after" not in other.headers


async def test_cors_allows_both_csrf_headers_and_exposes_the_response_headers(settings):
    app = create_app(replace(settings, cors_origins=("https://portal.example",)), manage_database=False)
    origin = {"origin": "https://portal.example"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for header in ("apollo-require-preflight", "x-apollo-operation-name", "idempotency-key", "authorization"):
            preflight = await http.options(
                "/graphql",
                headers={
                    **origin,
                    "access-control-request-method": "POST",
                    "access-control-request-headers": f"content-type,{header}",
                },
            )
            assert preflight.status_code == 200, header
            assert header in preflight.headers["access-control-allow-headers"].lower()
        answer = await http.post("/graphql", json={"query": "{ me { name } }"}, headers=origin)
    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after", "idempotent-replayed"} <= exposed


async def test_uploads_need_a_csrf_header_either_one(client, world):
    query = 'mutation($f: Upload!) { addAttachment(ticketId: "VGlja2V0Ojk5OTk", file: $f) { id } }'
    operations = json.dumps({"query": query, "variables": {"f": None}})
    data = {"operations": operations, "map": json.dumps({"0": ["variables.f"]})}
    files = {"0": ("a.txt", b"hello", "text/plain")}
    auth = {"authorization": f"Bearer {world.staff.token}"}
    refused = await client.post("/graphql", data=data, files=files, headers=auth)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "Apollo-Require-Preflight" in refused.json()["errors"][0]["message"]
    for header in ("Apollo-Require-Preflight", "X-Apollo-Operation-Name"):
        accepted = await client.post("/graphql", data=data, files=files, headers={**auth, header: "x"})
        assert accepted.status_code == 200, header
        assert accepted.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # read and run: no such ticket


async def test_download_urls_are_absolute_from_the_public_url(settings, world):
    from models.tickets import Ticket
    from tests.factories import make_attachment, make_ticket

    ticket: Ticket = await make_ticket(world.a1, world.defect, "Mit Foto", by=world.alice)
    await make_attachment(settings, ticket, world.alice, "foto.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    query = "{ tickets(first: 1) { edges { node { attachments { downloadUrl } } } } }"
    public = replace(settings, public_url="https://desk.example.com/sitedesk")
    app = create_app(public, manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://internal:8000") as http:
        body = (await post(http, query, token=world.alice.token)).json()
        url = body["data"]["tickets"]["edges"][0]["node"]["attachments"][0]["downloadUrl"]
        assert url.startswith("https://desk.example.com/sitedesk/files/attachment/")
        assert "expires=" in url and "signature=" in url
        # Behind the proxy that strips the prefix, the path after it downloads the file.
        downloaded = await http.get(url.removeprefix("https://desk.example.com/sitedesk"))
    assert downloaded.status_code == 200


async def test_refusals_before_graphql_carry_the_budget_too(client, settings):
    unknown_cost = {"cost": {"requested": None, "limit": 50000}}
    bad_token = await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"authorization": "Bearer x"})
    malformed = await client.post("/graphql", content=b"{nope", headers={"content-type": "application/json"})
    mutation_by_get = await client.get("/graphql", params={"query": "mutation { logout }"})
    too_large = await client.post(
        "/graphql", json={"query": "{ me { name } }", "x": "y" * (settings.max_body_bytes + 1)}
    )
    for response, status in ((bad_token, 401), (malformed, 400), (mutation_by_get, 405), (too_large, 413)):
        assert response.status_code == status
        assert response.json()["extensions"] == unknown_cost, status
        assert int(response.headers["content-length"]) == len(response.content)
