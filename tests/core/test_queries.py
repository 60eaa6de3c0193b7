"""The compiled-query cache refuses a shape whose SQL depends on an id's value."""

from __future__ import annotations

import pytest

from core.queries import ShapeDependsOnValues, prepared_values
from models.tickets import Ticket
from tests.factories import make_customer, make_employee, make_site_object, make_ticket, make_ticket_type


async def test_a_builder_that_branches_on_an_id_is_refused(settings):
    def branching(s):
        pk = s.int("id")
        # Wrong on purpose: the SQL differs with the id's value, so one cached shape would serve wrong SQL.
        query = Ticket.filter(id=pk) if pk % 2 else Ticket.filter(id=pk, number__gt=0)
        return query.values("id")

    with pytest.raises(ShapeDependsOnValues):
        await prepared_values(("branching-on-purpose",), branching, {"id": 1})


async def test_a_builder_that_only_binds_ids_is_compiled_once_and_answers_per_input(settings):
    customer = await make_customer()
    site = await make_site_object(customer, "Rathaus")
    kind = await make_ticket_type("Reinigungsmangel", enabled_for=[customer])
    staff = await make_employee(settings)
    first, second = await make_ticket(site, kind, "Eins", by=staff), await make_ticket(site, kind, "Zwei", by=staff)

    def build(s):
        return Ticket.filter(id=s.int("id")).values("id", "title")

    for ticket in (first, second):
        rows = await prepared_values(("binds-only",), build, {"id": ticket.id})
        assert rows == [{"id": ticket.id, "title": ticket.title}]
