"""Fuzzing, bounded: schemathesis against a running server as an administrator and as a
customer user, and a hypothesis-graphql property: whatever valid query a customer user
sends, no ID of another customer's rows (and no internal comment) comes back.

`SITEDESK_FUZZ_EXAMPLES` sets the examples per run (default 100); the counts of
every run are printed (`pytest -s`).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections import Counter
from typing import Any

import hypothesis_graphql
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes as gql_nodes
from schemathesis.graphql import nodes as st_nodes

from core.ids import to_global_id
from models.accounts import CustomerUser, Employee
from models.customers import Customer, SiteObject
from models.tickets import Attachment, Comment, Ticket, TicketType
from tests.hardening.servers import running_servers, server_env

EXAMPLES = int(os.environ.get("SITEDESK_FUZZ_EXAMPLES", "100"))
GLOBAL_ID = re.compile(r"^([A-Za-z]+):(\d+)$")

# Upload cannot travel in a JSON body: a null stands in (the server must refuse it cleanly).
schemathesis.graphql.scalar("Upload", st.just(st_nodes.Null))
schemathesis.graphql.scalar("Date", st.dates().map(lambda d: st_nodes.String(d.isoformat())))
schemathesis.graphql.scalar("DateTime", st.datetimes().map(lambda d: st_nodes.String(d.isoformat() + "+00:00")))


def fuzz_settings(examples: int):
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


def codes_of(response: requests.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    return [str((e.get("extensions") or {}).get("code")) for e in errors]


def schemathesis_run(url: str, token: str, examples: int) -> Counter:
    """Every operation of the schema, as one viewer; any 5xx, internal error or traceback fails."""
    headers = {"Authorization": f"Bearer {token}"}
    loaded = schemathesis.graphql.from_url(url + "/graphql", headers=headers)
    operations = [result.ok() for result in loaded.get_all_operations()]
    strategy = st.one_of([operation.as_strategy() for operation in operations])
    seen: Counter = Counter()

    @fuzz_settings(examples)
    @given(strategy)
    def run(case: Any) -> None:
        response = case.call(headers=headers, timeout=30)
        codes = codes_of(response)
        seen.update(codes or ["OK"])
        seen["examples"] += 1
        assert response.status_code < 500, (case.body, response.text[:500])
        assert "INTERNAL_SERVER_ERROR" not in codes, (case.body, response.text[:500])
        assert "Traceback" not in response.text, case.body

    run()
    seen["operations"] = len(operations)
    return seen


@pytest.fixture
def server(world, tickets, settings, tmp_path):
    with running_servers(server_env(settings), 1, tmp_path) as [running]:
        yield running
    assert "Traceback" not in running.output(), running.output()[-4000:]


def test_schemathesis_as_administrator(world, server):
    seen = schemathesis_run(server.url, world.admin.token, EXAMPLES)
    print(f"\nschemathesis as administrator: {dict(seen)}")
    assert seen["examples"] >= EXAMPLES // 2


def test_schemathesis_as_customer_user(world, server):
    seen = schemathesis_run(server.url, world.alice.token, EXAMPLES)
    print(f"\nschemathesis as customer user: {dict(seen)}")
    assert seen["examples"] >= EXAMPLES // 2


@pytest.fixture
async def foreign(world, tickets) -> dict[str, Any]:
    """Every ID in the world, and those a user of customer A must never see."""
    b_objects = [o.id for o in await SiteObject.filter(customer_id=world.b.id)]
    b_tickets = [t.id for t in await Ticket.filter(object_id__in=b_objects)]
    forbidden = {("Customer", world.b.id)} | {("SiteObject", pk) for pk in b_objects}
    forbidden |= {("Ticket", pk) for pk in b_tickets}
    forbidden |= {("Comment", c.id) for c in await Comment.filter(ticket_id__in=b_tickets)}
    forbidden |= {("Comment", c.id) for c in await Comment.filter(internal=True)}
    forbidden |= {("Attachment", a.id) for a in await Attachment.filter(ticket_id__in=b_tickets)}
    forbidden |= {("CustomerUser", u.id) for u in await CustomerUser.filter(customer_id=world.b.id)}
    every = set(forbidden)
    for model in (Customer, SiteObject, Ticket, Comment, Attachment, CustomerUser, Employee, TicketType):
        every |= {(model.__name__, row.id) for row in await model.all()}
    internal = [c.body for c in await Comment.filter(internal=True)]
    return {
        "forbidden": forbidden,
        "forbidden_ids": [to_global_id(kind, pk) for kind, pk in forbidden],
        "ids": sorted(to_global_id(kind, pk) for kind, pk in every),
        "internal": internal,
    }


def ids_in(value: Any) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= ids_in(item)
    elif isinstance(value, str):
        try:
            decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return found
        match = GLOBAL_ID.match(decoded)
        if match:
            found.add((match.group(1), int(match.group(2))))
    return found


CUSTOMER_ROLES = {"ANYONE", "SIGNED_IN", "CUSTOMER_USER"}


def customer_view() -> Any:
    """The schema without the fields and types whose @policy refuses customer users, so the
    generated queries reach deep instead of stopping at the first FORBIDDEN."""
    import graphql

    from execution.schema import schema_sdl

    def allowed(node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value == "policy":
                roles = next(a.value for a in directive.arguments if a.name.value == "roles")
                return bool({v.value for v in roles.values} & CUSTOMER_ROLES)
        return True

    document = graphql.parse(schema_sdl())
    refused = {
        d.name.value for d in document.definitions if isinstance(d, graphql.ObjectTypeDefinitionNode) and not allowed(d)
    }
    definitions = []
    for definition in document.definitions:
        if definition.kind in {"object_type_definition", "interface_type_definition"}:
            if definition.name.value in refused:
                continue
            fields = tuple(f for f in definition.fields if allowed(f) and _named(f.type) not in refused)
            definition = definition.__class__(
                **{**{k: getattr(definition, k) for k in definition.keys}, "fields": fields}
            )
        elif definition.kind == "union_type_definition":
            types = tuple(t for t in definition.types if t.name.value not in refused)
            definition = definition.__class__(
                **{**{k: getattr(definition, k) for k in definition.keys}, "types": types}
            )
        definitions.append(definition)
    return graphql.build_ast_schema(graphql.DocumentNode(definitions=tuple(definitions)))


def _named(type_node: Any) -> str:
    while not hasattr(type_node, "name"):
        type_node = type_node.type
    return type_node.name.value


def test_customer_user_never_receives_another_customers_ids(world, server, foreign):
    """Random valid queries (arguments drawn from every real ID, both customers') by a customer user."""
    strategy = hypothesis_graphql.queries(
        customer_view(),
        custom_scalars={
            "ID": st.sampled_from(foreign["ids"]).map(gql_nodes.String),
            "Date": st.dates().map(lambda d: gql_nodes.String(d.isoformat())),
            "DateTime": st.datetimes().map(lambda d: gql_nodes.String(d.isoformat() + "+00:00")),
        },
    )
    headers = {"Authorization": f"Bearer {world.alice.token}"}
    seen: Counter = Counter()
    session = requests.Session()

    @fuzz_settings(int(EXAMPLES * 1.5))
    @given(strategy)
    def run(query: str) -> None:
        response = session.post(server.url + "/graphql", json={"query": query}, headers=headers, timeout=30)
        assert response.status_code < 500, (query, response.text[:500])
        body = response.json()
        codes = codes_of(response)
        seen.update(codes or ["OK"])
        seen["examples"] += 1
        seen["ids returned"] += len(ids_in(body.get("data")))
        seen["queries naming a foreign id"] += any(gid in query for gid in foreign["forbidden_ids"])
        leaked = ids_in(body.get("data")) & foreign["forbidden"]
        assert not leaked, (query, leaked)
        assert not any(text in response.text for text in foreign["internal"]), query
        assert "INTERNAL_SERVER_ERROR" not in codes, (query, response.text[:500])

    run()
    session.close()
    print(f"\nhypothesis-graphql as customer user: {dict(seen)}")
    assert seen["examples"] >= EXAMPLES


def test_ids_are_found_anywhere_in_a_response():
    body = {
        "a": [{"id": to_global_id("Ticket", 3)}, {"x": "plain text", "n": 5}],
        "b": {"c": to_global_id("Customer", 12)},
    }
    assert ids_in(body) == {("Ticket", 3), ("Customer", 12)}
