"""Form templates over GraphQL: who may design them, what a saved template must satisfy, versions."""

from __future__ import annotations

import copy

import pytest

from models.forms import FormTemplate, FormTemplateVersion
from tests.forms.conftest import (
    ARCHIVE,
    CREATE_TEMPLATE,
    PUBLISH,
    UPDATE_TEMPLATE,
    create_template,
    errors_of,
    inspection_elements,
)

LIST = """{ formTemplates { id name status } }"""
ONE = """query($id: ID!) { formTemplate(id: $id) { id name versions { version name } } }"""


async def test_manager_creates_a_draft_with_every_setting(gql, company):
    template = await create_template(gql, company, publish=False)
    assert template["status"] == "DRAFT" and template["version"] == 1
    assert template["publicToken"] is None
    elements = {e["key"]: e for e in template["elements"]}
    assert elements["room"]["scale"] == 5 and elements["room"]["required"]
    assert elements["recleaning"]["visibleIf"] == {"key": "room", "operator": "LTE", "value": "2"}
    ticket = elements["ticket"]["ticket"]
    assert ticket == {
        "title": "Nachreinigung Gruppenraum",
        "description": "Bei der Begehung beanstandet.",
        "titleEditable": False,
        "descriptionEditable": True,
        "allowDueDate": True,
        "attachPdf": True,
        "ticketType": {"id": company.gid("TicketType", company.recleaning.id), "name": "Nachreinigung"},
    }
    assert elements["ticket"]["description"] == "Wird beim Abschluss als Ticket angelegt."


async def test_only_template_managers_design_templates(gql, company):
    elements = inspection_elements(company)
    variables = {"input": {"name": "Begehung", "elements": elements}}
    inspector = gql.as_viewer(company.inspector.token)
    portal = gql.as_viewer(company.portal_user.token)
    assert await inspector.error_code(CREATE_TEMPLATE, variables) == "FORBIDDEN"
    assert await portal.error_code(CREATE_TEMPLATE, variables) == "FORBIDDEN"
    assert await gql.error_code(CREATE_TEMPLATE, variables) == "UNAUTHENTICATED"
    template = await create_template(gql, company, publish=False)
    for client in (inspector, portal):
        assert await client.error_code(PUBLISH, {"id": template["id"]}) == "FORBIDDEN"
        assert await client.error_code(ARCHIVE, {"id": template["id"]}) == "FORBIDDEN"
        assert await client.error_code(UPDATE_TEMPLATE, {"input": {"id": template["id"], "name": "x"}}) == "FORBIDDEN"
    assert await FormTemplate.all().count() == 1
    assert (await FormTemplate.get()).name == "Objektbegehung"


async def test_employees_see_published_templates_managers_see_all(gql, company):
    draft = await create_template(gql, company, name="Entwurf", publish=False)
    published = await create_template(gql, company, name="Begehung")
    inspector = gql.as_viewer(company.inspector.token)
    assert [t["name"] for t in (await inspector.ok(LIST))["formTemplates"]] == ["Begehung"]
    assert (await inspector.ok(ONE.replace(" versions { version name }", ""), {"id": draft["id"]}))[
        "formTemplate"
    ] is None
    assert await inspector.error_code(ONE, {"id": published["id"]}) == "FORBIDDEN"  # versions: managers only
    manager = gql.as_viewer(company.manager.token)
    assert [t["name"] for t in (await manager.ok(LIST))["formTemplates"]] == ["Begehung", "Entwurf"]


def with_change(company, index: int, **change) -> list[dict]:
    elements = copy.deepcopy(inspection_elements(company))
    elements[index].update(change)
    return elements


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda c: with_change(c, 4, key="room"), "room"),  # duplicate key
        (
            lambda c: with_change(c, 2, visibleIf={"key": "remarks", "operator": "EQ", "value": "x"}),
            "recleaning",
        ),  # later
        (
            lambda c: with_change(c, 2, visibleIf={"key": "ghost", "operator": "EQ", "value": "x"}),
            "recleaning",
        ),  # unknown
        (
            lambda c: with_change(c, 2, visibleIf={"key": "room", "operator": "LT", "value": "7"}),
            "recleaning",
        ),  # off scale
        (lambda c: with_change(c, 2, visibleIf={"key": "room", "operator": "LT", "value": "gut"}), "recleaning"),
        (
            lambda c: with_change(c, 3, visibleIf={"key": "recleaning", "operator": "GT", "value": "true"}),
            "ticket",
        ),  # op on YES_NO
        (lambda c: with_change(c, 3, visibleIf={"key": "intro", "operator": "EQ", "value": "x"}), "ticket"),  # INFO
        (lambda c: with_change(c, 3, visibleIf={"key": "recleaning", "operator": "EQ", "value": "ja"}), "ticket"),
        (lambda c: with_change(c, 3, ticket=None), "ticket"),  # settings missing
        (lambda c: with_change(c, 1, scale=1), "room"),
        (lambda c: with_change(c, 1, scale=11), "room"),
        (lambda c: with_change(c, 4, scale=5), "remarks"),  # scale on TEXT
        (lambda c: with_change(c, 4, label="  "), "remarks"),
        (lambda c: with_change(c, 4, kind="SINGLE_CHOICE"), "remarks"),  # no options
        (lambda c: with_change(c, 4, kind="MULTIPLE_CHOICE", options=["a", "a"]), "remarks"),
        (lambda c: with_change(c, 4, options=["a"]), "remarks"),  # options on TEXT
        (
            lambda c: with_change(c, 4, ticket={"ticketTypeId": c.gid("TicketType", c.defect.id), "title": "x"}),
            "remarks",
        ),
    ],
)
async def test_invalid_templates_name_the_element_and_store_nothing(gql, company, make, field):
    body = await gql.as_viewer(company.manager.token)(
        CREATE_TEMPLATE, {"input": {"name": "Begehung", "elements": make(company)}}
    )
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": field}
    assert await FormTemplate.all().count() == 0
    assert await FormTemplateVersion.all().count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"title": "   "},
        {"ticketTypeId": "absence"},
        {"ticketTypeId": "unknown"},
        {"ticketTypeId": "malformed"},
    ],
)
async def test_ticket_element_needs_title_and_a_usable_type(gql, company, change):
    replacements = {
        "absence": company.gid("TicketType", company.absence.id),
        "unknown": company.gid("TicketType", 9999),
        "malformed": "%%%",
        None: None,
    }
    if "ticketTypeId" in change:
        change = {"ticketTypeId": replacements[change["ticketTypeId"]]}
    body = await gql.as_viewer(company.manager.token)(
        CREATE_TEMPLATE, {"input": {"name": "Begehung", "elements": inspection_elements(company, **change)}}
    )
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "ticket"}
    assert await FormTemplate.all().count() == 0


