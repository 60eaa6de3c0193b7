"""Pages of tokens and audit events run a fixed number of statements, and a request with an API
token costs a fixed few more than one with a session (`tests/statements.py`)."""

from __future__ import annotations

from tests.partners.helpers import create_token, customer_user_id, employee_id, fresh_minute
from tests.statements import count_statements

TOKENS = "{ apiTokens(first: 100) { totalCount edges { node { prefix account { __typename name } } } } }"
EVENTS = "{ auditEvents(first: 100) { totalCount edges { node { action actor { name } } } } }"


async def test_pages_do_not_grow_with_their_rows(world):
    admin = world.as_(world.admin)
    await create_token(world, employee_id(world.staff))
    small = (await count_statements(admin, TOKENS))[0], (await count_statements(admin, EVENTS))[0]
    for person in (world.alice, world.bob, world.carl):
        for _ in range(3):
            await create_token(world, customer_user_id(person))
    large_tokens, data = await count_statements(admin, TOKENS)
    large_events, _ = await count_statements(admin, EVENTS)
    assert data["apiTokens"]["totalCount"] == 10
    assert (large_tokens, large_events) == small
    print(f"\nstatements: apiTokens page {small[0]}, auditEvents page {small[1]} (1 or 10 tokens alike)")
    assert small[0] <= 6, small


async def test_a_token_request_costs_a_fixed_few_statements(world):
    secret, _ = await create_token(world, employee_id(world.staff))
    await fresh_minute()
    by_session, _ = await count_statements(world.as_(world.staff), "{ me { name } }")
    await count_statements(world.gql.as_viewer(secret), "{ me { name } }")  # the minute's first: stamps lastUsedAt
    by_token, _ = await count_statements(world.gql.as_viewer(secret), "{ me { name } }")
    # The token lookup and the counter's upsert.
    print(f"\nstatements for {{ me }}: session {by_session}, API token {by_token}")
    assert by_token == by_session + 2, (by_session, by_token)
