"""Which changes become which events: forms, attachments; and several senders sharing the outbox."""

from __future__ import annotations

import asyncio

from core.ids import to_global_id as gid
from models.webhooks import WebhookDelivery, WebhookDeliveryStatus
from tests.forms.conftest import SUBMIT, create_template, submit_input
from tests.webhooks.conftest import COMMENT, CREATE_TICKET, make_webhook, run_round

FORM_EVENTS = ["FORM_SUBMITTED", "TICKET_CREATED", "ATTACHMENT_ADDED"]


async def test_a_form_submission_reaches_employees_not_customer_users(world, gql, company, receiver, hook_settings):
    await make_webhook(world, receiver.url("/staff"), FORM_EVENTS, gid("Employee", world.staff.pk))
    await make_webhook(world, receiver.url("/portal"), FORM_EVENTS, gid("CustomerUser", company.portal_user.pk))
    template = await create_template(gql, company)
    inspector = gql.as_viewer(company.inspector.token)
    answers = [
        {"key": "room", "number": 1},
        {"key": "recleaning", "boolean": True},
        {"key": "remarks", "text": "Staub"},
    ]
    submitted = (await inspector.ok(SUBMIT, submit_input(company, template, answers)))["submitForm"]
    await run_round(hook_settings)

    staff = {r.json["type"]: r.json["data"] for r in receiver.to("/staff")}
    assert set(staff) == {"FORM_SUBMITTED", "TICKET_CREATED", "ATTACHMENT_ADDED"}
    submission = staff["FORM_SUBMITTED"]["submission"]
    assert submission["id"] == submitted["id"] and submission["template"]["name"] == "Objektbegehung"
    assert {"key": "remarks", "label": "Bemerkungen", "value": "Staub", "kind": "TEXT"} in submission["answers"]
    assert [t["title"] for t in submission["createdTickets"]] == ["Nachreinigung Gruppenraum"]
    assert staff["ATTACHMENT_ADDED"]["attachment"]["contentType"] == "application/pdf"

    # The customer user sees the ticket on her object (its type is enabled), never the submission.
    portal = {r.json["type"]: r.json["data"] for r in receiver.to("/portal")}
    assert set(portal) == {"TICKET_CREATED", "ATTACHMENT_ADDED"}
    assert all("Staub" not in r.body.decode() for r in receiver.to("/portal"))
    skipped = await WebhookDelivery.filter(status=WebhookDeliveryStatus.SKIPPED).values_list("event", flat=True)
    assert [str(e.value) for e in skipped] == ["FORM_SUBMITTED"]


async def test_attachment_removed_names_the_file(world, receiver, hook_settings, settings):
    await make_webhook(
        world, receiver.url(), ["ATTACHMENT_ADDED", "ATTACHMENT_REMOVED"], gid("Employee", world.staff.pk)
    )
    created = await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Foto",
            }
        },
    )
    ticket_id = created["createTicket"]["id"]
    upload = await world.as_(world.alice).upload(
        "mutation($t: ID!, $f: Upload!) { addAttachment(ticketId: $t, file: $f) { id } }",
        {"t": ticket_id, "f": None},
        {"variables.f": ("befund.txt", b"Wasserfleck im Flur")},
    )
    attachment_id = upload.json()["data"]["addAttachment"]["id"]
    await world.as_(world.alice).ok("mutation($id: ID!) { deleteAttachment(id: $id) }", {"id": attachment_id})
    await run_round(hook_settings)
    got = {r.json["type"]: r.json["data"] for r in receiver.to("/hook")}
    # Added and removed before the sender ran: the added event finds the file gone and is dropped.
    assert set(got) == {"ATTACHMENT_REMOVED"}
    assert got["ATTACHMENT_REMOVED"]["attachment"] == {"id": attachment_id, "filename": "befund.txt"}
    assert got["ATTACHMENT_REMOVED"]["ticket"]["id"] == ticket_id


async def test_two_senders_share_the_outbox_and_send_each_delivery_once(world, receiver, hook_settings):
    await make_webhook(world, receiver.url(), ["COMMENT_ADDED"], gid("Employee", world.staff.pk))
    created = await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Viele",
            }
        },
    )
    for n in range(12):
        await world.as_(world.staff).ok(
            COMMENT, {"input": {"ticketId": created["createTicket"]["id"], "body": f"Nummer {n}"}}
        )
    first, second = await asyncio.gather(run_round(hook_settings, limit=8), run_round(hook_settings, limit=8))
    third = await run_round(hook_settings, limit=8)
    assert first.delivered + second.delivered + third.delivered == 12
    ids = [r.headers["webhook-id"] for r in receiver.to("/hook")]
    assert len(ids) == len(set(ids)) == 12
