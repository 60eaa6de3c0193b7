"""Page preloading looks for the fields the schema serves, under the names the schema gives them."""

from __future__ import annotations

from execution.schema import schema
from models.customers import Customer, SiteObject
from models.tickets import TicketType
from permissions.viewer import load_viewer
from resolvers.tickets import add_comment, create_ticket
from schema.tickets import operations
from schema.tickets.preload import NODE_PATH, PRELOADS, preload
from tests.factories import make_employee


def test_preloaded_fields_are_fields_of_the_ticket_type():
    converter = schema.config.name_converter
    ticket = schema._schema.type_map["Ticket"]
    connection = schema._schema.type_map["TicketConnection"]
    edge = schema._schema.type_map["TicketEdge"]
    assert {converter.from_field(p.field) for p in PRELOADS} == {"commentCount", "attachments"}
    assert all(converter.from_field(p.field) in ticket.fields for p in PRELOADS)
    edges, node = (converter.from_field(f) for f in NODE_PATH)
    assert edges in connection.fields and node in edge.fields


async def test_a_page_that_selects_them_gets_them_preloaded(gql, settings, monkeypatch):
    customer = await Customer.create(name="Kunde")
    site = await SiteObject.create(customer=customer, name="Haus", address="")
    kind = await TicketType.create(name="Schaden")
    staff = await make_employee(settings)
    viewer = await load_viewer(staff.account.id, 1)
    for title in ("T1", "T2"):
        ticket = await create_ticket(viewer, settings, object_id=site.id, ticket_type_id=kind.id, title=title)
        await add_comment(viewer, ticket.id, "Hallo")
    pages = []

    async def watched(info, page):
        await preload(info, page)
        pages.append([(t.preloaded_comment_count, t.preloaded_attachments) for t in page])

    monkeypatch.setattr(operations, "preload", watched)
    query = """{ tickets { edges { ...row } } }
    fragment row on TicketEdge { node { number ... on Ticket { commentCount attachments { filename } } } }"""
    data = await gql.as_viewer(staff.token).ok(query)
    assert [e["node"]["commentCount"] for e in data["tickets"]["edges"]] == [1, 1]
    # One page per execution (the comparison mode runs both paths).
    assert pages and all(page == [(1, []), (1, [])] for page in pages)
    await gql.as_viewer(staff.token).ok("{ tickets { edges { node { number } } } }")
    assert pages[-1] == [(None, None), (None, None)]
