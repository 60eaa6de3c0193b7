"""Read-only viewers (a read-only API token, an impersonation) are refused every mutation of the
schema — each one, found by walking the schema, so a mutation added later is covered too."""

from __future__ import annotations

import pytest

from tests.partners.helpers import (
    create_token,
    customer_user_id,
    employee_id,
    impersonation_token,
    mutation_documents,
    row_counts,
)

MUTATIONS = mutation_documents()


def test_the_walk_finds_the_mutations_of_the_schema():
    # A guard against a walk that finds nothing and so proves nothing.
    assert len(MUTATIONS) >= 30
    assert {"login", "createTicket", "addComment", "createApiToken", "impersonate", "revokeApiToken"} <= set(MUTATIONS)


@pytest.mark.parametrize("who", ["admin", "alice"])
async def test_a_read_only_token_is_refused_every_mutation(world, who):
    person = getattr(world, who)
    account = employee_id(person) if who == "admin" else customer_user_id(person)
    secret, _ = await create_token(world, account, readOnly=True)
    as_token = world.gql.as_viewer(secret)
    before = await row_counts()
    refused = {}
    for name, (document, variables) in MUTATIONS.items():
        body = await as_token(document, variables)
        refused[name] = [(e["extensions"], e.get("path")) for e in body.get("errors", [])]
        assert body.get("data") is None, (name, body)
    expected = {name: [({"code": "FORBIDDEN", "reason": "READ_ONLY_TOKEN"}, [name])] for name in MUTATIONS}
    assert refused == expected
    assert await row_counts() == before


async def test_an_impersonation_is_refused_every_mutation(world):
    token = await impersonation_token(world, world.alice)
    as_alice = world.gql.as_viewer(token)
    before = await row_counts()
    for name, (document, variables) in MUTATIONS.items():
        body = await as_alice(document, variables)
        assert body.get("data") is None, (name, body)
        assert [e["extensions"] for e in body["errors"]] == [
            {"code": "FORBIDDEN", "reason": "IMPERSONATION_READ_ONLY"}
        ], name
    assert await row_counts() == before


async def test_every_root_field_of_a_refused_operation_gets_its_error(world):
    secret, _ = await create_token(world, employee_id(world.admin), readOnly=True)
    body = await world.gql.as_viewer(secret)(
        'mutation { a: createCustomer(input: {name: "A"}) { id } b: createCustomer(input: {name: "B"}) { id } }'
    )
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["reason"]) for e in body["errors"]] == [
        (["a"], "READ_ONLY_TOKEN"),
        (["b"], "READ_ONLY_TOKEN"),
    ]


async def test_the_same_documents_run_for_a_full_token(world):
    # The control: the generated documents are real mutations that run when nothing refuses them.
    secret, _ = await create_token(world, employee_id(world.admin))
    as_token = world.gql.as_viewer(secret)
    for name in ("createPermissionGroup", "createCustomer", "createTicketType"):
        document, variables = MUTATIONS[name]
        assert (await as_token.ok(document, variables))[name]["__typename"]
