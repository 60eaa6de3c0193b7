"""A refused field is null with its own error; its parent and everything else in the response stay.

Each of the fields the policy coverage test made nullable, asked for by a viewer its type admits and its
own policy refuses: the field is `null`, one error per occurrence carries `FORBIDDEN` (`UNAUTHENTICATED`
for anonymous viewers) and the field's path, and the sibling fields keep their values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.ids import to_global_id
from models.documents import DocumentRule
from models.forms import FormTemplate, FormTemplateStatus, FormTemplateVersion
from tests.factories import make_comment, make_ticket


def refusals(body: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    return [(e["extensions"]["code"], e["path"]) for e in body.get("errors") or []]


async def test_ticket_types_keep_their_names_when_is_absence_request_is_refused(world):
    body = await world.as_(world.carl)("{ ticketTypes { name isAbsenceRequest } }")
    assert sorted(t["name"] for t in body["data"]["ticketTypes"]) == ["Reinigungsmangel", "Schaden"]
    assert all(t["isAbsenceRequest"] is None for t in body["data"]["ticketTypes"])
    assert sorted(refusals(body), key=lambda r: r[1][1]) == [
        ("FORBIDDEN", ["ticketTypes", 0, "isAbsenceRequest"]),
        ("FORBIDDEN", ["ticketTypes", 1, "isAbsenceRequest"]),
    ]
    employee = await world.as_(world.staff).ok("{ ticketTypes { name isAbsenceRequest } }")
    assert {t["name"]: t["isAbsenceRequest"] for t in employee["ticketTypes"]}["Urlaub"] is True


ASSIGNEE = """query($id: ID!) { node(id: $id) { ... on Ticket { title
  assignee { name email isSystemAdmin isActive groups { name } } } } }"""


async def test_a_customer_user_gets_the_assignees_name_and_a_refusal_for_each_staff_field(world):
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice, assignee=world.admin)
    body = await world.as_(world.alice)(ASSIGNEE, {"id": to_global_id("Ticket", ticket.id)})
    assert body["data"] == {
        "node": {
            "title": "Fenster",
            "assignee": {"name": "Admin", "email": None, "isSystemAdmin": None, "isActive": None, "groups": None},
        }
    }
    assert refusals(body) == [
        ("FORBIDDEN", ["node", "assignee", field]) for field in ("email", "isSystemAdmin", "isActive", "groups")
    ]
    staff = await world.as_(world.staff).ok(ASSIGNEE, {"id": to_global_id("Ticket", ticket.id)})
    assignee = staff["node"]["assignee"]
    assert assignee["email"] == world.admin.email and assignee["isSystemAdmin"] is True and assignee["groups"]


async def test_assignee_name_and_email_in_a_list_leaves_every_other_ticket_standing(world):
    await make_ticket(world.a1, world.defect, "Eins", by=world.alice, assignee=world.staff)
    await make_ticket(world.a1, world.defect, "Zwei", by=world.alice)
    body = await world.as_(world.alice)("{ tickets { edges { node { title assignee { name email } } } } }")
    nodes = {e["node"]["title"]: e["node"]["assignee"] for e in body["data"]["tickets"]["edges"]}
    assert nodes == {"Eins": {"name": "Jonas Weber", "email": None}, "Zwei": None}
    [(code, path)] = refusals(body)
    assert code == "FORBIDDEN" and path[-2:] == ["assignee", "email"] and path[:2] == ["tickets", "edges"]


async def test_a_customer_users_own_is_active_is_refused_and_the_rest_of_me_stays(world):
    body = await world.as_(world.alice)("{ me { name email ... on CustomerUser { isActive } } }")
    assert body["data"] == {"me": {"name": "Alice", "email": world.alice.email, "isActive": None}}
    assert refusals(body) == [("FORBIDDEN", ["me", "isActive"])]


async def test_comments_keep_their_body_when_internal_is_refused(world):
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice)
    await make_comment(ticket, world.staff, "Wir kommen morgen.")
    await make_comment(ticket, world.staff, "Nur intern", internal=True)
    query = """query($id: ID!) { node(id: $id) { ... on Ticket { title
      comments { edges { node { body internal author { name } } } } } } }"""
    body = await world.as_(world.alice)(query, {"id": to_global_id("Ticket", ticket.id)})
    assert body["data"]["node"]["comments"]["edges"] == [
        {"node": {"body": "Wir kommen morgen.", "internal": None, "author": {"name": "Jonas Weber"}}}
    ]
    assert refusals(body) == [("FORBIDDEN", ["node", "comments", "edges", 0, "node", "internal"])]


async def test_a_ticket_keeps_its_fields_when_history_is_refused(world):
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice)
    query = """query($id: ID!) { node(id: $id) { ... on Ticket { title status history { kind } } } }"""
    body = await world.as_(world.alice)(query, {"id": to_global_id("Ticket", ticket.id)})
    assert body["data"] == {"node": {"title": "Fenster", "status": "OPEN", "history": None}}
    assert refusals(body) == [("FORBIDDEN", ["node", "history"])]
    staff = await world.as_(world.staff).ok(query, {"id": to_global_id("Ticket", ticket.id)})
    assert [e["kind"] for e in staff["node"]["history"]] == ["CREATED"]


async def test_a_customer_keeps_its_name_when_document_rules_are_refused(world):
    await DocumentRule.create(customer=world.a, ticket_type=world.defect, content_types=[])
    query = "{ objects { edges { node { name customer { name documentRules { contentTypes } } } } } }"
    body = await world.as_(world.alice)(query)
    assert body["data"]["objects"]["edges"] == [
        {"node": {"name": "Rathaus", "customer": {"name": "Stadtwerke", "documentRules": None}}}
    ]
    assert refusals(body) == [("FORBIDDEN", ["objects", "edges", 0, "node", "customer", "documentRules"])]


async def _public_template() -> FormTemplate:
    now = datetime.now(UTC)
    template = await FormTemplate.create(
        name="Feedback",
        is_public=True,
        status=FormTemplateStatus.PUBLISHED,
        public_token="feedback-token",
        created_at=now,
        updated_at=now,
        published_at=now,
    )
    await FormTemplateVersion.create(template=template, version=1, name="Feedback", elements=[], created_at=now)
    return template


async def test_template_versions_are_refused_alone_to_anonymous_fillers_and_plain_employees(world):
    await _public_template()
    query = '{ publicFormTemplate(token: "feedback-token") { name version versions { version } } }'
    anonymous = await world.gql(query)
    assert anonymous["data"] == {"publicFormTemplate": {"name": "Feedback", "version": 1, "versions": None}}
    assert refusals(anonymous) == [("UNAUTHENTICATED", ["publicFormTemplate", "versions"])]

    listed = await world.as_(world.staff)("{ formTemplates { name versions { version } } }")
    assert listed["data"] == {"formTemplates": [{"name": "Feedback", "versions": None}]}
    assert refusals(listed) == [("FORBIDDEN", ["formTemplates", 0, "versions"])]

    manager = await world.as_(world.petra).ok("{ formTemplates { name versions { version } } }")
    assert manager == {"formTemplates": [{"name": "Feedback", "versions": [{"version": 1}]}]}
