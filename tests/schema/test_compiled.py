"""The compiled execution path answers as graphql-core's executor does, shape by shape.

A small schema built for the test (interfaces, unions, lists, enums, inputs,
sync and async resolvers, DataLoaders, failing and wrongly typed resolvers,
policies) and documents that exercise one executor feature each; every
document runs on both paths and the JSON of data and errors must match.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Annotated

import orjson
import pytest
import strawberry
from strawberry.dataloader import DataLoader

from core.errors import BadUserInput
from core.settings import settings_from_env
from execution import STATS, CompiledExecution, compare
from execution.schema import SitedeskSchema
from models.accounts import AccountKind
from permissions.policy import ANYONE, EMPLOYEES, SIGNED_IN
from permissions.viewer import ANONYMOUS, Viewer
from schema.context import Context
from schema.directive import enforce_policies, field, mutation, type_policy

EMPLOYEE = Viewer(account_id=1, kind=AccountKind.EMPLOYEE)
CUSTOMER = Viewer(account_id=2, kind=AccountKind.CUSTOMER_USER)
LOADS: list[list[int]] = []


@strawberry.enum
class Mood(Enum):
    HAPPY = "happy"
    GRUMPY = "grumpy"


@strawberry.interface
class Named:
    name: str


@strawberry.type(directives=type_policy(SIGNED_IN))
class Dog(Named):
    name: str
    mood: Mood
    secret: str = field(policy=EMPLOYEES, default="bone")

    @field(policy=SIGNED_IN)
    def fails(self) -> str | None:
        raise BadUserInput("no such thing", field="fails")

    @field(policy=SIGNED_IN)
    def fails_hard(self) -> str:
        raise RuntimeError("unexpected")

    @field(policy=SIGNED_IN)
    def nothing(self) -> str:
        return None  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    async def friend(self, info: strawberry.Info) -> Cat | None:
        lives = await info.context.loader("lives", lambda: DataLoader(load_lives)).load(len(self.name))
        return Cat(name=f"friend of {self.name}", lives=lives)

    @field(policy=SIGNED_IN)
    def later(self, info: strawberry.Info) -> int:
        return info.context.loader("lives", lambda: DataLoader(load_lives)).load(len(self.name))

    @field(policy=SIGNED_IN)
    def huge(self) -> int:
        return 2**40

    @field(policy=SIGNED_IN)
    def number_as_text(self) -> str:
        return 7  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def bad_mood(self) -> Mood:
        return "sad"  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def not_a_list(self) -> list[int]:
        return 5  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def error_value(self) -> str | None:
        return ValueError("returned, not raised")  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def wrong_type(self) -> Cat | None:
        return Dog(name="imposter", mood=Mood.HAPPY)  # type: ignore[return-value]

    @field(policy=SIGNED_IN)
    def strict_items(self) -> list[Cat] | None:
        return [Cat(name="a", lives=1), None, Cat(name="c", lives=3)]  # type: ignore[list-item]

    @field(policy=SIGNED_IN)
    def loose_items(self) -> list[Cat | None]:
        return [Cat(name="a", lives=1), None]


@strawberry.type(directives=type_policy(SIGNED_IN))
class Cat(Named):
    name: str
    lives: int

    @field(policy=SIGNED_IN)
    def rival(self) -> Dog:
        return Dog(name=f"rival of {self.name}", mood=Mood.GRUMPY)


async def load_lives(keys: list[int]) -> list[int]:
    LOADS.append(keys)
    await asyncio.sleep(0)
    return [key + 1 for key in keys]


@strawberry.input
class Filter:
    moods: list[Mood] = strawberry.field(default_factory=lambda: [Mood.HAPPY])
    prefix: str | None = None
    nested: Filter | None = None


Pet = Annotated[Dog | Cat, strawberry.union("Pet")]
NAMES = ["Rex", "Bello", "Fido"]


@strawberry.type
class Query:
    @field(policy=ANYONE)
    def pets(self, first: int = 3) -> list[Named]:
        pets = [Dog(name=n, mood=Mood.HAPPY) if i % 2 == 0 else Cat(name=n, lives=i) for i, n in enumerate(NAMES)]
        return pets[:first]

    @field(policy=ANYONE)
    async def search(self, filter: Filter | None = None) -> list[Pet]:  # type: ignore[valid-type]
        moods = filter.moods if filter else list(Mood)
        prefix = (filter.prefix if filter else None) or ""
        return [Dog(name=prefix + m.value, mood=m) for m in moods] + [Cat(name=prefix + "tom", lives=9)]

    @field(policy=ANYONE)
    def dog(self, name: str = "Rex") -> Dog:
        return Dog(name=name, mood=Mood.GRUMPY)

    @field(policy=SIGNED_IN)
    def signed_in_only(self) -> str:
        return "hello"

    @field(policy=EMPLOYEES)
    def staff_dog(self) -> Dog | None:
        return Dog(name="staff", mood=Mood.HAPPY)


ORDER: list[str] = []


@strawberry.type
class Mutation:
    @mutation(policy=ANYONE)
    async def rename(self, name: str) -> Dog:
        ORDER.append(name)
        await asyncio.sleep(0)
        return Dog(name=name, mood=Mood.HAPPY)

    @mutation(policy=EMPLOYEES)
    def staff_rename(self, name: str) -> Dog:
        ORDER.append("staff:" + name)
        return Dog(name=name, mood=Mood.GRUMPY)


def build() -> SitedeskSchema:
    schema = SitedeskSchema(query=Query, mutation=Mutation, types=[Dog, Cat])
    enforce_policies(schema)
    schema.compiled = CompiledExecution(schema)
    schema.compiled.compare = None  # these tests compare the two paths themselves
    return schema


SCHEMA = build()
SETTINGS = settings_from_env({})


async def answer(query: str, variables: dict | None, viewer: Viewer, compiled: bool) -> bytes:
    saved = SCHEMA.compiled
    SCHEMA.compiled = saved if compiled else None
    try:
        result = await SCHEMA.execute(
            query,
            variable_values=variables,
            context_value=Context(viewer=viewer, settings=SETTINGS, request_id="t"),
        )
    finally:
        SCHEMA.compiled = saved
    errors = [{**e.formatted, "original": type(e.original_error).__name__} for e in result.errors or ()]
    return orjson.dumps({"data": result.data, "errors": errors})


async def same_on_both(query: str, variables: dict | None = None, viewer: Viewer = EMPLOYEE) -> dict:
    LOADS.clear()
    compiled_before = STATS["compiled"]
    ours = await answer(query, variables, viewer, compiled=True)
    our_loads = list(LOADS)
    LOADS.clear()
    theirs = await answer(query, variables, viewer, compiled=False)
    assert ours == theirs
    assert our_loads == LOADS, "DataLoaders batch differently"
    assert STATS["compiled"] == compiled_before + 1, "the compiled path did not run"
    return orjson.loads(ours)


DOCUMENTS = {
    "interface list with fragments": "{ pets { __typename name ... on Dog { mood } ... on Cat { lives } } }",
    "union with typed fragments": "{ search { __typename ... on Dog { name mood } ... on Cat { name lives } } }",
    "named fragments and nesting": """query { pets(first: 2) { ...N } dog { ...D friend { ...N rival { ...D } } } }
        fragment N on Named { name ... on Cat { lives } }  fragment D on Dog { name mood }""",
    "aliases and the same field twice": (
        '{ a: dog(name: "A") { name } b: dog(name: "B") { n: name mood } dog { name } }'
    ),
    "typename at the root": "{ __typename dog { __typename } }",
    "error in a nullable field": "{ dog { name fails } }",
    "unexpected error, masked": "{ dog { name failsHard } }",
    "null in a non-null field propagates": "{ pets { name } dog { name nothing } }",
    "non-null root error nulls the data": "{ dog { failsHard } }",
    "leaf coercion errors": "{ dog { huge } }",
    "int as string, bad enum value": "{ dog { numberAsText badMood } }",
    "not a list": "{ dog { notAList } }",
    "error returned as a value": "{ dog { errorValue } }",
    "object of the wrong type": "{ dog { wrongType { name } } }",
    "null item in a non-null list": "{ dog { strictItems { name } looseItems { name } } }",
    "async resolver and DataLoader batching": "{ pets { ... on Dog { friend { name lives } later } } }",
    "awaitable from a sync resolver": "{ dog { later friend { rival { later } } } }",
    "refused fields": "{ dog { name secret } staffDog { name } }",
    "refused root field": "{ signedInOnly }",
    "input objects, defaults, enums": """{ search(filter: {moods: [GRUMPY, HAPPY], prefix: "x",
        nested: {prefix: "y"}}) { ... on Dog { name mood } } }""",
    "input default applied": "{ search(filter: {}) { __typename ... on Dog { mood } } }",
}


@pytest.mark.parametrize("viewer", [EMPLOYEE, CUSTOMER, ANONYMOUS], ids=["employee", "customer", "anonymous"])
@pytest.mark.parametrize("query", DOCUMENTS.values(), ids=DOCUMENTS.keys())
async def test_each_shape_answers_as_graphql_core(query, viewer):
    await same_on_both(query, viewer=viewer)


VARIABLES = """query($n: Int!, $show: Boolean!, $hide: Boolean = false, $f: Filter, $name: String) {
  pets(first: $n) { name ... on Dog @include(if: $show) { mood } ... on Cat @skip(if: $hide) { lives } }
  search(filter: $f) { ... on Dog { name @skip(if: $hide) mood } }
  dog(name: $name) @include(if: $show) { name }
}"""


@pytest.mark.parametrize(
    "variables",
    [
        {
            "n": 3,
            "show": True,
            "f": {"moods": ["GRUMPY"], "prefix": "v"},
            "name": "Var",
        },
        {"n": 1, "show": False, "hide": True, "f": None},
        {"n": 2, "show": True, "hide": True},
        {"n": 2, "show": False, "f": {"nested": {"moods": []}}},
    ],
)
async def test_variables_and_directives_answer_as_graphql_core(variables):
    await same_on_both(VARIABLES, variables)


async def test_variable_errors_are_graphql_cores():
    ours = await answer(VARIABLES, {"n": "three", "show": True}, EMPLOYEE, compiled=True)
    assert ours == await answer(VARIABLES, {"n": "three", "show": True}, EMPLOYEE, compiled=False)
    assert b"has invalid value" in ours


async def test_mutations_run_serially_and_their_selections_complete_alike():
    query = """mutation { first: rename(name: "one") { name mood } second: staffRename(name: "two") { name }
                          third: rename(name: "three") { friend { name } } }"""
    for viewer in (EMPLOYEE, CUSTOMER):
        ORDER.clear()
        data = await same_on_both(query, viewer=viewer)
        half = len(ORDER) // 2
        assert ORDER[:half] == ORDER[half:]
        if viewer is EMPLOYEE:
            assert ORDER[:half] == ["one", "staff:two", "three"]
            assert data["data"]["first"]["name"] == "one"
        else:  # the refused non-null field ends the operation: "third" never runs
            assert ORDER[:half] == ["one"]
            assert data["data"] is None


async def test_introspection_falls_back_to_graphql_core_and_is_counted():
    before = STATS["fallback: introspection"]
    result = await SCHEMA.execute(
        "{ __schema { queryType { name } } }",
        context_value=Context(viewer=EMPLOYEE, settings=SETTINGS, request_id="t"),
    )
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}
    assert STATS["fallback: introspection"] == before + 1


async def test_a_plan_is_compiled_once_per_document_and_directive_values():
    query = "query($s: Boolean!) { dog { name @include(if: $s) mood } }"
    before = STATS["compiles"]
    for show in (True, False, True, False):
        await same_on_both(query, {"s": show})
    assert STATS["compiles"] == before + 2


async def test_the_comparison_mode_fails_a_request_whose_answers_differ(monkeypatch):
    execution = CompiledExecution(SCHEMA)
    execution.compare = compare.Comparison()
    monkeypatch.setattr(SCHEMA, "compiled", execution)
    seen = len(compare.MISMATCHES)
    for query in (
        "{ dog { name mood } }",
        'mutation { rename(name: "x") { name mood } }',
    ):
        context = Context(viewer=EMPLOYEE, settings=SETTINGS, request_id="t")
        assert not (await SCHEMA.execute(query, context_value=context)).errors
        [plans] = [p for (text, _), p in execution.plans.items() if text == query]
        [plan] = plans.variants.values()
        generated = (plan.root or plan.serial[0].execute).__globals__
        for name in [n for n in generated if n.startswith("EM")]:
            generated[name] = {member: "WRONG" for member in generated[name]}  # a broken plan
        result = await SCHEMA.execute(
            query,
            context_value=Context(viewer=EMPLOYEE, settings=SETTINGS, request_id="t"),
        )
        assert result.errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"  # the request fails
    assert len(compare.MISMATCHES) == seen + 2
    assert '"mood":"WRONG"' in compare.MISMATCHES[-2] and '"mood":"GRUMPY"' in compare.MISMATCHES[-2]
    assert "mutation field rename" in compare.MISMATCHES[-1] and '"mood":"HAPPY"' in compare.MISMATCHES[-1]
    del compare.MISMATCHES[seen:]  # expected here: not a failure of this test


def test_errors_racing_a_propagating_error_are_the_only_tolerated_difference():
    # graphql-core on its own reports the orphan about once in 300 runs of `{ slow { bad } boom }`
    # (slow awaiting a thread, boom non-null and failing): both answers are graphql-core's.
    propagating = {"message": "refused", "path": ["a15"]}
    orphan = {"message": "refused", "path": ["a8", "a7"]}
    with_orphan = orjson.dumps({"data": None, "errors": [orphan, propagating]})
    assert compare.same(with_orphan, orjson.dumps({"data": None, "errors": [propagating]}))
    assert not compare.same(with_orphan, orjson.dumps({"data": None, "errors": [orphan]}))
    own = {"data": {"dog": {"fails": None}}, "errors": [{"message": "no", "path": ["dog", "fails"]}]}
    assert not compare.same(orjson.dumps(own), orjson.dumps({**own, "errors": []}))
