"""Documents per object: the file reaches the customer user, the ticket behind it never does."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.documents import DocumentRule
from models.tickets import Attachment, Ticket, TicketType
from permissions.policy import Permission
from permissions.viewer import load_viewer
from files.uploads import Upload
from resolvers.tickets import add_attachment, create_ticket
from core.ids import to_global_id
from tests.factories import make_customer_user, make_employee
from tests.statements import count_statements

SET_RULES = """mutation($c: ID!, $rules: [DocumentRuleInput!]!) {
  setCustomerDocumentRules(customerId: $c, rules: $rules) {
    id documentRules { ticketType { name } contentTypes } } }"""
DOCUMENTS = """query($id: ID!) { node(id: $id) { ... on SiteObject {
  documents { id filename contentType size createdAt ticketType { name } downloadUrl } } } }"""


def pdf(label: str) -> bytes:
    return f"%PDF-1.4\n% {label} {uuid.uuid4().hex}\n".encode()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes


def text(label: str) -> bytes:
    return f"{label} {uuid.uuid4().hex}\n".encode()


@dataclass
class Setup:
    gql: Any
    admin: Any
    staff: Any
    alice: Any   # customer A, object A1
    bob: Any     # customer A, object A2
    carl: Any    # customer B, object B1
    a: Customer
    b: Customer
    a1: SiteObject
    a2: SiteObject
    b1: SiteObject
    defect: TicketType    # enabled for A's users, published as PDFs
    report: TicketType    # not enabled, published with every attachment
    vacation: TicketType  # absence request
    files: dict[str, bytes]
    tickets: dict[str, Ticket]

    def as_(self, person):
        return self.gql.as_viewer(person.token)


async def viewer(person):
    return await load_viewer(person.account.id, person.account.token_version)


@pytest.fixture
async def setup(gql, settings) -> Setup:
    a = await Customer.create(name="Stadtwerke")
    b = await Customer.create(name="Kita")
    a1 = await SiteObject.create(customer=a, name="Rathaus")
    a2 = await SiteObject.create(customer=a, name="Bauhof")
    b1 = await SiteObject.create(customer=b, name="Kita Nord")
    defect = await TicketType.create(name="Reinigungsmangel")
    report = await TicketType.create(name="Leistungsnachweis")
    vacation = await TicketType.create(name="Urlaub", is_absence_request=True)
    await CustomerTicketType.create(customer=a, ticket_type=defect)
    admin = await make_employee(settings, admin=True, permissions=tuple(Permission), name="Admin")
    staff = await make_employee(settings, name="Jonas")
    alice = await make_customer_user(settings, a.id, name="Alice")
    bob = await make_customer_user(settings, a.id, name="Bob")
    carl = await make_customer_user(settings, b.id, name="Carl")
    await CustomerUserObject.create(customer_user_id=alice.pk, object=a1)
    await CustomerUserObject.create(customer_user_id=bob.pk, object=a2)
    await CustomerUserObject.create(customer_user_id=carl.pk, object=b1)

    staff_viewer = await viewer(staff)
    tickets = {
        "defect_a1": await create_ticket(staff_viewer, settings, object_id=a1.id, ticket_type_id=defect.id, title="Fenster"),
        "report_a1": await create_ticket(staff_viewer, settings, object_id=a1.id, ticket_type_id=report.id, title="Nachweis März"),
        "report_a2": await create_ticket(staff_viewer, settings, object_id=a2.id, ticket_type_id=report.id, title="Nachweis Bauhof"),
        "report_b1": await create_ticket(staff_viewer, settings, object_id=b1.id, ticket_type_id=report.id, title="Nachweis Kita"),
        "vacation_a1": await create_ticket(staff_viewer, settings, object_id=a1.id, ticket_type_id=vacation.id, title="Urlaub Jonas"),
    }
    files = {
        "defect.pdf": pdf("defect"), "defect.png": png(), "report.txt": text("report"),
        "report.pdf": pdf("report"), "bauhof.pdf": pdf("bauhof"), "kita.pdf": pdf("kita"),
        "urlaub.pdf": pdf("urlaub"),
    }
    # Oldest first, so the newest-first list reads bottom up.
    for ticket, name in (("defect_a1", "defect.pdf"), ("defect_a1", "defect.png"), ("report_a1", "report.txt"),
                         ("report_a1", "report.pdf"), ("report_a2", "bauhof.pdf"), ("report_b1", "kita.pdf"),
                         ("vacation_a1", "urlaub.pdf")):
        await add_attachment(staff_viewer, settings, tickets[ticket].id, Upload(name, io.BytesIO(files[name])))
    await gql.as_viewer(admin.token).ok(SET_RULES, {"c": to_global_id("Customer", a.id), "rules": [
        {"ticketTypeId": to_global_id("TicketType", defect.id), "contentTypes": ["application/pdf"]},
        {"ticketTypeId": to_global_id("TicketType", report.id)},
    ]})
    return Setup(gql, admin, staff, alice, bob, carl, a, b, a1, a2, b1, defect, report, vacation, files, tickets)


async def documents(client, site) -> list[dict[str, Any]] | None:
    data = await client.ok(DOCUMENTS, {"id": to_global_id("SiteObject", site.id)})
    return data["node"] and data["node"]["documents"]


async def test_customer_user_gets_matching_attachments_newest_first(setup):
    listed = await documents(setup.as_(setup.alice), setup.a1)
    assert [(d["filename"], d["contentType"], d["ticketType"]["name"]) for d in listed] == [
        ("report.pdf", "application/pdf", "Leistungsnachweis"),
        ("report.txt", "text/plain", "Leistungsnachweis"),
        ("defect.pdf", "application/pdf", "Reinigungsmangel"),
    ]
    assert [d["size"] for d in listed] == [len(setup.files[d["filename"]]) for d in listed]
    assert all(d["downloadUrl"].startswith("/files/") and d["createdAt"] for d in listed)
    assert [d["filename"] for d in await documents(setup.as_(setup.bob), setup.a2)] == ["bauhof.pdf"]


async def test_employees_see_the_same_list_plus_the_ticket(setup):
    query = """query($id: ID!) { node(id: $id) { ... on SiteObject {
      documents { filename ticket { title } } } } }"""
    data = await setup.as_(setup.staff).ok(query, {"id": to_global_id("SiteObject", setup.a1.id)})
    assert data["node"]["documents"] == [
        {"filename": "report.pdf", "ticket": {"title": "Nachweis März"}},
        {"filename": "report.txt", "ticket": {"title": "Nachweis März"}},
        {"filename": "defect.pdf", "ticket": {"title": "Fenster"}},
    ]
    # Customer B publishes nothing.
    assert await documents(setup.as_(setup.staff), setup.b1) == []


async def test_no_path_from_a_document_to_its_ticket_for_customer_users(setup):
    alice = setup.as_(setup.alice)
    query = """query($id: ID!) { node(id: $id) { ... on SiteObject { documents { filename ticket { id title } } } } }"""
    body = await alice(query, {"id": to_global_id("SiteObject", setup.a1.id)})
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert "Nachweis" not in str(body)
    # Document fields lead nowhere near the ticket: only its type, which they may know.
    document_type = (await alice.ok('{ __type(name: "Document") { fields { name } } }'))["__type"]
    names = {f["name"] for f in document_type["fields"]}
    assert names == {"id", "filename", "contentType", "size", "createdAt", "ticketType", "downloadUrl", "ticket"}
    # The report ticket is not an enabled type: not in their tickets, not by node, not its attachment.
    listed = await alice.ok("{ tickets(first: 50) { edges { node { title } } } }")
    assert [e["node"]["title"] for e in listed["tickets"]["edges"]] == ["Fenster"]
    report = setup.tickets["report_a1"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await alice.ok(node, {"id": to_global_id("Ticket", report.id)}))["node"] is None
    attachment = await Attachment.get(ticket_id=report.id, filename="report.pdf")
    assert (await alice.ok(node, {"id": to_global_id("Attachment", attachment.id)}))["node"] is None
    # Nor may they create tickets of a type that is only published.
    create = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }"""
    assert await alice.error_code(create, {"input": {
        "objectId": to_global_id("SiteObject", setup.a1.id), "title": "Neu",
        "ticketTypeId": to_global_id("TicketType", setup.report.id)}}) == "NOT_FOUND"
    # The document itself is a node they may fetch.
    by_node = """query($id: ID!) { node(id: $id) { ... on Document { filename } } }"""
    found = await alice.ok(by_node, {"id": to_global_id("Document", attachment.id)})
    assert found["node"] == {"filename": "report.pdf"}


