"""Query limits: each refused before execution with its own code, each configurable."""

from __future__ import annotations

from dataclasses import replace

from graphql import get_introspection_query

from core.settings import settings_from_env
from models.tickets import Ticket
from tests.conftest import GraphQLClient
from tests.hardening.conftest import app_client


def nested(levels: int) -> str:
    """A query `levels` deep: tickets → edges → node → object → tickets → …"""
    inner = "title"
    depth = 1
    while depth + 4 <= levels:
        inner = f"object {{ tickets(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
        depth += 4
    query = f"tickets(first: 1) {{ edges {{ node {{ {inner} }} }} }}"
    return "{ " + query + " }"


async def post(gql: GraphQLClient, query: str, variables=None) -> dict:
    return await gql(query, variables)


async def test_depth_limit(world, tickets):
    admin = world.as_(world.admin)
    assert not (await admin(nested(12))).get("errors")
    body = await admin(nested(16))
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 12}


async def test_depth_counts_through_fragments_and_introspection(world, tickets):
    admin = world.as_(world.admin)
    query = """fragment T on Ticket { object { tickets { edges { node { object { tickets { edges {
      node { object { tickets { edges { node { title } } } } } } } } } } } } }
    { tickets { edges { node { ...T } } } }"""
    assert await admin.error_code(query) == "QUERY_TOO_DEEP"
    cyclic = '{ __type(name: "Ticket") { ' + "fields { type { " * 9 + "name" + " } }" * 9 + " } }"
    assert await admin.error_code(cyclic) == "QUERY_TOO_DEEP"
    # GraphiQL's own introspection query (depth 15) still works in development.
    assert not (await admin(get_introspection_query(descriptions=True))).get("errors")


async def test_alias_limit(world):
    admin = world.as_(world.admin)
    ok = "{ " + " ".join(f"a{i}: me {{ name }}" for i in range(30)) + " }"
    assert not (await admin(ok)).get("errors")
    flood = "{ " + " ".join(f"a{i}: me {{ name }}" for i in range(31)) + " }"
    body = await admin(flood)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "TOO_MANY_ALIASES", "limit": 30}


async def test_token_limit(world):
    admin = world.as_(world.admin)
    long_query = "{ me { " + "name " * 2100 + "} }"
    body = await admin(long_query)
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_TOKENS"
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_mutation_limit_runs_none_of_them(world):
    admin = world.as_(world.admin)
    mutation = (
        "mutation { "
        + " ".join(
            f'm{i}: createTicket(input: {{objectId: "{_gid("SiteObject", world.a1.id)}", '
            f'ticketTypeId: "{_gid("TicketType", world.defect.id)}", title: "t{i}"}}) {{ number }}'
            for i in range(6)
        )
        + " }"
    )
    before = await Ticket.all().count()
    body = await admin(mutation)
    assert body["errors"][0]["extensions"] == {"code": "TOO_MANY_MUTATIONS", "limit": 5}
    assert await Ticket.all().count() == before


async def test_cost_budget_reads_first_and_variables(world, tickets):
    admin = world.as_(world.admin)
    query = """query($n: Int) { objects(first: $n) { edges { node { name address
      tickets(first: $n) { edges { node { number title status
        comments(first: $n) { edges { node { body } } } } } } } } } }"""
    assert not (await admin(query, {"n": 10})).get("errors")
    body = await admin(query, {"n": 100})
    error = body["errors"][0]
    assert body["data"] is None
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == 50000 and error["extensions"]["cost"] > 50000


async def test_first_over_100_is_bad_input_not_a_cost_error(world):
    admin = world.as_(world.admin)
    body = await admin("{ tickets(first: 5000) { edges { node { title } } } }")
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


