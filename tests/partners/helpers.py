"""Helpers for the partner tests: tokens made the way an administrator makes them, raw requests,
generated mutation documents and row counts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)
from graphql.pyutils import Undefined
from tortoise import Tortoise
from tortoise.connection import get_connection

from core.ids import to_global_id
from execution.schema import schema
from tests.conftest import World
from tests.factories import Person

CREATE_TOKEN = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id name prefix readOnly createdAt expiresAt lastUsedAt revokedAt
    account { __typename id name } } } }"""
REVOKE_TOKEN = "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }"
IMPERSONATE = """mutation($id: ID!) { impersonate(customerUserId: $id) {
  accessToken expiresAt customerUser { id name } } }"""


def employee_id(person: Person) -> str:
    return to_global_id("Employee", person.pk)


def customer_user_id(person: Person) -> str:
    return to_global_id("CustomerUser", person.pk)


async def create_token(world: World, account_id: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """(secret, apiToken) of a token the world's administrator creates for `account_id`."""
    data = await world.as_(world.admin).ok(
        CREATE_TOKEN, {"input": {"accountId": account_id, "name": fields.pop("name", "Integration"), **fields}}
    )
    payload = data["createApiToken"]
    return payload["token"], payload["apiToken"]


async def impersonation_token(world: World, person: Person) -> str:
    data = await world.as_(world.admin).ok(IMPERSONATE, {"id": customer_user_id(person)})
    token: str = data["impersonate"]["accessToken"]
    return token


async def post(
    http: httpx.AsyncClient, query: str, token: str | None, variables: dict[str, Any] | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


# ------------------------------------------------------------ every mutation of the schema

SCALAR_LITERALS = {
    "ID": '"QWNjb3VudDox"',
    "String": '"x"',
    "Int": "1",
    "Float": "1.0",
    "Boolean": "true",
    "Date": '"2026-01-01"',
    "DateTime": '"2026-01-01T00:00:00+00:00"',
    "JSON": "{}",
}


def _literal(type_: GraphQLInputType) -> str:
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return "[]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        required = [
            f"{name}: {_literal(f.type)}"
            for name, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        ]
        return "{" + ", ".join(required) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return SCALAR_LITERALS.get(type_.name, '"x"')


def mutation_documents() -> dict[str, tuple[str, dict[str, Any]]]:
    """For every mutation field of the schema: a valid document calling it with made-up required arguments.

    Upload arguments go in as variables (the value never matters: the refusal comes first).
    """
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    documents: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, graphql_field in mutation_type.fields.items():
        declared: list[str] = []
        variables: dict[str, Any] = {}
        arguments: list[str] = []
        for arg_name, arg in graphql_field.args.items():
            if not isinstance(arg.type, GraphQLNonNull):
                continue
            if get_named_type(arg.type).name == "Upload":
                declared.append(f"${arg_name}: {arg.type}")
                variables[arg_name] = None
                arguments.append(f"{arg_name}: ${arg_name}")
            else:
                arguments.append(f"{arg_name}: {_literal(arg.type)}")
        named = get_named_type(graphql_field.type)
        selection = (
            " { __typename }" if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType) else ""
        )
        head = f"mutation({', '.join(declared)})" if declared else "mutation"
        call = f"{name}({', '.join(arguments)})" if arguments else name
        documents[name] = (f"{head} {{ {call}{selection} }}", variables)
    return documents


async def row_counts() -> dict[str, int]:
    """Rows per table, but the token counters (every request with a token counts)."""
    connection = get_connection("default")
    counts = {}
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        if table == "api_token_usage":
            continue
        rows = await connection.execute_query_dict(f'SELECT COUNT(*) AS n FROM "{table}"')
        counts[table] = int(rows[0]["n"])
    return counts


async def fresh_minute() -> None:
    """Start a test's requests early in a clock minute, so that they all fall into one window."""
    second = time.time() % 60
    if second > 50:
        await asyncio.sleep(60.5 - second)
