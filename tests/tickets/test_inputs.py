"""Ticket inputs: where a bad ID is reported (`extensions.field`), and optional IDs sent as ""."""

from __future__ import annotations

import pytest

from core.ids import to_global_id as gid
from models.customers import Customer, SiteObject
from models.tickets import Ticket, TicketType
from tests.factories import make_employee

CREATE = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { number assignee { name } } }"""
LIST = """query($f: TicketFilterInput) { tickets(filter: $f) { totalCount } }"""
IMPORT = """mutation($t: [ImportTicketInput!]!) { importTickets(tickets: $t) { importedCount } }"""
UPDATE = """mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { title } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { body } }"""
EDIT = """mutation($input: EditCommentInput!) { editComment(input: $input) { body } }"""


@pytest.fixture
async def admin(gql, settings):
    customer = await Customer.create(name="Kunde")
    site = await SiteObject.create(customer=customer, name="Haus", address="")
    kind = await TicketType.create(name="Schaden")
    person = await make_employee(settings, admin=True)
    client = gql.as_viewer(person.token)
    client.base = {"objectId": gid("SiteObject", site.id), "ticketTypeId": gid("TicketType", kind.id)}
    return client


def extensions(body):
    return body["errors"][0]["extensions"]


@pytest.mark.parametrize("name", ["objectId", "ticketTypeId", "assigneeId"])
async def test_create_ticket_names_the_bad_id(admin, name):
    malformed = await admin(CREATE, {"input": {**admin.base, "title": "T", name: "nicht-base64!"}})
    assert extensions(malformed) == {"code": "BAD_USER_INPUT", "field": name}
    other_type = await admin(CREATE, {"input": {**admin.base, "title": "T", name: gid("Customer", 1)}})
    assert extensions(other_type) == {"code": "NOT_FOUND", "field": name}


@pytest.mark.parametrize("name", ["objectId", "ticketTypeId", "assigneeId"])
async def test_filter_and_import_name_the_bad_id(admin, name):
    assert extensions(await admin(LIST, {"f": {name: gid("Customer", 1)}})) == {
        "code": "NOT_FOUND",
        "field": f"filter.{name}",
    }
    items = [
        {**admin.base, "title": "A", "externalRef": "A"},
        {**admin.base, "title": "B", "externalRef": "B", name: gid("Customer", 1)},
    ]
    assert extensions(await admin(IMPORT, {"t": items})) == {"code": "NOT_FOUND", "field": f"tickets.1.{name}"}


async def test_ticket_and_comment_inputs_name_the_bad_id(admin):
    wrong = gid("Customer", 1)
    assert extensions(await admin(UPDATE, {"input": {"id": wrong, "title": "X"}})) == {
        "code": "NOT_FOUND",
        "field": "id",
    }
    assert extensions(await admin(COMMENT, {"input": {"ticketId": wrong, "body": "X"}})) == {
        "code": "NOT_FOUND",
        "field": "ticketId",
    }
    assert extensions(await admin(EDIT, {"input": {"id": wrong, "body": "X"}})) == {"code": "NOT_FOUND", "field": "id"}


async def test_an_optional_id_sent_empty_is_absent(admin):
    created = await admin.ok(CREATE, {"input": {**admin.base, "title": "T", "assigneeId": ""}})
    assert created["createTicket"] == {"number": 1, "assignee": None}
    assert (await admin.ok(LIST, {"f": {"objectId": "", "ticketTypeId": "", "assigneeId": ""}})) == {
        "tickets": {"totalCount": 1}
    }
    items = [{**admin.base, "title": "A", "externalRef": "A", "assigneeId": ""}]
    assert (await admin.ok(IMPORT, {"t": items}))["importTickets"] == {"importedCount": 1}
    assert await Ticket.filter(assignee_id=None).count() == 2
