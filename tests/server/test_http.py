"""The HTTP surface: status codes, bodies, GraphiQL, CORS, limits, error masking."""

from __future__ import annotations

import httpx

from core.settings import settings_from_env
from server.app import create_app


async def test_malformed_json_is_400_with_a_json_error(client):
    response = await client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_health_checks_the_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_graphiql_is_served_to_browsers(client):
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_can_be_switched_off(settings):
    from dataclasses import replace

    app = create_app(replace(settings, graphiql=False), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code != 200 or "graphiql" not in response.text.lower()


async def test_mutations_over_get_are_refused_queries_run(client):
    # GraphQL over HTTP: GET runs queries only (tests/http/ has the rest).
    mutation = 'mutation { refreshToken(refreshToken: "x") { accessToken } }'
    response = await client.get("/graphql", params={"query": mutation})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert (await client.get("/graphql", params={"query": "{ me { name } }"})).json()["data"] == {"me": None}


async def test_body_over_the_cap_is_413(client, settings):
    big = "x" * (settings.max_body_bytes + 10)
    response = await client.post("/graphql", json={"query": "{ me { name } }", "variables": {"pad": big}})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_cors_allows_only_listed_origins(settings):
    from dataclasses import replace

    app = create_app(replace(settings, cors_origins=("https://portal.example",)), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        }
        allowed = await http.options("/graphql", headers={"origin": "https://portal.example", **preflight})
        refused = await http.options("/graphql", headers={"origin": "https://evil.example", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "https://portal.example"
    assert refused.headers.get("access-control-allow-origin") is None


async def test_unexpected_errors_are_masked_and_carry_the_request_id(client, settings, monkeypatch, caplog):
    from resolvers import tickets

    async def broken(viewer):
        raise RuntimeError("secret internals: /etc/passwd")

    monkeypatch.setattr(tickets, "ticket_types", broken)
    from tests.factories import make_employee

    person = await make_employee(settings)
    response = await client.post(
        "/graphql", json={"query": "{ ticketTypes { name } }"}, headers={"authorization": f"Bearer {person.token}"}
    )
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert any(error["extensions"]["requestId"] in r.getMessage() for r in caplog.records)


async def test_no_suggestions_name_hidden_fields(gql):
    body = await gql("{ ticketTypez { name } }")
    assert "Did you mean" not in body["errors"][0]["message"]
    body = await gql("{ ticketTypes { nam } }")
    assert "Did you mean" not in body["errors"][0]["message"]


def test_settings_parse_and_refuse_bad_values():
    import pytest

    from core.settings import ConfigurationError

    parsed = settings_from_env(
        {"SITEDESK_SECRET_KEYS": "new-key, old-key", "SITEDESK_CORS_ORIGINS": "https://a, https://b"}
    )
    assert parsed.secret_keys == ("new-key", "old-key")
    assert parsed.cors_origins == ("https://a", "https://b")
    assert parsed.max_upload_mb == 25
    with pytest.raises(ConfigurationError):
        settings_from_env({"SITEDESK_MAX_UPLOAD_MB": "lots"})
    with pytest.raises(ConfigurationError):
        settings_from_env({"SITEDESK_ENV": "production"})
    assert settings_from_env({"SITEDESK_ENV": "production", "SITEDESK_SECRET_KEY": "k" * 40}).graphiql is False
