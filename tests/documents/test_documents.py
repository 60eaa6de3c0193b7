"""Documents per object: the file reaches the customer user, the ticket behind it never does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from core.ids import to_global_id
from models.documents import DocumentRule
from models.tickets import Attachment, Ticket, TicketType
from tests.factories import make_attachment, make_employee, make_ticket, make_ticket_type
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
class Published:
    """What customer A publishes: defects (world.defect) as PDFs, reports with every attachment."""

    report: TicketType  # not enabled for any portal
    files: dict[str, bytes]
    tickets: dict[str, Ticket]


@pytest.fixture
async def published(world, settings) -> Published:
    report = await make_ticket_type("Leistungsnachweis")
    staff = world.staff
    tickets = {
        "defect_a1": await make_ticket(world.a1, world.defect, "Fenster", by=staff),
        "report_a1": await make_ticket(world.a1, report, "Nachweis März", by=staff),
        "report_a2": await make_ticket(world.a2, report, "Nachweis Bauhof", by=staff),
        "report_b1": await make_ticket(world.b1, report, "Nachweis Kita", by=staff),
        "vacation_a1": await make_ticket(world.a1, world.vacation, "Urlaub Jonas", by=staff),
    }
    files = {
        "defect.pdf": pdf("defect"),
        "defect.png": png(),
        "report.txt": text("report"),
        "report.pdf": pdf("report"),
        "bauhof.pdf": pdf("bauhof"),
        "kita.pdf": pdf("kita"),
        "urlaub.pdf": pdf("urlaub"),
    }
    # Oldest first, so the newest-first list reads bottom up.
    for ticket, name in (
        ("defect_a1", "defect.pdf"),
        ("defect_a1", "defect.png"),
        ("report_a1", "report.txt"),
        ("report_a1", "report.pdf"),
        ("report_a2", "bauhof.pdf"),
        ("report_b1", "kita.pdf"),
        ("vacation_a1", "urlaub.pdf"),
    ):
        await make_attachment(settings, tickets[ticket], staff, name, files[name])
    await world.as_(world.admin).ok(
        SET_RULES,
        {
            "c": to_global_id("Customer", world.a.id),
            "rules": [
                {"ticketTypeId": to_global_id("TicketType", world.defect.id), "contentTypes": ["application/pdf"]},
                {"ticketTypeId": to_global_id("TicketType", report.id)},
            ],
        },
    )
    return Published(report, files, tickets)


async def documents(client, site) -> list[dict[str, Any]] | None:
    data = await client.ok(DOCUMENTS, {"id": to_global_id("SiteObject", site.id)})
    return data["node"] and data["node"]["documents"]


async def test_customer_user_gets_matching_attachments_newest_first(world, published):
    listed = await documents(world.as_(world.alice), world.a1)
    assert [(d["filename"], d["contentType"], d["ticketType"]["name"]) for d in listed] == [
        ("report.pdf", "application/pdf", "Leistungsnachweis"),
        ("report.txt", "text/plain", "Leistungsnachweis"),
        ("defect.pdf", "application/pdf", "Reinigungsmangel"),
    ]
    assert [d["size"] for d in listed] == [len(published.files[d["filename"]]) for d in listed]
    assert all(d["downloadUrl"].startswith("https://sitedesk.test/files/") and d["createdAt"] for d in listed)
    assert [d["filename"] for d in await documents(world.as_(world.bob), world.a2)] == ["bauhof.pdf"]


async def test_employees_see_the_same_list_plus_the_ticket(world, published):
    query = """query($id: ID!) { node(id: $id) { ... on SiteObject {
      documents { filename ticket { title } } } } }"""
    data = await world.as_(world.staff).ok(query, {"id": to_global_id("SiteObject", world.a1.id)})
    assert data["node"]["documents"] == [
        {"filename": "report.pdf", "ticket": {"title": "Nachweis März"}},
        {"filename": "report.txt", "ticket": {"title": "Nachweis März"}},
        {"filename": "defect.pdf", "ticket": {"title": "Fenster"}},
    ]
    # Customer B publishes nothing.
    assert await documents(world.as_(world.staff), world.b1) == []


async def test_no_path_from_a_document_to_its_ticket_for_customer_users(world, published):
    alice = world.as_(world.alice)
    query = """query($id: ID!) { node(id: $id) { ... on SiteObject { documents { filename ticket { id title } } } } }"""
    body = await alice(query, {"id": to_global_id("SiteObject", world.a1.id)})
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert "Nachweis" not in str(body)
    # Document fields lead nowhere near the ticket: only its type, which they may know.
    document_type = (await alice.ok('{ __type(name: "Document") { fields { name } } }'))["__type"]
    names = {f["name"] for f in document_type["fields"]}
    assert names == {"id", "filename", "contentType", "size", "createdAt", "ticketType", "downloadUrl", "ticket"}
    # The report ticket is not an enabled type: not in their tickets, not by node, not its attachment.
    listed = await alice.ok("{ tickets(first: 50) { edges { node { title } } } }")
    assert [e["node"]["title"] for e in listed["tickets"]["edges"]] == ["Fenster"]
    report = published.tickets["report_a1"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await alice.ok(node, {"id": to_global_id("Ticket", report.id)}))["node"] is None
    attachment = await Attachment.get(ticket_id=report.id, filename="report.pdf")
    assert (await alice.ok(node, {"id": to_global_id("Attachment", attachment.id)}))["node"] is None
    # Nor may they create tickets of a type that is only published.
    create = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }"""
    assert (
        await alice.error_code(
            create,
            {
                "input": {
                    "objectId": to_global_id("SiteObject", world.a1.id),
                    "title": "Neu",
                    "ticketTypeId": to_global_id("TicketType", published.report.id),
                }
            },
        )
        == "NOT_FOUND"
    )
    # The document itself is a node they may fetch.
    by_node = """query($id: ID!) { node(id: $id) { ... on Document { filename } } }"""
    found = await alice.ok(by_node, {"id": to_global_id("Document", attachment.id)})
    assert found["node"] == {"filename": "report.pdf"}


