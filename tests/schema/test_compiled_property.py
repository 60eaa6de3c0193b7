"""Property: random valid queries answer identically on the compiled path and on graphql-core's.

hypothesis-graphql writes queries against the schema (arguments drawn from the
world's real IDs); each is then reshaped at random the ways clients write
queries and the generator does not (aliases, `__typename`, inline and named
fragments, @include/@skip on variables, arguments passed as variables) and
run as an administrator and as a customer user on a small seeded world,
in-process through `schema.execute`, once per path. The JSON of data and
errors must be identical (up to what two runs of graphql-core itself may
answer differently, see `execution.compare.same`).

Bounded for CI: `SITEDESK_COMPILED_EXAMPLES` examples (default 120) and at
most `SITEDESK_COMPILED_SECONDS` seconds (default 45) of generation.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import graphql
import hypothesis_graphql
import orjson
import pytest
from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse_type,
    visit,
)
from graphql.utilities import value_from_ast_untyped
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes as gql_nodes

from core.ids import to_global_id
from core.settings import Settings
from execution import STATS, compare
from execution.schema import schema, schema_sdl
from models.accounts import CustomerUser, Employee
from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import Attachment, Comment, Ticket, TicketType
from permissions.policy import Permission
from permissions.viewer import Viewer, load_viewer
from resolvers.tickets import add_comment, create_ticket
from schema.context import Context
from tests.factories import make_customer_user, make_employee

EXAMPLES = int(os.environ.get("SITEDESK_COMPILED_EXAMPLES", "120"))
SECONDS = float(os.environ.get("SITEDESK_COMPILED_SECONDS", "45"))


@dataclass
class World:
    admin: Viewer
    customer: Viewer
    ids: list[str]


async def viewer_of(person: Any) -> Viewer:
    viewer = await load_viewer(person.account.id, person.account.token_version)
    assert viewer is not None
    return viewer


@pytest.fixture
async def small_world(settings: Settings) -> World:
    """Two customers with an object and a user each, staff, tickets with public and internal comments."""
    a, b = await Customer.create(name="Stadtwerke"), await Customer.create(name="Kita")
    a1 = await SiteObject.create(customer=a, name="Rathaus", address="Markt 1")
    b1 = await SiteObject.create(customer=b, name="Kita Nord", address="Nordstr. 3")
    defect = await TicketType.create(name="Reinigungsmangel")
    await TicketType.create(name="Urlaub", is_absence_request=True)
    for customer in (a, b):
        await CustomerTicketType.create(customer=customer, ticket_type=defect)
    alice = await make_customer_user(settings, a.id, name="Alice")
    carl = await make_customer_user(settings, b.id, name="Carl")
    await CustomerUserObject.create(customer_user_id=alice.pk, object=a1)
    await CustomerUserObject.create(customer_user_id=carl.pk, object=b1)
    admin = await make_employee(settings, admin=True, permissions=tuple(Permission), name="Admin")
    staff = await make_employee(settings, name="Jonas Weber")
    for person, site, title in (
        (alice, a1, "Flur nicht gewischt"),
        (staff, a1, "Fenster streifig"),
        (carl, b1, "Sandkasten"),
        (staff, b1, "Turnhalle"),
    ):
        ticket = await create_ticket(
            await viewer_of(person),
            settings,
            object_id=site.id,
            ticket_type_id=defect.id,
            title=title,
            assignee_id=staff.pk if person is staff else None,
        )
        await add_comment(await viewer_of(staff), ticket.id, f"Intern zu {title}", True)
        await add_comment(await viewer_of(person), ticket.id, f"Öffentlich zu {title}", False)
    ids = []
    for model in (Customer, SiteObject, Ticket, Comment, Attachment, CustomerUser, Employee, TicketType):
        ids += [to_global_id(model.__name__, row.id) for row in await model.all()]
    return World(admin=await viewer_of(admin), customer=await viewer_of(alice), ids=sorted(ids))


class Reshape(Visitor):
    """Rewrites a generated query the ways clients write them; `rnd` decides each change."""

    def __init__(self, type_info: TypeInfo, rnd: random.Random) -> None:
        super().__init__()
        self.type_info = type_info
        self.rnd = rnd
        self.count = 0
        self.variables: dict[str, Any] = {}
        self.definitions: list[VariableDefinitionNode] = []
        self.fragments: list[FragmentDefinitionNode] = []

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def variable(self, type_text: str, value: Any) -> VariableNode:
        name = self.name("v")
        self.variables[name] = value
        node = VariableNode(name=NameNode(value=name))
        self.definitions.append(VariableDefinitionNode(variable=node, type=parse_type(type_text), directives=()))
        return node

    def leave_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
        input_type = self.type_info.get_input_type()
        if input_type is None or self.rnd.random() > 0.3:
            return None
        value = self.variable(str(input_type), value_from_ast_untyped(node.value))
        return ArgumentNode(name=node.name, value=value)

    def leave_field(self, node: FieldNode, *_: Any) -> FieldNode | None:
        alias, directives = node.alias, tuple(node.directives or ())
        if self.rnd.random() < 0.2:
            alias = NameNode(value=self.name("a"))
        if self.rnd.random() < 0.15:
            condition = self.variable("Boolean!", self.rnd.random() < 0.6)
            directives += (
                DirectiveNode(
                    name=NameNode(value=self.rnd.choice(["include", "skip"])),
                    arguments=(ArgumentNode(name=NameNode(value="if"), value=condition),),
                ),
            )
        if alias is node.alias and directives == tuple(node.directives or ()):
            return None
        return FieldNode(
            alias=alias,
            name=node.name,
            arguments=node.arguments,
            directives=directives,
            selection_set=node.selection_set,
        )

    def leave_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode | None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return None
        selections = list(node.selections)
        roll = self.rnd.random()
        if roll < 0.15:
            selections.append(FieldNode(name=NameNode(value="__typename")))
        elif roll < 0.3:
            condition = NamedTypeNode(name=NameNode(value=parent.name)) if self.rnd.random() < 0.7 else None
            selections = [
                InlineFragmentNode(
                    type_condition=condition,
                    directives=(),
                    selection_set=SelectionSetNode(selections=tuple(selections)),
                )
            ]
        elif roll < 0.45:
            name = self.name("F")
            self.fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=name),
                    type_condition=NamedTypeNode(name=NameNode(value=parent.name)),
                    directives=(),
                    selection_set=SelectionSetNode(selections=tuple(selections)),
                )
            )
            selections = [FragmentSpreadNode(name=NameNode(value=name), directives=())]
        else:
            return None
        return SelectionSetNode(selections=tuple(selections))


def reshaped(document: DocumentNode, rnd: random.Random) -> tuple[str, dict[str, Any]]:
    """The reshaped query and its variables (the generated one when reshaping broke validity)."""
    type_info = TypeInfo(schema._schema)
    reshape = Reshape(type_info, rnd)
    changed = visit(document, TypeInfoVisitor(type_info, reshape))
    operation = changed.definitions[0]
    operation = operation.__class__(
        **{**{k: getattr(operation, k) for k in operation.keys}, "variable_definitions": tuple(reshape.definitions)}
    )
    result = DocumentNode(definitions=(operation, *reshape.fragments))
    if graphql.validate(schema._schema, result):
        return graphql.print_ast(document), {}
    return graphql.print_ast(result), reshape.variables


async def answer(query: str, variables: dict[str, Any], viewer: Viewer, settings: Settings, compiled: bool) -> bytes:
    saved = schema.compiled
    schema.compiled = saved if compiled else None
    try:
        result = await schema.execute(
            query, variable_values=variables, context_value=Context(viewer=viewer, settings=settings, request_id="prop")
        )
    finally:
        schema.compiled = saved
    errors = [{**e.formatted, "original": type(e.original_error).__name__} for e in result.errors or ()]
    return orjson.dumps({"data": result.data, "errors": errors})


def queries(world: World) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    generated = hypothesis_graphql.queries(
        schema_sdl(),
        print_ast=lambda document: document,
        custom_scalars={
            "ID": st.sampled_from(world.ids).map(gql_nodes.String),
            "Date": st.dates().map(lambda d: gql_nodes.String(d.isoformat())),
            "DateTime": st.datetimes().map(lambda d: gql_nodes.String(d.isoformat() + "+00:00")),
        },
        allow_x00=False,
    )
    return st.tuples(generated, st.randoms(use_true_random=False)).map(lambda pair: reshaped(*pair))


async def test_random_queries_answer_identically_on_both_paths(small_world, settings):
    world = small_world
    loop = asyncio.get_running_loop()
    seen = {"examples": 0, "with errors": 0, "reshaped": 0}
    started = time.monotonic()

    async def both_paths(query: str, variables: dict[str, Any]) -> None:
        for viewer in (world.admin, world.customer):
            ours = await answer(query, variables, viewer, settings, compiled=True)
            theirs = await answer(query, variables, viewer, settings, compiled=False)
            assert compare.same(ours, theirs), (
                f"{query}\nvariables: {variables}\ncompiled:     {ours.decode()}\ngraphql-core: {theirs.decode()}"
            )
            seen["with errors"] += b'"errors":[]' not in ours

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(queries(world))
    def run(example: tuple[str, dict[str, Any]]) -> None:
        if time.monotonic() - started > SECONDS:
            return
        query, variables = example
        seen["examples"] += 1
        seen["reshaped"] += bool(variables) or "fragment" in query or "..." in query
        asyncio.run_coroutine_threadsafe(both_paths(query, variables), loop).result(timeout=60)

    compiled_before = STATS["compiled"]
    await loop.run_in_executor(None, run)
    print(
        f"\ncompiled against graphql-core on random queries: {seen}, "
        f"{time.monotonic() - started:.0f} s, {STATS['compiled'] - compiled_before} compiled runs"
    )
    assert seen["examples"] >= min(EXAMPLES, 20)
    assert STATS["compiled"] > compiled_before
