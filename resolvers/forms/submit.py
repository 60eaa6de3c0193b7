"""Submitting a form: its photo files, the PDF, the tickets it creates, all in one transaction.

Submitting is all or nothing: the submission, its photo files, the PDF, the
tickets it creates, their attachments, history and notification mails are
written in one transaction, and files stored for a submission that does not commit are
removed again. The PDF is rendered before that transaction (in a worker
thread, holding no database lock); the only thing it needs from inside the
transaction are the ticket numbers, so it is rendered with the numbers the
counter will hand out next, and the transaction checks it got exactly those
(else it rolls back and the PDF is rendered again). Submissions that create
tickets take turns on a process-wide lock while doing this, so within one
process they never race each other; a ticket created elsewhere in between
only costs a re-render.
"""

from __future__ import annotations

import asyncio
import io
import weakref
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import BadUserInput, NotFound, RateLimited
from core.lookup import get_in_scope
from core.settings import Settings
from files.backends import readable, store_for
from files.sniff import IMAGE_TYPES
from files.storage import StoredFile, clean_filename
from files.uploads import discard_unreferenced, release, store_file, store_uploads
from models.customers import SiteObject
from models.forms import FormFile, FormFileRole, FormSubmission, FormTemplate, FormTemplateVersion
from models.tickets import TicketSource, TicketType
from models.webhooks import WebhookEvent
from pdf.forms import FilledForm, PdfItem, PdfTicket, prepare_image, render_form_async
from permissions.customers import visible_objects
from permissions.forms import fillable_templates
from permissions.viewer import ANONYMOUS, Viewer
from resolvers import notifications
from resolvers.forms.answers import Checked, Kind, PlannedTicket, answer_text, check_answers, plan_tickets
from resolvers.forms.read import find_public_template
from resolvers.tickets import attach_stored, insert_ticket, now
from webhooks.outbox import queue_event

MAX_CLIENT_ID = 100
RENDER_ATTEMPTS = 5
# Form submissions that create tickets take turns predicting ticket numbers (one lock per event loop).
_numbering_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _numbering() -> asyncio.Lock:
    return _numbering_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@dataclass
class Filling:
    """Everything a submission writes, validated and with its files stored."""

    template: FormTemplate
    version: FormTemplateVersion
    site: SiteObject | None
    viewer: Viewer
    visible: list[Checked]
    plans: list[PlannedTicket]
    type_names: dict[int, str]
    at: datetime
    client_submission_id: str | None = None
    stored: list[tuple[str, StoredFile]] = field(default_factory=list)


async def submit_form(
    viewer: Viewer,
    settings: Settings,
    *,
    template_id: int,
    object_id: int,
    answers: list[dict[str, Any]],
    client_submission_id: str | None = None,
) -> FormSubmission:
    """Fill an internal template for an object; a repeated `client_submission_id` returns the first."""
    client_id = None
    if client_submission_id is not None:
        client_id = client_submission_id.strip()
        if not 0 < len(client_id) <= MAX_CLIENT_ID:
            raise BadUserInput(f"clientSubmissionId has 1–{MAX_CLIENT_ID} characters.", field="clientSubmissionId")
        earlier = await _earlier_submission(viewer, client_id, template_id)
        if earlier is not None:
            return earlier
    template = await get_in_scope(fillable_templates(viewer), template_id, "form template to fill", "templateId")
    site = await get_in_scope(visible_objects(viewer), object_id, "object", "objectId")
    filling = await _prepare(viewer, template, site, answers)
    filling.client_submission_id = client_id
    return await _save(settings, filling)


async def submit_public_form(settings: Settings, token: str, answers: list[dict[str, Any]]) -> FormSubmission:
    """Fill a public template anonymously through its link."""
    template = await find_public_template(token)
    if template is None:
        raise NotFound("No form behind this link.", field="token")
    filling = await _prepare(ANONYMOUS, template, None, answers)
    return await _save(settings, filling)


async def _earlier_submission(viewer: Viewer, client_id: str, template_id: int) -> FormSubmission | None:
    earlier = await FormSubmission.filter(submitted_by_id=viewer.account_id, client_submission_id=client_id).first()
    if earlier is not None and earlier.template_id != template_id:
        raise BadUserInput("This clientSubmissionId was used for another form.", field="clientSubmissionId")
    return earlier


