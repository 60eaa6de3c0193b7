"""Filling inspection forms over GraphQL: PRODUCT.md's example end to end, all or nothing, retries, refusals."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

import resolvers.forms.submit
from models.forms import FormFile, FormSubmission
from models.tickets import Attachment, Ticket, TicketEvent, TicketEventKind, TicketSource
from tests.forms.conftest import (
    SUBMIT,
    SUBMIT_PUBLIC,
    UPDATE_TEMPLATE,
    create_template,
    download,
    errors_of,
    inspection_elements,
    pdf_images,
    pdf_text,
    png_bytes,
    stored_counts,
    submit_input,
    upload_submit,
)

BAD_ROOM = [{"key": "room", "number": 2}, {"key": "recleaning", "boolean": True}]


async def test_good_rating_creates_no_ticket_and_hides_the_follow_up(gql, company, client):
    template = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    # An answer to the hidden follow-up is ignored, not refused.
    data = await inspector.ok(
        SUBMIT,
        submit_input(
            company,
            template,
            [
                {"key": "room", "number": 4},
                {"key": "recleaning", "boolean": True},
                {"key": "remarks", "text": "Alles sauber."},
            ],
        ),
    )
    submission = data["submitForm"]
    assert submission["createdTickets"] == []
    assert [(a["key"], a["value"]) for a in submission["answers"]] == [
        ("room", "4 / 5"),
        ("remarks", "Alles sauber."),
        ("photo", ""),
    ]
    assert submission["submittedBy"] == {"name": "Jonas Weber"}
    assert submission["object"]["name"] == "Kita Lindenweg"
    assert await Ticket.all().count() == 0
    text = pdf_text((await download(client, submission["pdfUrl"])).content)
    assert "4 / 5" in text and "Nachreinigung notwendig?" not in text


async def test_bad_rating_and_yes_creates_the_ticket_with_the_pdf(gql, company, client):
    template = await create_template(gql, company)
    due = (date.today() + timedelta(days=3)).isoformat()
    photo = png_bytes((120, 90))
    variables = submit_input(
        company,
        template,
        [
            {"key": "room", "number": 2},
            {"key": "recleaning", "boolean": True},
            {"key": "ticket", "ticket": {"dueDate": due, "description": "Boden klebt unter den Tischen."}},
            {"key": "remarks", "text": "Fensterbänke staubig"},
            {"key": "photo", "upload": None},
        ],
    )
    body = await upload_submit(
        gql, company.inspector.token, SUBMIT, variables, {"variables.input.answers.4.upload": ("boden.png", photo)}
    )
    assert not body.get("errors"), body
    submission = body["data"]["submitForm"]

    [ticket] = submission["createdTickets"]
    assert ticket["ticketType"]["name"] == "Nachreinigung"
    assert ticket["title"] == "Nachreinigung Gruppenraum"
    assert ticket["description"] == "Boden klebt unter den Tischen."
    assert ticket["dueDate"] == due
    assert ticket["object"]["name"] == "Kita Lindenweg"
    assert ticket["source"] == "FORM" and ticket["status"] == "OPEN"
    assert ticket["createdBy"] == {"name": "Jonas Weber"}
    [attachment] = ticket["attachments"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["filename"].startswith("Objektbegehung") and attachment["filename"].endswith(".pdf")

    answers = {a["key"]: a for a in submission["answers"]}
    assert answers["room"]["value"] == "2 / 5"
    assert answers["recleaning"]["value"] == "Ja"
    assert answers["ticket"]["value"] == f"Ticket #{ticket['number']}"
    assert answers["photo"]["value"] == "boden.png" and answers["photo"]["fileUrl"]
    assert (await download(client, answers["photo"]["fileUrl"])).content == photo

    pdf = (await download(client, submission["pdfUrl"])).content
    assert (await download(client, attachment["downloadUrl"])).content == pdf
    text = pdf_text(pdf)
    for expected in (
        "Objektbegehung",
        "Version 1",
        "Kita Lindenweg",
        "Lindenweg 7, 12345 Musterstadt",
        "Jonas Weber",
        "Gruppenraum Bärchen",
        "2 / 5",
        "Nachreinigung notwendig?",
        "Ja",
        "Fensterbänke staubig",
        f"#{ticket['number']}",
        "Nachreinigung Gruppenraum",
        "Bitte jeden Raum bewerten.",
    ):
        assert expected in text, expected
    assert pdf_images(pdf) == 1

    row = await Ticket.get(number=ticket["number"])
    assert row.form_submission_id == (await FormSubmission.get()).id
    assert row.source is TicketSource.FORM
    kinds = [e.kind for e in await TicketEvent.filter(ticket_id=row.id).order_by("id")]
    assert kinds == [TicketEventKind.CREATED, TicketEventKind.ATTACHMENT_ADDED]


async def test_customer_user_sees_the_ticket_and_its_pdf_but_no_submission(gql, company, client):
    template = await create_template(gql, company)
    await gql.as_viewer(company.inspector.token).ok(SUBMIT, submit_input(company, template, BAD_ROOM))
    portal = gql.as_viewer(company.portal_user.token)
    data = await portal.ok("{ tickets { edges { node { title attachments { contentType downloadUrl } } } } }")
    [edge] = data["tickets"]["edges"]
    [attachment] = edge["node"]["attachments"]
    assert "Gruppenraum Bärchen" in pdf_text((await download(client, attachment["downloadUrl"])).content)
    assert await portal.error_code("{ formSubmissions { totalCount } }") == "FORBIDDEN"
    assert await portal.error_code("{ formTemplates { id } }") == "FORBIDDEN"
    node = await portal("query($id: ID!) { node(id: $id) { id } }", {"id": company.gid("FormSubmission", 1)})
    assert node["data"]["node"] is None


async def test_without_attach_pdf_the_ticket_has_no_attachment(gql, company):
    template = await create_template(gql, company, inspection_elements(company, attach_pdf=False))
    data = await gql.as_viewer(company.inspector.token).ok(SUBMIT, submit_input(company, template, BAD_ROOM))
    [ticket] = data["submitForm"]["createdTickets"]
    assert ticket["attachments"] == []
    assert ticket["description"] == "Bei der Begehung beanstandet."
    assert ticket["dueDate"] is None


@pytest.mark.parametrize(
    "answers, field",
    [
        ([{"key": "room"}], "room"),  # required, no value
        ([], "room"),  # required, missing
        ([{"key": "room", "number": 6}], "room"),  # outside the scale
        ([{"key": "room", "number": 2.5}], "room"),  # not a whole number
        ([{"key": "room", "text": "gut"}], "room"),  # wrong value field
        ([{"key": "room", "number": 2}], "recleaning"),  # visible and required
        ([{"key": "room", "number": 2}, {"key": "recleaning", "text": "ja"}], "recleaning"),
        ([*BAD_ROOM, {"key": "ticket", "ticket": {"title": "Anderer Titel"}}], "ticket"),  # title not editable
        ([{"key": "room", "number": 3}, {"key": "nope", "text": "x"}], "nope"),  # unknown key
        ([{"key": "room", "number": 3}, {"key": "room", "number": 4}], "room"),  # answered twice
        ([{"key": "room", "number": 3}, {"key": "remarks", "number": 1}], "remarks"),
    ],
)
async def test_every_validation_failure_names_the_element_and_stores_nothing(gql, company, settings, answers, field):
    template = await create_template(gql, company)
    before = await stored_counts(settings)
    body = await gql.as_viewer(company.inspector.token)(SUBMIT, submit_input(company, template, answers))
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": field}
    assert await stored_counts(settings) == before


async def test_due_date_where_not_allowed_is_refused(gql, company, settings):
    template = await create_template(gql, company, inspection_elements(company, allowDueDate=False))
    before = await stored_counts(settings)
    body = await gql.as_viewer(company.inspector.token)(
        SUBMIT, submit_input(company, template, [*BAD_ROOM, {"key": "ticket", "ticket": {"dueDate": "2030-01-01"}}])
    )
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "ticket"}
    assert await stored_counts(settings) == before


@pytest.mark.parametrize(
    "filename, data",
    [
        ("notiz.png", b"just some text pretending to be a photo"),
        ("kaputt.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # PNG signature, no image behind it
    ],
)
async def test_a_photo_that_is_no_image_stores_nothing(gql, company, settings, filename, data):
    template = await create_template(gql, company)
    # Everything else is valid and would create a ticket with the PDF.
    variables = submit_input(company, template, [*BAD_ROOM, {"key": "photo", "upload": None}])
    before = await stored_counts(settings)
    body = await upload_submit(
        gql, company.inspector.token, SUBMIT, variables, {"variables.input.answers.2.upload": (filename, data)}
    )
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "photo"}
    assert await stored_counts(settings) == before


async def test_a_failure_inside_the_transaction_stores_nothing(gql, company, settings, monkeypatch):
    """A database error after the submission, files and ticket rows were written rolls all of it back."""
    template = await create_template(gql, company)
    real_attach = resolvers.forms.submit.attach_stored

    async def failing_attach(*args, **kwargs):
        await real_attach(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(resolvers.forms.submit, "attach_stored", failing_attach)
    variables = submit_input(company, template, [*BAD_ROOM, {"key": "photo", "upload": None}])
    before = await stored_counts(settings)
    body = await upload_submit(
        gql, company.inspector.token, SUBMIT, variables, {"variables.input.answers.2.upload": ("foto.png", png_bytes())}
    )
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await stored_counts(settings) == before


async def test_retried_client_submission_id_returns_the_first_submission(gql, company):
    template = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    variables = submit_input(company, template, BAD_ROOM, clientSubmissionId="phone-42-0001")
    first = (await inspector.ok(SUBMIT, variables))["submitForm"]
    second = (await inspector.ok(SUBMIT, variables))["submitForm"]
    assert second["id"] == first["id"]
    assert second["clientSubmissionId"] == "phone-42-0001"
    assert [t["number"] for t in second["createdTickets"]] == [t["number"] for t in first["createdTickets"]]
    assert await Ticket.all().count() == 1
    assert await FormSubmission.all().count() == 1
    # The id belongs to the submitter: a colleague's identical id is another submission.
    other = gql.as_viewer(company.manager.token)
    third = (await other.ok(SUBMIT, variables))["submitForm"]
    assert third["id"] != first["id"]
    assert await Ticket.all().count() == 2


async def test_concurrent_retries_create_one_set_of_tickets(gql, company):
    template = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    variables = submit_input(company, template, BAD_ROOM, clientSubmissionId="retry-storm")
    results = await asyncio.gather(*(inspector.ok(SUBMIT, variables) for _ in range(6)))
    assert len({r["submitForm"]["id"] for r in results}) == 1
    assert await Ticket.all().count() == 1
    assert await FormSubmission.all().count() == 1
    assert await Attachment.all().count() == 1
    assert await FormFile.all().count() == 1


async def test_client_submission_id_of_another_template_is_refused(gql, company):
    template = await create_template(gql, company)
    other = await create_template(gql, company, name="Qualitätskontrolle")
    inspector = gql.as_viewer(company.inspector.token)
    await inspector.ok(SUBMIT, submit_input(company, template, BAD_ROOM, clientSubmissionId="x1"))
    body = await inspector(SUBMIT, submit_input(company, other, BAD_ROOM, clientSubmissionId="x1"))
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "clientSubmissionId"}


async def test_template_edit_after_submissions_keeps_old_version_and_pdf(gql, company, client):
    template = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    old = (await inspector.ok(SUBMIT, submit_input(company, template, BAD_ROOM)))["submitForm"]
    old_pdf = (await download(client, old["pdfUrl"])).content

    elements = inspection_elements(company)
    elements[1]["label"] = "Gruppenraum Igel"
    elements.insert(
        2,
        {"key": "smell", "kind": "SINGLE_CHOICE", "label": "Geruch", "options": ["frisch", "muffig"], "required": True},
    )
    manager = gql.as_viewer(company.manager.token)
    updated = await manager.ok(UPDATE_TEMPLATE, {"input": {"id": template["id"], "elements": elements}})
    assert updated["updateFormTemplate"]["version"] == 2
    assert updated["updateFormTemplate"]["status"] == "PUBLISHED"

    query = """query($id: ID!) { node(id: $id) { ... on FormSubmission {
        templateVersion version { version elements { key label } } answers { key label value } pdfUrl
        template { version } } } }"""
    again = (await inspector.ok(query, {"id": old["id"]}))["node"]
    assert again["templateVersion"] == 1
    assert again["template"]["version"] == 2
    assert [e["label"] for e in again["version"]["elements"]][1] == "Gruppenraum Bärchen"
    assert again["answers"][0] == {"key": "room", "label": "Gruppenraum Bärchen", "value": "2 / 5"}
    assert (await download(client, again["pdfUrl"])).content == old_pdf

    # New submissions are checked against version 2.
    body = await inspector(SUBMIT, submit_input(company, template, BAD_ROOM))
    assert errors_of(body) == {"code": "BAD_USER_INPUT", "field": "smell"}
    new = (
        await inspector.ok(
            SUBMIT,
            submit_input(company, template, [{"key": "room", "number": 5}, {"key": "smell", "choices": ["frisch"]}]),
        )
    )["submitForm"]
    assert new["templateVersion"] == 2
    assert "Gruppenraum Igel" in pdf_text((await download(client, new["pdfUrl"])).content)


async def test_public_form_is_filled_anonymously(gql, company, client):
    elements = [
        {"key": "name", "kind": "TEXT", "label": "Ihr Name"},
        {"key": "score", "kind": "RATING", "label": "Wie zufrieden sind Sie?", "scale": 10, "required": True},
        {
            "key": "topics",
            "kind": "MULTIPLE_CHOICE",
            "label": "Was ist Ihnen aufgefallen?",
            "options": ["Sauberkeit", "Freundlichkeit", "Pünktlichkeit"],
        },
        {"key": "visit", "kind": "DATE", "label": "Datum des Besuchs"},
    ]
    template = await create_template(gql, company, elements, name="Feedback", is_public=True)
    token = template["publicToken"]
    assert token
    loaded = await gql(
        "query($t: String!) { publicFormTemplate(token: $t) { name elements { key kind } } }", {"t": token}
    )
    assert loaded["data"]["publicFormTemplate"]["name"] == "Feedback"
    data = await gql.ok(
        SUBMIT_PUBLIC,
        {
            "token": token,
            "answers": [
                {"key": "name", "text": "Zoë Åberg-Şahin"},
                {"key": "score", "number": 9},
                {"key": "topics", "choices": ["Sauberkeit", "Pünktlichkeit"]},
                {"key": "visit", "date": "2026-11-02"},
            ],
        },
    )
    submission = data["submitPublicForm"]
    assert submission["submittedBy"] is None and submission["object"] is None
    assert submission["createdTickets"] == []
    assert [a["value"] for a in submission["answers"]] == [
        "Zoë Åberg-Şahin",
        "9 / 10",
        "Sauberkeit, Pünktlichkeit",
        "02.11.2026",
    ]
    text = pdf_text((await download(client, submission["pdfUrl"])).content)
    assert "Feedback" in text and "Zoë Åberg-Şahin" in text and "Anonym" in text
    row = await FormSubmission.all().first()
    assert row.submitted_by_id is None and row.object_id is None

    # An unknown or archived link is not found.
    body = await gql(SUBMIT_PUBLIC, {"token": "nope", "answers": []})
    assert errors_of(body)["code"] == "NOT_FOUND"
    await gql.as_viewer(company.manager.token).ok(
        """mutation($id: ID!) { archiveFormTemplate(id: $id) { status } }""", {"id": template["id"]}
    )
    body = await gql(SUBMIT_PUBLIC, {"token": token, "answers": [{"key": "score", "number": 5}]})
    assert errors_of(body)["code"] == "NOT_FOUND"
    again = await gql("query($t: String!) { publicFormTemplate(token: $t) { id } }", {"t": token})
    assert again["data"]["publicFormTemplate"] is None


async def test_public_form_cannot_be_submitted_as_internal_nor_internal_by_token(gql, company):
    public = await create_template(
        gql, company, [{"key": "q", "kind": "TEXT", "label": "Frage"}], name="Feedback", is_public=True
    )
    internal = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    body = await inspector(SUBMIT, submit_input(company, public, [{"key": "q", "text": "x"}]))
    assert errors_of(body)["code"] == "NOT_FOUND"
    assert internal["publicToken"] is None


async def test_customer_users_and_anonymous_cannot_fill_internal_forms(gql, company, settings):
    template = await create_template(gql, company)
    before = await stored_counts(settings)
    portal = gql.as_viewer(company.portal_user.token)
    assert await portal.error_code(SUBMIT, submit_input(company, template, BAD_ROOM)) == "FORBIDDEN"
    assert await gql.error_code(SUBMIT, submit_input(company, template, BAD_ROOM)) == "UNAUTHENTICATED"
    assert await stored_counts(settings) == before


async def test_drafts_and_archived_templates_cannot_be_filled(gql, company):
    draft = await create_template(gql, company, publish=False)
    inspector = gql.as_viewer(company.inspector.token)
    assert await inspector.error_code(SUBMIT, submit_input(company, draft, BAD_ROOM)) == "NOT_FOUND"
    published = await create_template(gql, company, name="Zweite")
    await gql.as_viewer(company.manager.token).ok(
        """mutation($id: ID!) { archiveFormTemplate(id: $id) { status } }""", {"id": published["id"]}
    )
    assert await inspector.error_code(SUBMIT, submit_input(company, published, BAD_ROOM)) == "NOT_FOUND"


async def test_unknown_object_is_not_found(gql, company):
    template = await create_template(gql, company)
    variables = submit_input(company, template, BAD_ROOM)
    variables["input"]["objectId"] = company.gid("SiteObject", 9999)
    body = await gql.as_viewer(company.inspector.token)(SUBMIT, variables)
    assert errors_of(body) == {"code": "NOT_FOUND", "field": "objectId"}


async def test_form_submissions_filter_and_page(gql, company):
    template = await create_template(gql, company)
    other = await create_template(gql, company, name="Qualitätskontrolle")
    inspector = gql.as_viewer(company.inspector.token)
    for site in (company.site, company.other_site, company.site):
        await inspector.ok(SUBMIT, submit_input(company, template, [{"key": "room", "number": 5}], site=site))
    await inspector.ok(SUBMIT, submit_input(company, other, [{"key": "room", "number": 3}]))
    query = """query($filter: FormSubmissionFilter, $first: Int, $after: String) {
      formSubmissions(filter: $filter, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { template { name } object { name } answers { value } } } } }"""
    data = await inspector.ok(
        query, {"filter": {"templateId": template["id"], "objectId": company.gid("SiteObject", company.site.id)}}
    )
    assert data["formSubmissions"]["totalCount"] == 2
    page = (await inspector.ok(query, {"first": 3}))["formSubmissions"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"]
    assert page["edges"][0]["node"]["template"]["name"] == "Qualitätskontrolle"  # newest first
    rest = (await inspector.ok(query, {"first": 3, "after": page["pageInfo"]["endCursor"]}))["formSubmissions"]
    assert len(rest["edges"]) == 1
    today = date.today()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (await inspector.ok(query, {"filter": {"from": tomorrow}}))["formSubmissions"]["totalCount"] == 0
    assert (await inspector.ok(query, {"filter": {"to": tomorrow, "from": (today - timedelta(days=1)).isoformat()}}))[
        "formSubmissions"
    ]["totalCount"] == 4
