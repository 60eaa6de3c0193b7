"""The thin HTTP path (`server/thin_path.py`): a settled query answers as the ordinary path does.

A document is settled once it ran on a compiled plan in this app; the next
identical query skips the pipeline. Everything around it (token rules,
CORS, body limits, request ids, error masking, the limits) must behave
exactly as before: each test asks from the refused side.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import httpx
import pytest

from execution import STATS
from server.app import create_app
from tests.factories import make_customer, make_customer_user, make_employee, make_site_object, make_ticket_type
from tests.factories import make_ticket as make_ticket_row

TICKETS = """query Tickets($n: Int!) { tickets(first: $n) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id number title assignee { name email } object { name } } } } }"""


def thin_count() -> int:
    return STATS["thin http path"]


def app_client(settings, **changes) -> httpx.AsyncClient:
    app = create_app(replace(settings, **changes), manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test")


async def portal(settings):
    customer = await make_customer("Stadtwerke")
    site = await make_site_object(customer, "Rathaus")
    kind = await make_ticket_type("Reinigungsmangel", enabled_for=[customer])
    staff = await make_employee(settings, name="Jonas Weber")
    user = await make_customer_user(settings, customer, objects=[site], name="Alice")
    for i in range(3):
        await make_ticket_row(site, kind, f"Ticket {i}", by=user, assignee=staff)
    return staff, user


def post(http: httpx.AsyncClient, query: str, variables=None, token=None, **headers):
    if token:
        headers["authorization"] = f"Bearer {token}"
    return http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def same_headers(a: httpx.Response, b: httpx.Response) -> None:
    assert {k: v for k, v in a.headers.items() if k != "x-request-id"} == {
        k: v for k, v in b.headers.items() if k != "x-request-id"
    }
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


async def test_a_repeated_query_takes_the_thin_path_and_answers_byte_for_byte_the_same(client, settings):
    staff, _ = await portal(settings)
    query = "query Tickets($n: Int!) { tickets(first: $n) { totalCount edges { cursor node { id title } } } }"
    before = thin_count()
    first = await post(client, query, {"n": 2}, staff.token)
    assert thin_count() == before  # the ordinary path settles the document
    second = await post(client, query, {"n": 2}, staff.token)
    assert thin_count() == before + 1
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(second.json()["data"]["tickets"]["edges"]) == 2
    same_headers(first, second)
    # Other variables, same document: still the thin path, and the page follows them.
    third = await post(client, query, {"n": 3}, staff.token)
    assert thin_count() == before + 2 and len(third.json()["data"]["tickets"]["edges"]) == 3


async def test_token_rules_hold_on_a_settled_document(client, settings):
    staff, _ = await portal(settings)
    await post(client, TICKETS, {"n": 2}, staff.token)
    before = thin_count()
    refused = await post(client, TICKETS, {"n": 2}, "not-a-token")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    anonymous = await post(client, TICKETS, {"n": 2})
    assert anonymous.json()["data"] is None
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert thin_count() == before


async def test_refused_fields_and_failures_answer_as_the_ordinary_path_does(client, settings, monkeypatch, caplog):
    _, user = await portal(settings)
    # A customer user may not read the assignee's email: FORBIDDEN at each path, the rest intact.
    first = await post(client, TICKETS, {"n": 3}, user.token)
    before = thin_count()
    second = await post(client, TICKETS, {"n": 3}, user.token)
    assert thin_count() == before  # a result with errors is answered by the ordinary path
    assert first.content == second.content
    errors = second.json()["errors"]
    assert len(errors) == 3 and {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
    assert [e["node"]["assignee"] for e in second.json()["data"]["tickets"]["edges"]] == [
        {"name": "Jonas Weber", "email": None}
    ] * 3

    # A settled document whose resolver fails: masked, with the request id, logged once.
    query = "{ tickets(first: 1) { totalCount } }"
    await post(client, query, token=user.token)
    from resolvers import tickets

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tickets, "ticket_page", broken)
    caplog.clear()
    failed = await post(client, query, token=user.token)
    error = failed.json()["errors"][0]
    assert error["message"] == "Internal server error." and "secret internals" not in failed.text
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": failed.headers["x-request-id"]}
    logged = [r for r in caplog.records if failed.headers["x-request-id"] in r.getMessage()]
    assert len(logged) == 1


async def test_the_cost_limit_is_checked_again_for_each_request(settings):
    staff, _ = await portal(settings)
    query = """query Deep($n: Int!) { tickets(first: $n) { edges { node { title
      comments(first: $n) { edges { node { body } } } } } } }"""
    async with app_client(settings, max_query_cost=2000) as http:
        small = await post(http, query, {"n": 2}, staff.token)
        assert "errors" not in small.json()
        await post(http, query, {"n": 2}, staff.token)  # settled: thin
        before = thin_count()
        big = await post(http, query, {"n": 100}, staff.token)
    assert big.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert big.json()["data"] is None
    assert thin_count() == before


async def test_a_document_settled_in_one_app_is_checked_again_in_an_app_with_stricter_limits(settings):
    staff, _ = await portal(settings)
    query = "{ tickets(first: 1) { edges { node { object { tickets(first: 1) { edges { node { title } } } } } } } }"
    async with app_client(settings) as lenient:
        for _ in range(2):
            assert "errors" not in (await post(lenient, query, token=staff.token)).json()
    async with app_client(settings, max_query_depth=4) as strict:
        for _ in range(2):
            body = (await post(strict, query, token=staff.token)).json()
            assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP" and body.get("data") is None


async def test_cors_body_limit_and_request_ids_wrap_the_thin_path(settings):
    staff, _ = await portal(settings)
    query = "{ tickets(first: 1) { totalCount } }"
    origin = {"origin": "https://portal.example"}
    async with app_client(settings, cors_origins=("https://portal.example",)) as http:
        first = await post(http, query, token=staff.token, **origin)
        before = thin_count()
        second = await post(http, query, token=staff.token, **origin)
        assert thin_count() == before + 1
        same_headers(first, second)
        assert second.headers["access-control-allow-origin"] == "https://portal.example"
        foreign = await post(http, query, token=staff.token, origin="https://evil.example")
        assert "access-control-allow-origin" not in foreign.headers
        padded = await post(http, query, {"pad": "x" * (settings.max_body_bytes + 10)}, staff.token, **origin)
        assert padded.status_code == 413
        assert padded.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "change",
    [
        {"headers": {"accept": "text/event-stream"}},
        {"headers": {"accept": "application/graphql-response+json"}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
    ],
)
async def test_other_media_types_and_extensions_take_the_ordinary_path(client, settings, change):
    staff, _ = await portal(settings)
    query = "{ tickets(first: 1) { totalCount } }"
    await post(client, query, token=staff.token)
    before = thin_count()
    body = {"query": query, **({"extensions": change["extensions"]} if "extensions" in change else {})}
    headers = {"authorization": f"Bearer {staff.token}", **change.get("headers", {})}
    await client.post("/graphql", json=body, headers=headers)
    assert thin_count() == before


async def test_mutations_never_take_the_thin_path(client, settings):
    admin = await make_employee(settings, admin=True)
    mutation = "mutation New($name: String!) { createTicketType(input: {name: $name}) { id name } }"
    before = thin_count()
    names = []
    for i in range(3):
        response = await post(client, mutation, {"name": f"Art {i}"}, admin.token)
        names.append(response.json()["data"]["createTicketType"]["name"])
    assert names == ["Art 0", "Art 1", "Art 2"]
    assert thin_count() == before


async def test_trusted_documents_keep_every_request_on_the_ordinary_path(settings, tmp_path):
    # Trusted documents are decided per viewer (server/persisted.py): a document settled for one
    # viewer must never run on the thin path for another, so the path is off while they are set.
    staff, _ = await portal(settings)
    query = "query Titles { tickets(first: 2) { edges { node { title } } } }"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": hashlib.sha256(query.encode()).hexdigest(), "name": "Titles", "type": "query", "body": query}
                ],
            }
        )
    )
    async with app_client(settings, trusted_documents=manifest) as http:
        before = thin_count()
        answers = [await post(http, query, token=staff.token) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert len(answers[-1].json()["data"]["tickets"]["edges"]) == 2
        assert thin_count() == before


def test_the_estimate_is_remembered_by_the_page_sizes_it_reads():
    from graphql import parse

    from execution.schema import schema
    from execution.settled import Settled
    from schema.limits import cost_variables, query_cost

    document = parse(
        """query($id: ID!, $n: Int!) { node(id: $id) { ... on Ticket { title ...more } } }
        fragment more on Ticket { comments(first: $n) { edges { node { body } } } }"""
    )
    operation = document.definitions[0]
    assert cost_variables(document) == ("n",)  # in a fragment too; the id is not read
    settled = Settled(document, operation, None, None, cost_variables(document))
    graphql_schema = schema._schema

    def fresh(variables):
        return query_cost(graphql_schema, document, operation, variables)

    assert settled.cost_of(graphql_schema, {"id": "a", "n": 2}) == fresh({"n": 2})
    assert settled.cost_of(graphql_schema, {"id": "b", "n": 2}) == fresh({"n": 2})
    assert len(settled.costs) == 1  # another ticket, the same estimate
    assert settled.cost_of(graphql_schema, {"id": "a", "n": 90}) == fresh({"n": 90}) > fresh({"n": 2})
    # 2.0 equals 2 as a key, not as a page size; an unhashable value is estimated and not kept.
    assert settled.cost_of(graphql_schema, {"id": "a", "n": 2.0}) == fresh({"n": 2.0})
    assert settled.cost_of(graphql_schema, {"id": "a", "n": [2]}) == fresh({"n": [2]})
    assert len(settled.costs) == 3