async def test_documents_of_an_enabled_type_leave_the_ticket_visible_as_a_ticket(setup):
    alice = setup.as_(setup.alice)
    listed = await alice.ok("{ tickets(first: 50) { edges { node { title attachments { filename } } } } }")
    # The defect ticket is both enabled and published: as a ticket it shows every attachment.
    assert listed["tickets"]["edges"] == [
        {"node": {"title": "Fenster", "attachments": [{"filename": "defect.pdf"}, {"filename": "defect.png"}]}}]


async def test_download_works_with_the_signed_url_alone(setup):
    listed = await documents(setup.as_(setup.alice), setup.a1)
    http = setup.gql.http
    for document in listed:
        response = await http.get(document["downloadUrl"])
        assert response.status_code == 200, document["filename"]
        assert response.content == setup.files[document["filename"]]
    tampered = listed[0]["downloadUrl"].replace("signature=", "signature=0")
    assert (await http.get(tampered)).status_code == 403


async def test_other_customers_and_unassigned_objects_get_nothing(setup):
    carl = setup.as_(setup.carl)
    assert await documents(carl, setup.a1) is None
    assert await documents(carl, setup.b1) == []
    alice = setup.as_(setup.alice)
    assert await documents(alice, setup.a2) is None
    by_node = """query($id: ID!) { node(id: $id) { ... on Document { filename } } }"""
    bauhof = await Attachment.get(filename="bauhof.pdf")
    assert (await alice.ok(by_node, {"id": to_global_id("Document", bauhof.id)}))["node"] is None
    assert (await carl.ok(by_node, {"id": to_global_id("Document", bauhof.id)}))["node"] is None
    # An attachment that no rule publishes is no document, even for employees.
    png_row = await Attachment.get(filename="defect.png")
    staff = setup.as_(setup.staff)
    assert (await staff.ok(by_node, {"id": to_global_id("Document", png_row.id)}))["node"] is None


