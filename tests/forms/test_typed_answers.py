"""Typed form answers (issue 15): each answer keeps its display text and gains its typed value."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.forms.conftest import create_template, download, png_bytes, submit_input, upload_submit

TYPED = """id pdfUrl answers { key kind value text number boolean choices date
  upload { filename contentType size downloadUrl } ticket { number title } }"""
SUBMIT = f"""mutation($input: SubmitFormInput!) {{ submitForm(input: $input) {{ {TYPED} }} }}"""
SUBMIT_PUBLIC = f"""mutation($token: String!, $answers: [AnswerInput!]!) {{
  submitPublicForm(token: $token, answers: $answers) {{ {TYPED} }} }}"""


def every_kind(company) -> list[dict]:
    return [
        {"key": "room", "kind": "RATING", "label": "Gruppenraum", "required": True, "scale": 5},
        {"key": "again", "kind": "YES_NO", "label": "Nachreinigung?"},
        {"key": "count", "kind": "NUMBER", "label": "Anzahl Fenster"},
        {"key": "floor", "kind": "SINGLE_CHOICE", "label": "Boden", "options": ["Parkett", "Fliesen"]},
        {"key": "areas", "kind": "MULTIPLE_CHOICE", "label": "Bereiche", "options": ["Flur", "Küche", "Bad"]},
        {"key": "next", "kind": "DATE", "label": "Nächste Begehung"},
        {"key": "remarks", "kind": "TEXT", "label": "Bemerkungen"},
        {"key": "photo", "kind": "PHOTO", "label": "Foto"},
        {"key": "unanswered", "kind": "TEXT", "label": "Leer"},
        {
            "key": "ticket",
            "kind": "CREATE_TICKET",
            "label": "Nachreinigung beauftragen",
            "ticket": {
                "ticketTypeId": company.gid("TicketType", company.recleaning.id),
                "title": "Nachreinigung",
                "description": "",
            },
        },
    ]


async def test_every_kind_answers_with_its_typed_value_and_keeps_its_text(world, company, gql, client):
    template = await create_template(gql, company, every_kind(company))
    image = png_bytes()
    answers = [
        {"key": "room", "number": 2},
        {"key": "again", "boolean": False},
        {"key": "count", "number": 12.5},
        {"key": "floor", "choices": ["Fliesen"]},
        {"key": "areas", "choices": ["Flur", "Bad"]},
        {"key": "next", "date": "2026-12-24"},
        {"key": "remarks", "text": "  Staub auf den Fensterbänken "},
        {"key": "photo", "upload": None},
    ]
    body = await upload_submit(
        gql,
        company.inspector.token,
        SUBMIT,
        submit_input(company, template, answers),
        {"variables.input.answers.7.upload": ("raum.png", image)},
    )
    assert not body.get("errors"), body
    submission = body["data"]["submitForm"]
    got = {a["key"]: a for a in submission["answers"]}
    nulls = {
        "text": None,
        "number": None,
        "boolean": None,
        "choices": None,
        "date": None,
        "upload": None,
        "ticket": None,
    }

    def expect(key: str, value: str, **typed) -> None:
        answer = dict(got[key])
        del answer["key"], answer["kind"]
        assert answer == {"value": value, **nulls, **typed}, key

    expect("room", "2 / 5", number=2.0)
    expect("again", "Nein", boolean=False)
    expect("count", "12.5", number=12.5)
    expect("floor", "Fliesen", choices=["Fliesen"])
    expect("areas", "Flur, Bad", choices=["Flur", "Bad"])
    expect("next", "24.12.2026", date="2026-12-24")
    expect("remarks", "Staub auf den Fensterbänken", text="Staub auf den Fensterbänken")
    expect("unanswered", "")
    upload = got["photo"]["upload"]
    assert upload["filename"] == "raum.png" and upload["contentType"] == "image/png" and upload["size"] == len(image)
    assert (await download(client, upload["downloadUrl"])).content == image
    ticket = got["ticket"]["ticket"]
    assert got["ticket"]["value"] == f"Ticket #{ticket['number']}" and ticket["title"] == "Nachreinigung"

    # The PDF keeps the display text.
    pdf = (await download(client, submission["pdfUrl"])).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "2 / 5" in text and "Nein" in text and "24.12.2026" in text


async def test_the_created_ticket_stays_hidden_from_who_may_not_see_it(world, company, gql):
    """The inspector reads the ticket through the answer; a customer user does not reach the submission."""
    template = await create_template(gql, company, every_kind(company))
    body = await gql.as_viewer(company.inspector.token)(
        SUBMIT, submit_input(company, template, [{"key": "room", "number": 5}])
    )
    submission_id = body["data"]["submitForm"]["id"]
    query = """query($id: ID!) { node(id: $id) { ... on FormSubmission { answers { key ticket { number } } } } }"""
    seen = await gql.as_viewer(company.inspector.token).ok(query, {"id": submission_id})
    assert {a["key"]: a["ticket"] for a in seen["node"]["answers"]}["ticket"] is not None
    # Carl (customer B, object b1) cannot see the ticket on Kita Lindenweg nor the submission.
    refused = await world.as_(world.carl)(query, {"id": submission_id})
    assert refused["data"]["node"] is None
