"""The policy directive: every field declares one, and each refuses whom it must.

The role × operation matrix is derived from the declarations themselves, so a
new operation is covered the moment it is added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    ObjectTypeDefinitionNode,
    Undefined,
    get_named_type,
    is_leaf_type,
    parse,
)

from execution.schema import schema
from models.customers import Customer
from permissions.policy import Permission, refused_within
from schema.directive import effective_policy, field_policy, fields_without_policy, object_fields, object_policy
from tests.factories import make_customer_user, make_employee

ALL_PERMISSIONS = tuple(Permission)
SCALAR_SAMPLES = {
    "ID": "eA",
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Date": "2026-01-01",
    "DateTime": "2026-01-01T00:00:00+00:00",
}


def test_every_field_has_a_policy():
    missing = fields_without_policy(schema)
    assert missing == [], "fields without a @policy on themselves or their type:\n" + "\n".join(missing)


def narrower_fields_that_are_non_null(checked: strawberry.Schema) -> list[str]:
    """`Type.field (refused: …)` for each non-null field whose policy refuses a viewer its type's policy admits.

    Root types carry no type policy and are not compared: a refused root field is the request's refusal.
    """
    offending = []
    for graphql_type, name, graphql_field in object_fields(checked):
        own, of_type = field_policy(graphql_field), object_policy(graphql_type)
        if own is None or of_type is None or not isinstance(graphql_field.type, GraphQLNonNull):
            continue
        refused = refused_within(own, of_type)
        if refused:
            more = f" and {len(refused) - 2} more" if len(refused) > 2 else ""
            offending.append(f"{graphql_type.name}.{name} (refused: {', '.join(refused[:2])}{more})")
    return offending


def test_a_field_refused_to_some_viewers_of_its_type_is_nullable():
    """Refused, such a field is null with its error and leaves its parent standing (API.md, "Refused fields")."""
    offending = narrower_fields_that_are_non_null(schema)
    assert offending == [], "make these fields nullable:\n" + "\n".join(offending)


def test_schema_file_shows_a_policy_on_every_field_or_its_type():
    """Read `schema.graphql` as partners do: each field's rule must be visible there."""
    document = parse((Path(__file__).parents[2] / "schema.graphql").read_text())
    missing = []
    for definition in document.definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode):
            continue
        type_has = any(d.name.value == "policy" for d in definition.directives or ())
        for field_node in definition.fields:
            if not type_has and not any(d.name.value == "policy" for d in field_node.directives or ()):
                missing.append(f"{definition.name.value}.{field_node.name.value}")
        if definition.name.value in {"Query", "Mutation"}:
            for field_node in definition.fields:
                assert any(d.name.value == "policy" for d in field_node.directives or ()), field_node.name.value
    assert missing == []


def test_policy_requirements_are_spelled_out_in_descriptions():
    for root in ("Query", "Mutation"):
        for name, graphql_field in schema._schema.type_map[root].fields.items():
            assert "Allowed for:" in (graphql_field.description or ""), f"{root}.{name}"


def sample_value(graphql_type: Any) -> Any:
    if isinstance(graphql_type, GraphQLNonNull):
        return sample_value(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return []
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {
            name: sample_value(f.type)
            for name, f in graphql_type.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        }
    assert isinstance(graphql_type, GraphQLScalarType)
    return None if graphql_type.name == "Upload" else SCALAR_SAMPLES[graphql_type.name]


def operation_for(root: str, name: str) -> tuple[str, dict[str, Any]]:
    """A minimal, valid request for one root field, with sample arguments."""
    graphql_field = schema._schema.type_map[root].fields[name]
    required = {arg_name: arg for arg_name, arg in graphql_field.args.items() if isinstance(arg.type, GraphQLNonNull)}
    definitions = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    arguments = ", ".join(f"{a}: ${a}" for a in required)
    selection = "" if is_leaf_type(get_named_type(graphql_field.type)) else " { __typename }"
    keyword = "mutation" if root == "Mutation" else "query"
    head = f"{keyword} Probe({definitions})" if definitions else f"{keyword} Probe"
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call}{selection} }}", {a: sample_value(arg.type) for a, arg in required.items()}


ROOT_FIELDS = [(root, name) for root in ("Query", "Mutation") for name in schema._schema.type_map[root].fields]


async def viewers(settings) -> dict[str, Any]:
    customer = await Customer.create(name="Probe AG")
    return {
        "anonymous": None,
        "customer user": await make_customer_user(settings, customer.id),
        "employee": await make_employee(settings),
        "employee with every permission": await make_employee(settings, permissions=ALL_PERMISSIONS),
        "system admin": await make_employee(settings, admin=True),
        "system admin with every permission": await make_employee(settings, admin=True, permissions=ALL_PERMISSIONS),
    }


@pytest.mark.parametrize(("root", "name"), ROOT_FIELDS, ids=[f"{r}.{n}" for r, n in ROOT_FIELDS])
async def test_root_field_refuses_every_role_its_policy_refuses(gql, settings, root, name):
    graphql_type: GraphQLObjectType = schema._schema.type_map[root]
    policy = effective_policy(graphql_type, graphql_type.fields[name])
    assert policy is not None
    query, variables = operation_for(root, name)
    for label, person in (await viewers(settings)).items():
        viewer = await _viewer(person)
        token = person.token if person else None
        uploads = [
            a
            for a, arg in schema._schema.type_map[root].fields[name].args.items()
            if get_named_type(arg.type).name == "Upload"
        ]
        if uploads:
            files = {f"variables.{a}": ("probe.txt", b"probe") for a in uploads}
            body = (await gql.upload(query, variables, files, token=token)).json()
        else:
            body = await gql(query, variables, token=token)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if policy.allows(viewer):
            if not policy.is_open:
                assert not {"UNAUTHENTICATED", "FORBIDDEN"} & set(codes), (label, body)
            continue
        expected = "UNAUTHENTICATED" if person is None else "FORBIDDEN"
        assert codes == [expected], f"{root}.{name} as {label}: {body}"
        assert body["data"] is None or body["data"].get(name) is None


async def _viewer(person):
    from permissions.viewer import ANONYMOUS, load_viewer

    if person is None:
        return ANONYMOUS
    return await load_viewer(person.account.id, person.account.token_version)