async def test_batching_is_refused_clearly(client, world):
    response = await client.post(
        "/graphql", json=[{"query": "{ me { name } }"}] * 2, headers={"authorization": f"Bearer {world.admin.token}"}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"
    assert "one operation per request" in error["message"]


async def test_limits_are_configurable(world, settings):
    tight = replace(settings, max_query_depth=3, max_aliases=1, max_query_cost=5, max_mutations=1)
    async with app_client(tight) as http:
        gql = GraphQLClient(http, world.admin.token)
        assert (await gql("{ tickets { edges { node { title } } } }"))["errors"][0]["extensions"][
            "code"
        ] == "QUERY_TOO_DEEP"
        assert await gql.error_code("{ a: me { name } b: me { name } }") == "TOO_MANY_ALIASES"
        assert await gql.error_code("{ tickets(first: 5) { totalCount edges { cursor } } }") == "QUERY_TOO_COMPLEX"
        assert (await gql.ok("{ me { name } }"))["me"]["name"] == "Admin"


def test_limit_settings_from_environment():
    defaults = settings_from_env({})
    assert (
        defaults.max_query_depth,
        defaults.max_aliases,
        defaults.max_tokens,
        defaults.max_query_cost,
        defaults.max_mutations,
    ) == (12, 30, 2000, 50000, 5)
    assert defaults.introspection and defaults.graphiql
    parsed = settings_from_env(
        {
            "SITEDESK_MAX_QUERY_DEPTH": "8",
            "SITEDESK_MAX_ALIASES": "4",
            "SITEDESK_MAX_TOKENS": "500",
            "SITEDESK_MAX_QUERY_COST": "99",
            "SITEDESK_MAX_MUTATIONS": "2",
        }
    )
    assert (
        parsed.max_query_depth,
        parsed.max_aliases,
        parsed.max_tokens,
        parsed.max_query_cost,
        parsed.max_mutations,
    ) == (8, 4, 500, 99, 2)
    production = settings_from_env({"SITEDESK_ENV": "production", "SITEDESK_SECRET_KEY": "k" * 40})
    assert not production.introspection and not production.graphiql
    opened = settings_from_env(
        {
            "SITEDESK_ENV": "production",
            "SITEDESK_SECRET_KEY": "k" * 40,
            "SITEDESK_INTROSPECTION": "true",
            "SITEDESK_GRAPHIQL": "true",
        }
    )
    assert opened.introspection and opened.graphiql


async def test_production_turns_introspection_and_graphiql_off(world, settings):
    production = replace(settings, env="production", introspection=False, graphiql=False)
    async with app_client(production) as http:
        gql = GraphQLClient(http, world.admin.token)
        body = await gql("{ __schema { types { name } } }")
        assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        assert (await gql('{ __type(name: "Ticket") { name } }'))["errors"][0]["extensions"][
            "code"
        ] == "INTROSPECTION_DISABLED"
        assert (await gql.ok("{ me { __typename name } }"))["me"]["__typename"] == "Employee"
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()
    switched_on = replace(production, introspection=True)
    async with app_client(switched_on) as http:
        gql = GraphQLClient(http, world.admin.token)
        assert (await gql.ok("{ __schema { queryType { name } } }"))["__schema"]["queryType"]["name"] == "Query"


async def test_no_field_suggestions(world):
    body = await world.as_(world.alice)("{ tickets { edges { node { histor } } } }")
    assert "Did you mean" not in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def _gid(kind: str, pk: int) -> str:
    from core.ids import to_global_id

    return to_global_id(kind, pk)


async def test_syntax_errors_carry_a_code(world):
    body = await world.as_(world.alice)("{ me { ")
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


def test_cost_multiplies_first_through_nesting():
    from graphql import parse

    from execution.schema import schema
    from schema.limits import query_cost

    document = parse("""query($n: Int) { tickets(first: $n) { totalCount edges { node { title
      comments(first: 10) { edges { node { body } } } } } } me { name } }""")
    operation = document.definitions[0]

    # tickets 1; inside it (× n) totalCount edges node title comments; inside comments
    # (× 10n) edges node body; me 1, name 1
    def expected(n):
        return 1 + 5 * n + 30 * n + 2

    assert query_cost(schema._schema, document, operation, {"n": 7}) == expected(7)
    assert query_cost(schema._schema, document, operation, {}) == expected(20)
    assert query_cost(schema._schema, document, operation, {"n": 10**6}) == expected(100)