async def test_public_templates_cannot_create_tickets(gql, company):
    manager = gql.as_viewer(company.manager.token)
    body = await manager(
        CREATE_TEMPLATE, {"input": {"name": "Feedback", "isPublic": True, "elements": inspection_elements(company)}}
    )
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "ticket"}
    internal = await create_template(gql, company, publish=False)
    body = await manager(UPDATE_TEMPLATE, {"input": {"id": internal["id"], "isPublic": True}})
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "isPublic"}


@pytest.mark.parametrize(
    "name, elements, field",
    [
        ("  ", None, "name"),
        ("Begehung", [], "elements"),
        ("Begehung", [{"key": "1abc", "kind": "TEXT", "label": "x"}], "1abc"),
        ("Begehung", [{"key": "", "kind": "TEXT", "label": "x"}], "elements.0.key"),
    ],
)
async def test_template_level_validation(gql, company, name, elements, field):
    body = await gql.as_viewer(company.manager.token)(
        CREATE_TEMPLATE,
        {"input": {"name": name, "elements": inspection_elements(company) if elements is None else elements}},
    )
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": field}


async def test_a_draft_changes_in_place_a_published_template_gets_versions(gql, company):
    manager = gql.as_viewer(company.manager.token)
    template = await create_template(gql, company, publish=False)
    data = await manager.ok(UPDATE_TEMPLATE, {"input": {"id": template["id"], "name": "Begehung Kita"}})
    assert data["updateFormTemplate"]["version"] == 1
    assert await FormTemplateVersion.all().count() == 1

    published = (await manager.ok(PUBLISH, {"id": template["id"]}))["publishFormTemplate"]
    assert published["status"] == "PUBLISHED" and published["publicToken"] is None
    data = await manager.ok(UPDATE_TEMPLATE, {"input": {"id": template["id"], "name": "Begehung Kita"}})
    assert data["updateFormTemplate"]["version"] == 1  # nothing changed, no new version
    data = await manager.ok(UPDATE_TEMPLATE, {"input": {"id": template["id"], "description": "Neu"}})
    assert data["updateFormTemplate"]["version"] == 2
    assert data["updateFormTemplate"]["name"] == "Begehung Kita"
    versions = (await manager.ok(ONE, {"id": template["id"]}))["formTemplate"]["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    first = await FormTemplateVersion.get(version=1)
    assert first.description == "Monatliche Begehung"  # the published version is untouched

    body = await manager(UPDATE_TEMPLATE, {"input": {"id": template["id"], "isPublic": True}})
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "isPublic"}

    archived = (await manager.ok(ARCHIVE, {"id": template["id"]}))["archiveFormTemplate"]
    assert archived["status"] == "ARCHIVED"
    again = (await manager.ok(PUBLISH, {"id": template["id"]}))["publishFormTemplate"]
    assert again["status"] == "PUBLISHED" and again["version"] == 2


async def test_public_template_gets_a_token_when_published(gql, company):
    template = await create_template(
        gql, company, [{"key": "q", "kind": "TEXT", "label": "Frage"}], name="Feedback", is_public=True, publish=False
    )
    assert template["publicToken"] is None
    published = await gql.as_viewer(company.manager.token).ok(PUBLISH, {"id": template["id"]})
    token = published["publishFormTemplate"]["publicToken"]
    assert token and len(token) >= 24
    # Anyone may read it by token; the token itself is for employees.
    body = await gql("query($t: String!) { publicFormTemplate(token: $t) { name publicToken } }", {"t": token})
    assert errors_of(body)["code"] == "UNAUTHENTICATED"
    body = await gql("query($t: String!) { publicFormTemplate(token: $t) { name elements { key } } }", {"t": token})
    assert body["data"]["publicFormTemplate"] == {"name": "Feedback", "elements": [{"key": "q"}]}


async def test_unknown_template_ids_are_not_found(gql, company):
    manager = gql.as_viewer(company.manager.token)
    missing = company.gid("FormTemplate", 999)
    assert await manager.error_code(PUBLISH, {"id": missing}) == "NOT_FOUND"
    assert await manager.error_code(UPDATE_TEMPLATE, {"input": {"id": missing, "name": "x"}}) == "NOT_FOUND"
    assert await manager.error_code(PUBLISH, {"id": company.gid("Ticket", 1)}) == "NOT_FOUND"
