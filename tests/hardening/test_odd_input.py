"""Odd input gets a clear error, never a 500: deep JSON, NUL bytes, IDs beyond what a key column holds."""

from __future__ import annotations

import base64

import pytest

from core.ids import to_global_id
from tests.factories import make_employee


def _id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("depth", [100, 2_000, 100_000])
async def test_deeply_nested_variables_are_a_bad_request(client, depth):
    body = '{"query": "query($v: String) { me { name } }", "variables": {"v": ' + "[" * depth + "]" * depth + "}}"
    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_json_as_deep_as_a_real_client_sends_still_works(client):
    nested = "[" * 20 + "]" * 20
    body = '{"query": "{ me { name } }", "variables": {"v": ' + nested + "}}"
    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


@pytest.mark.parametrize(
    "request_body",
    [
        {
            "query": 'mutation($b: String!) { addComment(input: {ticketId: "x", body: $b}) { id } }',
            "variables": {"b": "a\u0000b"},
        },
        {"query": 'mutation { addComment(input: {ticketId: "x", body: "a\\u0000b"}) { id } }'},
        {"query": 'mutation { addComment(input: {ticketId: "x", body: "a\\u{0}b"}) { id } }'},
    ],
)
async def test_nul_characters_are_refused_before_anything_is_stored(client, settings, request_body):
    person = await make_employee(settings)
    response = await client.post("/graphql", json=request_body, headers={"Authorization": f"Bearer {person.token}"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("pk", [2**31, 2**63, 18446744073709551617, 10**40])
async def test_ids_beyond_a_key_column_are_simply_not_found(gql, settings, pk):
    person = await make_employee(settings)
    viewer = gql.as_viewer(person.token)
    assert await viewer.ok("query($id: ID!) { node(id: $id) { id } }", {"id": _id(f"Ticket:{pk}")}) == {"node": None}
    body = await viewer(
        'mutation($id: ID!) { addComment(input: {ticketId: $id, body: "hi"}) { id } }', {"id": _id(f"Ticket:{pk}")}
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_cursor_beyond_a_key_column_is_bad_input(gql, settings):
    person = await make_employee(settings)
    cursor = base64.urlsafe_b64encode(b"offset:18446744073709551617").decode()
    body = await gql.as_viewer(person.token)("query($a: String) { tickets(after: $a) { totalCount } }", {"a": cursor})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_largest_key_is_looked_up_normally(gql, settings):
    person = await make_employee(settings)
    found = await gql.as_viewer(person.token).ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Ticket", 2**31 - 1)}
    )
    assert found == {"node": None}