async def _prepare(
    viewer: Viewer, template: FormTemplate, site: SiteObject | None, answers: list[dict[str, Any]]
) -> Filling:
    version = await FormTemplateVersion.get(template_id=template.id, version=template.current_version)
    visible = check_answers(version.elements, answers)
    plans = plan_tickets(visible)
    type_names = {}
    if plans:
        types = {t.id: t for t in await TicketType.filter(id__in={p.ticket_type_id for p in plans})}
        for plan in plans:
            ticket_type = types.get(plan.ticket_type_id)
            if ticket_type is None or ticket_type.is_absence_request:
                raise BadUserInput("This element's ticket type can no longer be used.", field=plan.key)
            type_names[ticket_type.id] = ticket_type.name
    return Filling(
        template=template,
        version=version,
        site=site,
        viewer=viewer,
        visible=visible,
        plans=plans,
        type_names=type_names,
        at=now(),
    )


def _prepared_image(source: Any, signature: bool) -> bytes | None:
    """The image ready for the PDF, or None when the bytes are no image Pillow can read.

    `source` is a local path or the bytes of a file in a remote store."""
    opened = (lambda: io.BytesIO(source)) if isinstance(source, bytes) else (lambda: source)
    try:
        with Image.open(opened()) as image:
            image.verify()
        return prepare_image(opened(), signature)
    except Exception:  # any decoder complaint means "not an image we can embed"
        return None


def _readable(settings: Settings, key: str) -> Path | bytes:
    """The stored file as an image decoder opens it (blocking: the first call may build the S3 client)."""
    return readable(store_for(settings), key)


async def _store_files(settings: Settings, filling: Filling) -> None:
    """Store photo and signature uploads; anything but a readable image is `BAD_USER_INPUT`."""
    for item in filling.visible:
        if item.upload is None:
            continue
        key = item.element["key"]
        [(name, stored)] = await store_uploads(settings, [item.upload], key)
        filling.stored.append((name, stored))
        item.stored = (item.value, stored)
        signature = item.element["kind"] == Kind.SIGNATURE.value
        item.image = None
        if stored.content_type in IMAGE_TYPES:
            source = await asyncio.to_thread(_readable, settings, stored.storage_key)
            item.image = await asyncio.to_thread(_prepared_image, source, signature)
        if item.image is None:
            raise BadUserInput("Photos and signatures must be images (PNG, JPEG, GIF or WebP).", field=key)


class _NumbersTaken(Exception):
    """The ticket numbers the PDF was rendered with went to another ticket meanwhile."""


async def _peek_next_number() -> int:
    rows = await get_connection("default").execute_query_dict(
        'SELECT "last_number" FROM "ticket_counter" WHERE "id" = 1'
    )
    return (int(rows[0]["last_number"]) if rows else 0) + 1


async def _save(settings: Settings, filling: Filling) -> FormSubmission:
    """Store files, render the PDF, write everything in one transaction; on failure remove the files."""
    pdf_stored: StoredFile | None = None

    async def discard_files() -> None:
        await discard_unreferenced(settings, [s for _, s in filling.stored] + ([pdf_stored] if pdf_stored else []))

    try:
        await _store_files(settings, filling)
        for _attempt in range(RENDER_ATTEMPTS):
            async with _numbering() if filling.plans else nullcontext():
                first = await _peek_next_number() if filling.plans else 0
                numbers = [first + i for i in range(len(filling.plans))]
                pdf_bytes = await render_form_async(_pdf_data(filling, numbers))
                pdf_stored = await store_file(settings, io.BytesIO(pdf_bytes), len(pdf_bytes) + 1)
                try:
                    submission = await _write(filling, numbers, pdf_stored)
                    break
                except _NumbersTaken:
                    await discard_unreferenced(settings, [pdf_stored])
                    pdf_stored = None
        else:
            raise RateLimited("Many tickets are being created right now; please send the form again.")
    except IntegrityError:
        await discard_files()
        # Two retries of one submission raced: the other one committed first.
        if filling.client_submission_id is not None:
            earlier = await _earlier_submission(filling.viewer, filling.client_submission_id, filling.template.id)
            if earlier is not None:
                return earlier
        raise
    except BaseException:
        await discard_files()
        raise
    # Committed: the submission's rows hold its files now.
    await release([s for _, s in filling.stored] + ([pdf_stored] if pdf_stored else []))
    return submission


