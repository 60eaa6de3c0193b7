"""Many inspectors submitting at once: every submission commits, ticket numbers stay unique and gap-free."""

from __future__ import annotations

import asyncio

import resolvers.forms.submit
from models.forms import FormSubmission
from models.tickets import Attachment, Ticket
from tests.forms.conftest import SUBMIT, create_template, download, errors_of, pdf_text, stored_counts, submit_input

CREATE_TICKET = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { number } }"""


async def test_fifty_concurrent_submissions_and_other_tickets_meanwhile(gql, company):
    template = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    bad_room = [{"key": "room", "number": 1}, {"key": "recleaning", "boolean": True}]
    submissions = [
        inspector(SUBMIT, submit_input(company, template, bad_room, clientSubmissionId=f"c-{i}")) for i in range(50)
    ]
    # Tickets created elsewhere at the same time take numbers the forms may have counted on.
    others = [
        inspector(
            CREATE_TICKET,
            {
                "input": {
                    "objectId": company.gid("SiteObject", company.site.id),
                    "ticketTypeId": company.gid("TicketType", company.defect.id),
                    "title": f"Parallel {i}",
                }
            },
        )
        for i in range(10)
    ]
    results = await asyncio.gather(*submissions, *others)
    for body in results:
        assert not body.get("errors"), body["errors"]

    numbers = sorted(await Ticket.all().values_list("number", flat=True))
    assert numbers == list(range(1, 61))
    assert await FormSubmission.all().count() == 50
    assert await Ticket.filter(form_submission_id__isnull=False).count() == 50
    assert await Attachment.all().count() == 50
    # Each submission's answer names the ticket it really got.
    for body in results[:50]:
        submission = body["data"]["submitForm"]
        [ticket] = submission["createdTickets"]
        assert {
            "key": "ticket",
            "label": "Nachreinigung beauftragen",
            "value": f"Ticket #{ticket['number']}",
            "kind": "CREATE_TICKET",
            "fileUrl": None,
        } in submission["answers"]


async def test_a_stale_number_prediction_renders_the_pdf_again(gql, company, client, settings, monkeypatch):
    template = await create_template(gql, company)
    real = resolvers.forms.submit._peek_next_number
    calls = []

    async def stale_once():
        calls.append(1)
        number = await real()
        return number + 7 if len(calls) == 1 else number

    monkeypatch.setattr(resolvers.forms.submit, "_peek_next_number", stale_once)
    before = await stored_counts(settings)
    data = await gql.as_viewer(company.inspector.token).ok(
        SUBMIT, submit_input(company, template, [{"key": "room", "number": 1}, {"key": "recleaning", "boolean": True}])
    )
    [ticket] = data["submitForm"]["createdTickets"]
    assert len(calls) == 2
    assert ticket["number"] == 1
    text = pdf_text((await download(client, data["submitForm"]["pdfUrl"])).content)
    assert "#1" in text and "#8" not in text
    # Only the PDF that was kept is on disk.
    assert len((await stored_counts(settings))["files"] - before["files"]) == 1


async def test_numbers_that_never_fit_store_nothing(gql, company, settings, monkeypatch):
    template = await create_template(gql, company)

    async def always_stale():
        return 1000

    monkeypatch.setattr(resolvers.forms.submit, "_peek_next_number", always_stale)
    before = await stored_counts(settings)
    body = await gql.as_viewer(company.inspector.token)(
        SUBMIT, submit_input(company, template, [{"key": "room", "number": 1}, {"key": "recleaning", "boolean": True}])
    )
    assert errors_of(body)["code"] == "RATE_LIMITED"
    assert await stored_counts(settings) == before
