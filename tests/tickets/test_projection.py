"""The ticket page reads what the query selects: only those columns, only those relations joined.

Scoping is unchanged (`visible_tickets`): a customer user's narrow page holds
exactly the tickets of their objects, and every projected page answers as
the full one does (the single-ticket lookup reads every column).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import strawberry

from core.ids import to_global_id
from execution.schema import schema
from models.tickets import Ticket as TicketModel
from resolvers.tickets.read import check_ticket_values, page_values
from schema.directive import DEFINITION_KEY
from schema.rows import columns, row_shape
from schema.tickets.preload import field_values
from schema.tickets.types import TICKET_ROW
from tests.factories import make_comment, make_ticket
from tests.statements import recording_statements


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL of the statements run inside the block."""
    with recording_statements() as recorder:
        seen: list[str] = []
        yield seen
    seen.extend(sql for sql, _ in recorder.statements)


def page_statement(seen: list[str]) -> str:
    found = [s for s in seen if "total_count" in s]
    assert len(found) == 1, seen
    return found[0]


def test_every_ticket_field_says_what_it_reads():
    # A field added to Ticket must say which columns it reads where it is declared (schema/rows.py):
    # a plain attribute is named after a column of the model, a resolver has `metadata=columns(...)`.
    # Unsaid, a page selecting it reads every column.
    graphql_fields = schema._schema.get_type("Ticket").fields.values()
    fields = [f.extensions[DEFINITION_KEY] for f in graphql_fields]
    assert len(fields) > 10
    unmapped = [f.python_name for f in fields if field_values(f) is None]
    assert not unmapped, f"Ticket fields that do not say which columns they read (schema.rows.columns): {unmapped}"
    assert {f.python_name for f in fields} == set(TICKET_ROW.reads)
    for f in fields:
        assert set(field_values(f)) <= set(TICKET_ROW.values), f.python_name


def test_a_field_that_does_not_say_what_it_reads_is_found():
    # The check above cannot pass by construction: a resolver without `columns(...)` and a plain attribute
    # that names no column are both unmapped.
    @strawberry.type
    class Probe:
        number: int
        nickname: str

        @strawberry.field
        def shout(self) -> str:
            return self.nickname.upper()

        @strawberry.field(metadata=columns("title"))
        def heading(self) -> str:
            return ""

    shape = row_shape(Probe, TicketModel)
    assert shape.reads == {"number": ("number",), "nickname": None, "shout": None, "heading": ("title",)}


def test_every_ticket_column_is_a_column_of_the_ticket_or_its_relations():
    assert check_ticket_values(TICKET_ROW.values) == TICKET_ROW.values
    with pytest.raises(ValueError):
        check_ticket_values(("id", "nickname"))


def test_page_values_keep_the_id_and_the_order_column_and_refuse_strangers():
    assert page_values(("title",), "DUE_DATE") == ("id", "title", "due_date")
    with pytest.raises(ValueError):
        page_values(("title", "password_hash"), "CREATED_AT")


async def portal_tickets(world):
    alice, staff = world.alice, world.staff
    mine = [
        await make_ticket(world.a1, world.defect, f"Alice {i}", by=alice, description="geheim?", assignee=staff)
        for i in range(3)
    ]
    others = [await make_ticket(world.b1, world.defect, "Kita", by=world.carl, description="nicht für Alice")]
    await make_comment(mine[0], staff, "intern", internal=True)
    return mine, others


NARROW = "{ tickets(first: 10) { totalCount edges { node { title } } } }"
FULL = """{ tickets(first: 10) { totalCount edges { cursor node { ...row } } } }
fragment row on Ticket { id number title description status source createdAt updatedAt doneAt dueDate
  object { id name address customer { id name } } ticketType { id name }
  ... on Ticket { assignee { id name } createdBy { id name } commentCount attachments { filename } } }"""
ONE = """query($id: ID!) { node(id: $id) { ...row } }
fragment row on Ticket { id number title description status source createdAt updatedAt doneAt dueDate
  object { id name address customer { id name } } ticketType { id name }
  ... on Ticket { assignee { id name } createdBy { id name } commentCount attachments { filename } } }"""


async def test_a_narrow_page_reads_the_selected_columns_only_and_stays_in_scope(world):
    mine, others = await portal_tickets(world)
    alice = world.as_(world.alice)
    with statements() as seen:
        data = await alice.ok(NARROW)
    assert data["tickets"]["totalCount"] == 3
    assert sorted(e["node"]["title"] for e in data["tickets"]["edges"]) == ["Alice 0", "Alice 1", "Alice 2"]
    sql = page_statement(seen)
    # The page reads the id, the title and the order column, and joins nothing (the scope inside is unchanged).
    columns, _, rest = sql.partition("(SELECT COUNT(*)")
    assert columns == 'SELECT "id" "id","title" "title","created_at" "created_at",', sql
    # The page's ids come from a subquery (on PostgreSQL read object by object: `core.partitioned`).
    page_ids = rest.split('"total_count" FROM "ticket" ', 1)[1]
    assert page_ids.startswith(('WHERE "id" IN (SELECT', 'WHERE "id" = ANY(')), sql
    assert "description" not in sql and 'JOIN "account"' not in sql


async def test_a_projected_page_answers_as_the_single_ticket_lookup_does(world):
    mine, others = await portal_tickets(world)
    for person, expected in ((world.alice, mine), (world.admin, mine + others)):
        client = world.as_(person)
        with statements() as seen:
            data = await client.ok(FULL)
        assert '"description" "description"' in page_statement(seen)
        nodes = [e["node"] for e in data["tickets"]["edges"]]
        assert data["tickets"]["totalCount"] == len(expected)
        assert {n["id"] for n in nodes} == {to_global_id("Ticket", t.id) for t in expected}
        for node in nodes:
            assert all(e["cursor"] for e in data["tickets"]["edges"])
            single = (await client.ok(ONE, {"id": node["id"]}))["node"]
            assert node == single
    # The customer user never counts the internal comment.
    alice_nodes = (await world.as_(world.alice).ok(FULL))["tickets"]["edges"]
    assert {e["node"]["commentCount"] for e in alice_nodes} == {0}


async def test_the_employee_fields_stay_refused_on_a_narrow_page(world):
    await portal_tickets(world)
    query = "{ tickets(first: 10) { edges { node { title assignee { name email } } } } }"
    body = await world.as_(world.alice)(query)
    assert body["errors"] and {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert all(e["node"]["assignee"]["email"] is None for e in body["data"]["tickets"]["edges"])
    assert all(e["node"]["assignee"]["name"] == "Jonas Weber" for e in body["data"]["tickets"]["edges"])
