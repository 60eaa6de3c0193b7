"""Shared set-up for the form tests: the shared world seen from the forms, the PRODUCT.md inspection
template, GraphQL helpers."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader

from core.ids import to_global_id
from core.settings import Settings
from models.customers import Customer, SiteObject
from models.forms import FormFile, FormSubmission
from models.tickets import Attachment, Ticket, TicketEvent, TicketType
from tests.conftest import GraphQLClient, World
from tests.factories import Person, make_customer_user, make_site_object, make_ticket_type
from tests.storage import stored_files

TEMPLATE_FIELDS = """id name description isPublic status version publicToken publishedAt
  elements { key kind label description required options scale
             visibleIf { key operator value }
             ticket { title description titleEditable descriptionEditable allowDueDate attachPdf
                      ticketType { id name } } }"""

CREATE_TEMPLATE = f"""mutation($input: CreateFormTemplateInput!) {{
  createFormTemplate(input: $input) {{ {TEMPLATE_FIELDS} }}
}}"""
UPDATE_TEMPLATE = f"""mutation($input: UpdateFormTemplateInput!) {{
  updateFormTemplate(input: $input) {{ {TEMPLATE_FIELDS} }}
}}"""
PUBLISH = """mutation($id: ID!) { publishFormTemplate(id: $id) { id status publicToken version } }"""
ARCHIVE = """mutation($id: ID!) { archiveFormTemplate(id: $id) { id status } }"""

SUBMISSION_FIELDS = """id submittedAt templateVersion clientSubmissionId
  template { id name version }
  version { version name elements { key label } }
  object { id name address }
  submittedBy { name }
  answers { key label value kind fileUrl }
  createdTickets { id number title description dueDate source status
                   ticketType { name } object { id name } createdBy { name }
                   attachments { filename contentType downloadUrl } }
  pdfUrl"""
SUBMIT = f"""mutation($input: SubmitFormInput!) {{ submitForm(input: $input) {{ {SUBMISSION_FIELDS} }} }}"""
SUBMIT_PUBLIC = """mutation($token: String!, $answers: [AnswerInput!]!) {
  submitPublicForm(token: $token, answers: $answers) {
    id submittedBy { name } object { id } answers { key label value } createdTickets { id } pdfUrl
  }
}"""


@dataclass
class Company:
    """Customer B of the shared world ("Kita") as the forms see it."""

    customer: Customer
    site: SiteObject  # "Kita Lindenweg", the inspected site (its address is in every PDF)
    other_site: SiteObject  # world.b1
    recleaning: TicketType  # "Nachreinigung", enabled for the customer: what the inspection orders
    defect: TicketType  # world.defect
    absence: TicketType  # world.vacation
    manager: Person  # world.petra: MANAGE_CHECK_TEMPLATES
    inspector: Person  # world.staff, Jonas Weber: a plain employee
    portal_user: Person  # a customer user assigned to `site`

    def gid(self, kind: str, pk: int) -> str:
        return to_global_id(kind, pk)


@pytest.fixture
async def company(world: World, settings: Settings) -> Company:
    site = await make_site_object(world.b, "Kita Lindenweg", address="Lindenweg 7, 12345 Musterstadt")
    recleaning = await make_ticket_type("Nachreinigung", enabled_for=[world.b])
    portal_user = await make_customer_user(settings, world.b, objects=[site], name="Sandra Hoffmann")
    return Company(
        world.b, site, world.b1, recleaning, world.defect, world.vacation, world.petra, world.staff, portal_user
    )


def inspection_elements(company: Company, attach_pdf: bool = True, **ticket: Any) -> list[dict[str, Any]]:
    """PRODUCT.md's example: rate a room; on a bad rating ask for re-cleaning; on yes, a ticket."""
    settings = {
        "ticketTypeId": company.gid("TicketType", company.recleaning.id),
        "title": "Nachreinigung Gruppenraum",
        "description": "Bei der Begehung beanstandet.",
        "titleEditable": False,
        "descriptionEditable": True,
        "allowDueDate": True,
        "attachPdf": attach_pdf,
        **ticket,
    }
    return [
        {"key": "intro", "kind": "INFO", "label": "Bitte jeden Raum bewerten."},
        {"key": "room", "kind": "RATING", "label": "Gruppenraum Bärchen", "required": True, "scale": 5},
        {
            "key": "recleaning",
            "kind": "YES_NO",
            "label": "Nachreinigung notwendig?",
            "required": True,
            "visibleIf": {"key": "room", "operator": "LTE", "value": "2"},
        },
        {
            "key": "ticket",
            "kind": "CREATE_TICKET",
            "label": "Nachreinigung beauftragen",
            "description": "Wird beim Abschluss als Ticket angelegt.",
            "visibleIf": {"key": "recleaning", "operator": "EQ", "value": "true"},
            "ticket": settings,
        },
        {"key": "remarks", "kind": "TEXT", "label": "Bemerkungen"},
        {"key": "photo", "kind": "PHOTO", "label": "Foto"},
    ]


async def create_template(
    gql: GraphQLClient,
    company: Company,
    elements: list[dict[str, Any]] | None = None,
    name: str = "Objektbegehung",
    is_public: bool = False,
    publish: bool = True,
) -> dict[str, Any]:
    manager = gql.as_viewer(company.manager.token)
    data = await manager.ok(
        CREATE_TEMPLATE,
        {
            "input": {
                "name": name,
                "description": "Monatliche Begehung",
                "isPublic": is_public,
                "elements": elements if elements is not None else inspection_elements(company),
            }
        },
    )
    template = data["createFormTemplate"]
    if publish:
        published = (await manager.ok(PUBLISH, {"id": template["id"]}))["publishFormTemplate"]
        template.update(published)
    return template


def submit_input(
    company: Company,
    template: dict[str, Any],
    answers: list[dict[str, Any]],
    site: SiteObject | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "input": {
            "templateId": template["id"],
            "objectId": company.gid("SiteObject", (site or company.site).id),
            "answers": answers,
            **extra,
        }
    }


def png_bytes(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    """A real PNG whose bytes no other test produces (in its pixels: metadata is removed on store)."""
    image = Image.new("RGB", size, color)
    for x, value in enumerate(uuid.uuid4().bytes[: min(16, size[0])]):
        image.putpixel((x, 0), (value, value, value))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def upload_submit(
    gql: GraphQLClient, token: str | None, query: str, variables: dict[str, Any], files: dict[str, tuple[str, bytes]]
) -> dict[str, Any]:
    response = await gql.upload(query, variables, files, token=token)
    assert response.status_code == 200, response.text
    return response.json()


def files_on_disk(settings: Settings) -> set[str]:
    """Stored files and temporary uploads, in whichever backend the run uses."""
    return stored_files(settings)


async def stored_counts(settings: Settings) -> dict[str, Any]:
    """Rows and files a failed submission must not leave behind."""
    return {
        "submissions": await FormSubmission.all().count(),
        "tickets": await Ticket.all().count(),
        "attachments": await Attachment.all().count(),
        "form_files": await FormFile.all().count(),
        "events": await TicketEvent.all().count(),
        "files": files_on_disk(settings),
    }


async def download(http: httpx.AsyncClient, url: str) -> httpx.Response:
    response = await http.get(url)
    assert response.status_code == 200, response.text
    return response


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def pdf_images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def errors_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), json.dumps(body)[:500]
    return body["errors"][0]["extensions"]
