"""`core.membership.in_subquery`: the shape of "one of" per dialect, and the same rows as `__in`."""

from __future__ import annotations

import pytest
from pypika_tortoise import PostgreSQLQuery, SQLLiteQuery, Table
from tortoise.expressions import Q, Subquery

from core.membership import AnyOfArray, in_subquery
from models.customers import CustomerUserObject
from models.tickets import Ticket
from tests.conftest import World
from tests.factories import make_ticket

TICKET, LINK = Table("ticket"), Table("customer_user_object")


def scope_sql(query_class: type[PostgreSQLQuery] | type[SQLLiteQuery], negated: bool = False) -> str:
    objects = query_class.from_(LINK).select(LINK.object_id).where(LINK.customer_user_id == 7)
    criterion = AnyOfArray(TICKET.object_id, objects)
    if negated:
        criterion = criterion.negate()
    return query_class.from_(TICKET).select(TICKET.id).where(criterion).get_sql()


def test_postgresql_gets_an_array_of_the_subquery() -> None:
    assert scope_sql(PostgreSQLQuery) == (
        'SELECT "id" FROM "ticket" WHERE "object_id" = ANY(ARRAY(SELECT "object_id" '
        'FROM "customer_user_object" WHERE "customer_user_id"=7))'
    )


def test_sqlite_keeps_in() -> None:
    assert scope_sql(SQLLiteQuery) == (
        'SELECT "id" FROM "ticket" WHERE "object_id" IN (SELECT "object_id" '
        'FROM "customer_user_object" WHERE "customer_user_id"=7)'
    )


def test_negated_it_is_not_in_on_both() -> None:
    for query_class in (PostgreSQLQuery, SQLLiteQuery):
        assert 'WHERE "object_id" NOT IN (SELECT "object_id"' in scope_sql(query_class, negated=True)


async def test_it_selects_what_in_selects_and_negated_the_rest(world: World) -> None:
    mine = [await make_ticket(world.a1, world.defect, f"A {i}", by=world.admin) for i in range(2)]
    theirs = await make_ticket(world.b1, world.defect, "B", by=world.admin)
    alices = Subquery(CustomerUserObject.filter(customer_user_id=world.alice.pk).values("object_id"))

    found = await Ticket.filter(in_subquery("object_id", alices)).order_by("id").values_list("id", flat=True)
    assert found == [t.id for t in mine]
    assert found == await Ticket.filter(object_id__in=alices).order_by("id").values_list("id", flat=True)
    rest = await Ticket.filter(~in_subquery("object_id", alices)).values_list("id", flat=True)
    assert rest == [theirs.id]
    either = Q(in_subquery("object_id", alices)) | Q(title="B")
    assert len(await Ticket.filter(either)) == 3


def test_a_path_through_a_relation_is_refused() -> None:
    alices = Subquery(CustomerUserObject.all().values("object_id"))
    with pytest.raises(TypeError, match="not a column of Ticket"):
        Ticket.filter(in_subquery("object__customer_id", alices)).sql()