async def test_documents_of_an_enabled_type_leave_the_ticket_visible_as_a_ticket(world, published):
    alice = world.as_(world.alice)
    listed = await alice.ok("{ tickets(first: 50) { edges { node { title attachments { filename } } } } }")
    # The defect ticket is both enabled and published: as a ticket it shows every attachment.
    assert listed["tickets"]["edges"] == [
        {"node": {"title": "Fenster", "attachments": [{"filename": "defect.pdf"}, {"filename": "defect.png"}]}}
    ]


async def test_download_works_with_the_signed_url_alone(world, published):
    listed = await documents(world.as_(world.alice), world.a1)
    http = world.gql.http
    for document in listed:
        response = await http.get(document["downloadUrl"])
        assert response.status_code == 200, document["filename"]
        assert response.content == published.files[document["filename"]]
    tampered = listed[0]["downloadUrl"].replace("signature=", "signature=0")
    assert (await http.get(tampered)).status_code == 403


async def test_other_customers_and_unassigned_objects_get_nothing(world, published):
    carl = world.as_(world.carl)
    assert await documents(carl, world.a1) is None
    assert await documents(carl, world.b1) == []
    alice = world.as_(world.alice)
    assert await documents(alice, world.a2) is None
    by_node = """query($id: ID!) { node(id: $id) { ... on Document { filename } } }"""
    bauhof = await Attachment.get(filename="bauhof.pdf")
    assert (await alice.ok(by_node, {"id": to_global_id("Document", bauhof.id)}))["node"] is None
    assert (await carl.ok(by_node, {"id": to_global_id("Document", bauhof.id)}))["node"] is None
    # An attachment that no rule publishes is no document, even for employees.
    png_row = await Attachment.get(filename="defect.png")
    staff = world.as_(world.staff)
    assert (await staff.ok(by_node, {"id": to_global_id("Document", png_row.id)}))["node"] is None


