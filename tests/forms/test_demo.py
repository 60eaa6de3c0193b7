"""The demo's forms: the "Objektbegehung" inspection with its re-cleaning ticket, and public feedback."""

from __future__ import annotations

from files.backends import store_for
from models.forms import FormSubmission, FormTemplate, FormTemplateStatus
from models.tickets import Attachment, Ticket, TicketSource
from server.demo import seed_demo
from tests.forms.conftest import pdf_text


async def test_demo_inspection_raises_a_recleaning_ticket_with_the_report(settings):
    await seed_demo(settings)
    inspection = await FormTemplate.get(name="Objektbegehung")
    assert inspection.status is FormTemplateStatus.PUBLISHED and not inspection.is_public
    assert await FormSubmission.filter(template_id=inspection.id).count() == 2

    [ticket] = await Ticket.filter(source=TicketSource.FORM).prefetch_related("ticket_type")
    assert ticket.ticket_type.name == "Nachreinigung"
    assert ticket.title == "Nachreinigung Sanitärräume"
    [attachment] = await Attachment.filter(ticket_id=ticket.id)
    assert attachment.content_type == "application/pdf"
    text = pdf_text(store_for(settings).read_bytes(attachment.storage_key))
    assert "Objektbegehung" in text and "2 / 5" in text and f"#{ticket.number}" in text

    feedback = await FormTemplate.get(name="Feedback")
    assert feedback.is_public and feedback.public_token
    submissions = await FormSubmission.filter(template_id=feedback.id)
    assert len(submissions) == 3
    assert all(s.submitted_by_id is None and s.object_id is None for s in submissions)