async def test_absence_requests_are_never_documents(setup):
    admin = setup.as_(setup.admin)
    before = await DocumentRule.filter(customer_id=setup.a.id).count()
    body = await admin(SET_RULES, {"c": to_global_id("Customer", setup.a.id), "rules": [
        {"ticketTypeId": to_global_id("TicketType", setup.defect.id)},
        {"ticketTypeId": to_global_id("TicketType", setup.vacation.id), "contentTypes": []},
    ]})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "rules.1.ticketTypeId"}
    assert await DocumentRule.filter(customer_id=setup.a.id).count() == before == 2
    # Even a rule written past the API publishes nothing of an absence request.
    await DocumentRule.create(customer_id=setup.a.id, ticket_type_id=setup.vacation.id, content_types=[])
    for person in (setup.alice, setup.admin):
        names = [d["filename"] for d in await documents(setup.as_(person), setup.a1)]
        assert "urlaub.pdf" not in names


async def test_rules_replace_and_read_back_and_wildcards_match(setup):
    admin = setup.as_(setup.admin)
    data = await admin.ok(SET_RULES, {"c": to_global_id("Customer", setup.a.id), "rules": [
        {"ticketTypeId": to_global_id("TicketType", setup.defect.id), "contentTypes": [" Image/* ", "image/*"]},
    ]})
    assert data["setCustomerDocumentRules"]["documentRules"] == [
        {"ticketType": {"name": "Reinigungsmangel"}, "contentTypes": ["image/*"]}]
    assert [d["filename"] for d in await documents(setup.as_(setup.alice), setup.a1)] == ["defect.png"]
    await admin.ok(SET_RULES, {"c": to_global_id("Customer", setup.a.id), "rules": []})
    assert await documents(setup.as_(setup.alice), setup.a1) == []


@pytest.mark.parametrize("content_types, field", [
    (["pdf"], "rules.0.contentTypes"),
    (["application/pdf; charset=x"], "rules.0.contentTypes"),
    (["*/*"], "rules.0.contentTypes"),
    ([""], "rules.0.contentTypes"),
])
async def test_malformed_content_types_are_bad_input(setup, content_types, field):
    admin = setup.as_(setup.admin)
    body = await admin(SET_RULES, {"c": to_global_id("Customer", setup.a.id), "rules": [
        {"ticketTypeId": to_global_id("TicketType", setup.defect.id), "contentTypes": content_types}]})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await DocumentRule.filter(customer_id=setup.a.id).count() == 2


async def test_duplicate_and_unknown_types_are_refused(setup):
    admin = setup.as_(setup.admin)
    defect = to_global_id("TicketType", setup.defect.id)
    body = await admin(SET_RULES, {"c": to_global_id("Customer", setup.a.id),
                                   "rules": [{"ticketTypeId": defect}, {"ticketTypeId": defect}]})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "rules.1.ticketTypeId"}
    body = await admin(SET_RULES, {"c": to_global_id("Customer", setup.a.id),
                                   "rules": [{"ticketTypeId": to_global_id("TicketType", 99999)}]})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "rules.0.ticketTypeId"}
    body = await admin(SET_RULES, {"c": to_global_id("Customer", 99999), "rules": []})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "customerId"}


async def test_only_portal_admins_set_rules_and_only_employees_read_them(setup, settings):
    variables = {"c": to_global_id("Customer", setup.a.id), "rules": []}
    admin_without_insight = await make_employee(settings, admin=True)
    for person in (setup.alice, setup.staff, admin_without_insight):
        assert await setup.as_(person).error_code(SET_RULES, variables) == "FORBIDDEN"
    assert await DocumentRule.filter(customer_id=setup.a.id).count() == 2
    query = "{ objects { edges { node { customer { documentRules { contentTypes } } } } } }"
    assert await setup.as_(setup.alice).error_code(query) == "FORBIDDEN"


async def test_documents_of_a_page_of_objects_take_the_same_queries_as_one(setup):
    page = "{ objects(first: %d) { edges { node { name documents { filename ticketType { name } } } } } }"
    staff = setup.as_(setup.staff)
    one, _ = await count_statements(staff, page % 1)
    three, data = await count_statements(staff, page % 3)
    names = {e["node"]["name"]: [d["filename"] for d in e["node"]["documents"]] for e in data["objects"]["edges"]}
    assert names == {"Bauhof": ["bauhof.pdf"], "Kita Nord": [],
                     "Rathaus": ["report.pdf", "report.txt", "defect.pdf"]}
    assert one == three