async def test_absence_requests_are_never_documents(world, published):
    admin = world.as_(world.admin)
    before = await DocumentRule.filter(customer_id=world.a.id).count()
    body = await admin(
        SET_RULES,
        {
            "c": to_global_id("Customer", world.a.id),
            "rules": [
                {"ticketTypeId": to_global_id("TicketType", world.defect.id)},
                {"ticketTypeId": to_global_id("TicketType", world.vacation.id), "contentTypes": []},
            ],
        },
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "rules.1.ticketTypeId"}
    assert await DocumentRule.filter(customer_id=world.a.id).count() == before == 2
    # Even a rule written past the API publishes nothing of an absence request.
    await DocumentRule.create(customer_id=world.a.id, ticket_type_id=world.vacation.id, content_types=[])
    for person in (world.alice, world.admin):
        names = [d["filename"] for d in await documents(world.as_(person), world.a1)]
        assert "urlaub.pdf" not in names


async def test_rules_replace_and_read_back_and_wildcards_match(world, published):
    admin = world.as_(world.admin)
    data = await admin.ok(
        SET_RULES,
        {
            "c": to_global_id("Customer", world.a.id),
            "rules": [
                {"ticketTypeId": to_global_id("TicketType", world.defect.id), "contentTypes": [" Image/* ", "image/*"]},
            ],
        },
    )
    assert data["setCustomerDocumentRules"]["documentRules"] == [
        {"ticketType": {"name": "Reinigungsmangel"}, "contentTypes": ["image/*"]}
    ]
    assert [d["filename"] for d in await documents(world.as_(world.alice), world.a1)] == ["defect.png"]
    await admin.ok(SET_RULES, {"c": to_global_id("Customer", world.a.id), "rules": []})
    assert await documents(world.as_(world.alice), world.a1) == []


@pytest.mark.parametrize(
    "content_types, field",
    [
        (["pdf"], "rules.0.contentTypes"),
        (["application/pdf; charset=x"], "rules.0.contentTypes"),
        (["*/*"], "rules.0.contentTypes"),
        ([""], "rules.0.contentTypes"),
    ],
)
async def test_malformed_content_types_are_bad_input(world, published, content_types, field):
    admin = world.as_(world.admin)
    body = await admin(
        SET_RULES,
        {
            "c": to_global_id("Customer", world.a.id),
            "rules": [{"ticketTypeId": to_global_id("TicketType", world.defect.id), "contentTypes": content_types}],
        },
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await DocumentRule.filter(customer_id=world.a.id).count() == 2


async def test_duplicate_and_unknown_types_are_refused(world, published):
    admin = world.as_(world.admin)
    defect = to_global_id("TicketType", world.defect.id)
    body = await admin(
        SET_RULES,
        {"c": to_global_id("Customer", world.a.id), "rules": [{"ticketTypeId": defect}, {"ticketTypeId": defect}]},
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "rules.1.ticketTypeId"}
    body = await admin(
        SET_RULES,
        {"c": to_global_id("Customer", world.a.id), "rules": [{"ticketTypeId": to_global_id("TicketType", 99999)}]},
    )
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "rules.0.ticketTypeId"}
    body = await admin(SET_RULES, {"c": to_global_id("Customer", 99999), "rules": []})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "customerId"}


async def test_only_portal_admins_set_rules_and_only_employees_read_them(world, published, settings):
    variables = {"c": to_global_id("Customer", world.a.id), "rules": []}
    admin_without_insight = await make_employee(settings, admin=True)
    for person in (world.alice, world.staff, admin_without_insight):
        assert await world.as_(person).error_code(SET_RULES, variables) == "FORBIDDEN"
    assert await DocumentRule.filter(customer_id=world.a.id).count() == 2
    query = "{ objects { edges { node { customer { documentRules { contentTypes } } } } } }"
    assert await world.as_(world.alice).error_code(query) == "FORBIDDEN"


async def test_documents_of_a_page_of_objects_take_the_same_queries_as_one(world, published):
    page = "{ objects(first: %d) { edges { node { name documents { filename ticketType { name } } } } } }"
    staff = world.as_(world.staff)
    one, _ = await count_statements(staff, page % 1)
    three, data = await count_statements(staff, page % 3)
    names = {e["node"]["name"]: [d["filename"] for d in e["node"]["documents"]] for e in data["objects"]["edges"]}
    assert names == {"Bauhof": ["bauhof.pdf"], "Kita Nord": [], "Rathaus": ["report.pdf", "report.txt", "defect.pdf"]}
    assert one == three