def _answers_json(filling: Filling, numbers: list[int]) -> list[dict[str, Any]]:
    ticket_numbers = {plan.key: number for plan, number in zip(filling.plans, numbers, strict=True)}
    result = []
    for item in filling.visible:
        element = item.element
        if element["kind"] == Kind.INFO.value:
            continue
        number = ticket_numbers.get(element["key"])
        value = item.value
        if element["kind"] == Kind.CREATE_TICKET.value:
            value = {"number": number}
        result.append(
            {
                "key": element["key"],
                "kind": element["kind"],
                "label": element["label"],
                "value": value,
                "text": answer_text(element, item.value, number),
            }
        )
    return result


def _pdf_data(filling: Filling, numbers: list[int]) -> FilledForm:
    ticket_numbers = {plan.key: (plan, number) for plan, number in zip(filling.plans, numbers, strict=True)}
    items = []
    for item in filling.visible:
        element = item.element
        kind = Kind(element["kind"])
        if kind is Kind.INFO:
            items.append(PdfItem(label=element["label"], description=element["description"]))
            continue
        text = answer_text(element, item.value, ticket_numbers.get(element["key"], (None, None))[1])
        if kind is Kind.CREATE_TICKET:
            plan, number = ticket_numbers[element["key"]]
            text = f"Ticket #{number}: {plan.title}"
        items.append(
            PdfItem(
                label=element["label"],
                answer=text,
                description=element["description"],
                image=item.image,
                is_signature=kind is Kind.SIGNATURE,
            )
        )
    tickets = [
        PdfTicket(
            number=number,
            title=plan.title,
            ticket_type=filling.type_names[plan.ticket_type_id],
            due_date=plan.due_date.strftime("%d.%m.%Y") if plan.due_date else None,
        )
        for plan, number in zip(filling.plans, numbers, strict=True)
    ]
    site = filling.site
    return FilledForm(
        template_name=filling.version.name,
        version=filling.version.version,
        object_name=site.name if site else None,
        object_address=site.address if site else None,
        filled_by=filling.viewer.name if filling.viewer.is_signed_in else "Anonym (öffentliches Formular)",
        filled_at=filling.at,
        items=items,
        tickets=tickets,
    )


def _pdf_filename(template_name: str, at: datetime) -> str:
    return clean_filename(f"{template_name} {at.strftime('%Y-%m-%d %H-%M')}.pdf", "formular.pdf")


async def _write(filling: Filling, numbers: list[int], pdf: StoredFile) -> FormSubmission:
    """The one transaction: submission, files, tickets, their PDF attachments and history."""
    viewer = filling.viewer
    at = filling.at
    pdf_name = _pdf_filename(filling.version.name, at)
    async with in_transaction() as connection:
        submission = await FormSubmission.create(
            template_id=filling.template.id,
            version_id=filling.version.id,
            object_id=filling.site.id if filling.site else None,
            submitted_by_id=viewer.account_id,
            submitted_at=at,
            answers=_answers_json(filling, numbers),
            client_submission_id=filling.client_submission_id,
            using_db=connection,
        )
        files = [(FormFileRole.ANSWER, item.element["key"], item.stored) for item in filling.visible if item.stored]
        files.append((FormFileRole.PDF, None, (pdf_name, pdf)))
        for role, key, (name, stored) in files:
            await FormFile.create(
                submission_id=submission.id,
                role=role,
                element_key=key,
                filename=name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                storage_key=stored.storage_key,
                created_at=at,
                using_db=connection,
            )
        for plan, number in zip(filling.plans, numbers, strict=True):
            # Only public forms lack an object, and they cannot create tickets (templates.check_elements).
            assert filling.site is not None
            ticket = await insert_ticket(
                connection,
                title=plan.title,
                description=plan.description,
                ticket_type_id=plan.ticket_type_id,
                object_id=filling.site.id,
                source=TicketSource.FORM,
                created_by_id=viewer.account_id,
                at=at,
                due_date=plan.due_date,
                priority=plan.priority,
                form_submission_id=submission.id,
            )
            if ticket.number != number:
                raise _NumbersTaken()
            if plan.attach_pdf:
                await attach_stored(connection, ticket.id, viewer.account_id, [(pdf_name, pdf)], at)
            # The same mails as any new ticket, committed or rolled back with the submission.
            await notifications.queue_ticket_created(connection, ticket, viewer)
        await queue_event(connection, WebhookEvent.FORM_SUBMITTED, submission_id=submission.id, at=at)
    return submission
