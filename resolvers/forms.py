"""Inspection forms: templates and their versions, filling them in, and the filled form as PDF.

Templates are validated when saved; a published template is never changed in
place (an update writes a new version) and every submission keeps the version
it was filled against.

Submitting is all or nothing: the submission, its photo files, the PDF, the
tickets it creates, their attachments and history are written in one
transaction, and files stored for a submission that does not commit are
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
import math
import re
import secrets
import weakref
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from PIL import Image
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from files.sniff import IMAGE_TYPES
from files.storage import StoredFile, clean_filename, path_for, store
from models.accounts import Account
from models.customers import SiteObject
from models.forms import (FormConditionOperator, FormElementKind, FormFile, FormFileRole, FormSubmission,
                          FormTemplate, FormTemplateStatus, FormTemplateVersion)
from models.tickets import Ticket, TicketSource, TicketType
from pdf.forms import FilledForm, PdfItem, PdfTicket, prepare_image, render_form_async
from permissions.customers import visible_objects
from permissions.forms import (fillable_templates, managed_templates, public_template,
                               visible_submissions, visible_templates)
from permissions.viewer import ANONYMOUS, Viewer
from core.errors import BadUserInput, NotFound, RateLimited
from files.uploads import Upload, discard_unreferenced, store_uploads
from resolvers.tickets import MAX_TEXT, MAX_TITLE, _attach, insert_ticket, now
from core.settings import Settings

Kind = FormElementKind
Op = FormConditionOperator

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,49}$")
MAX_ELEMENTS = 200
MAX_LABEL = 500
MAX_OPTIONS = 100
MAX_OPTION = 200
MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 2, 10, 5
MAX_CLIENT_ID = 100
CHOICE_KINDS = {Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE}
FILE_KINDS = {Kind.PHOTO, Kind.SIGNATURE}
# Which operators a condition may use on the kind of element it refers to.
OPERATORS: dict[Kind, set[Op]] = {
    Kind.TEXT: {Op.EQ, Op.NE},
    Kind.YES_NO: {Op.EQ, Op.NE},
    Kind.SINGLE_CHOICE: {Op.EQ, Op.NE},
    Kind.MULTIPLE_CHOICE: {Op.EQ, Op.NE},  # EQ: the option is among the choices, NE: it is not
    Kind.NUMBER: set(Op),
    Kind.RATING: set(Op),
    Kind.DATE: set(Op),
}
RENDER_ATTEMPTS = 5
# Form submissions that create tickets take turns predicting ticket numbers (one lock per event loop).
_numbering_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _numbering() -> asyncio.Lock:
    return _numbering_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


# ---------------------------------------------------------------- templates

@dataclass
class ConditionSpec:
    key: str
    operator: Op
    value: str


@dataclass
class TicketSpec:
    ticket_type_id: int
    title: str
    description: str | None = None
    title_editable: bool = False
    description_editable: bool = False
    allow_due_date: bool = False
    attach_pdf: bool = False


@dataclass
class ElementSpec:
    key: str
    kind: Kind
    label: str
    description: str | None = None
    required: bool = False
    options: list[str] | None = None
    scale: int | None = None
    visible_if: ConditionSpec | None = None
    ticket: TicketSpec | None = None


def parse_condition_value(element: dict[str, Any], raw: str) -> Any:
    """A condition's string value read as the referenced element's type; ValueError when it is not one."""
    kind = Kind(element["kind"])
    text = raw.strip()
    if kind is Kind.YES_NO:
        if text.lower() not in {"true", "false"}:
            raise ValueError("expected true or false")
        return text.lower() == "true"
    if kind in (Kind.NUMBER, Kind.RATING):
        number = float(text)
        if not math.isfinite(number):
            raise ValueError("not a number")
        if kind is Kind.RATING and not (number.is_integer() and 1 <= number <= element["scale"]):
            raise ValueError(f"expected a whole number from 1 to {element['scale']}")
        return number
    if kind is Kind.DATE:
        return date.fromisoformat(text).isoformat()
    if kind in CHOICE_KINDS:
        if text not in element["options"]:
            raise ValueError("not one of the options")
        return text
    return text


async def check_elements(specs: list[ElementSpec], is_public: bool) -> list[dict[str, Any]]:
    """Validate a template's elements; the stored form of each. Errors name the element key."""
    if not specs:
        raise BadUserInput("A template needs at least one element.", field="elements")
    if len(specs) > MAX_ELEMENTS:
        raise BadUserInput(f"A template has at most {MAX_ELEMENTS} elements.", field="elements")
    type_ids = {s.ticket.ticket_type_id for s in specs if s.ticket is not None}
    ticket_types = {t.id: t for t in await TicketType.filter(id__in=type_ids)} if type_ids else {}
    elements: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for index, spec in enumerate(specs):
        key = (spec.key or "").strip()
        if not KEY_PATTERN.match(key):
            raise BadUserInput("A key starts with a letter and has at most 50 letters, digits, _ or -.",
                               field=key or f"elements.{index}.key")
        if key in seen:
            raise BadUserInput(f"The key {key!r} is used twice.", field=key)
        label = (spec.label or "").strip()
        if not label:
            raise BadUserInput("Every element needs a label.", field=key)
        if len(label) > MAX_LABEL:
            raise BadUserInput(f"A label has at most {MAX_LABEL} characters.", field=key)
        description = (spec.description or "").strip()
        if len(description) > MAX_TEXT:
            raise BadUserInput(f"A description has at most {MAX_TEXT} characters.", field=key)
        kind = spec.kind
        options: list[str] = []
        if kind in CHOICE_KINDS:
            options = [o.strip() for o in spec.options or []]
            if len(options) < 1 or any(not o for o in options):
                raise BadUserInput("A choice needs options, none of them empty.", field=key)
            if len(set(options)) != len(options):
                raise BadUserInput("The options of a choice must differ.", field=key)
            if len(options) > MAX_OPTIONS or any(len(o) > MAX_OPTION for o in options):
                raise BadUserInput(f"At most {MAX_OPTIONS} options of {MAX_OPTION} characters.", field=key)
        elif spec.options:
            raise BadUserInput("Only choice elements have options.", field=key)
        scale = None
        if kind is Kind.RATING:
            scale = DEFAULT_SCALE if spec.scale is None else spec.scale
            if not MIN_SCALE <= scale <= MAX_SCALE:
                raise BadUserInput(f"A rating scale runs to {MIN_SCALE}–{MAX_SCALE}.", field=key)
        elif spec.scale is not None:
            raise BadUserInput("Only rating elements have a scale.", field=key)
        condition = None
        if spec.visible_if is not None:
            ref = seen.get((spec.visible_if.key or "").strip())
            if ref is None:
                raise BadUserInput("visibleIf may only refer to an earlier element.", field=key)
            allowed = OPERATORS.get(Kind(ref["kind"]), set())
            if spec.visible_if.operator not in allowed:
                raise BadUserInput(f"{spec.visible_if.operator.value} does not fit a "
                                   f"{ref['kind']} element.", field=key)
            try:
                parse_condition_value(ref, spec.visible_if.value or "")
            except ValueError as exc:
                raise BadUserInput(f"visibleIf value does not fit {ref['key']!r}: {exc}.", field=key) from None
            condition = {"key": ref["key"], "operator": spec.visible_if.operator.value,
                         "value": (spec.visible_if.value or "").strip()}
        ticket = None
        if kind is Kind.CREATE_TICKET:
            ticket = _check_ticket_settings(spec.ticket, key, is_public, ticket_types)
        elif spec.ticket is not None:
            raise BadUserInput("Only CREATE_TICKET elements have ticket settings.", field=key)
        element = {"key": key, "kind": kind.value, "label": label, "description": description,
                   "required": bool(spec.required) and kind not in (Kind.INFO, Kind.CREATE_TICKET),
                   "options": options, "scale": scale, "visible_if": condition, "ticket": ticket}
        seen[key] = element
        elements.append(element)
    return elements


def _check_ticket_settings(spec: TicketSpec | None, key: str, is_public: bool,
                           ticket_types: dict[int, TicketType]) -> dict[str, Any]:
    if is_public:
        raise BadUserInput("Public templates cannot create tickets.", field=key)
    if spec is None:
        raise BadUserInput("A CREATE_TICKET element needs its ticket settings.", field=key)
    ticket_type = ticket_types.get(spec.ticket_type_id)
    if ticket_type is None:
        raise BadUserInput("No ticket type with this ID.", field=key)
    if ticket_type.is_absence_request:
        raise BadUserInput("Forms never create absence requests.", field=key)
    title = (spec.title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise BadUserInput(f"The ticket needs a title of 1–{MAX_TITLE} characters.", field=key)
    description = (spec.description or "").strip()
    if len(description) > MAX_TEXT:
        raise BadUserInput(f"The ticket description has at most {MAX_TEXT} characters.", field=key)
    return {"ticket_type_id": ticket_type.id, "title": title, "description": description,
            "title_editable": spec.title_editable, "description_editable": spec.description_editable,
            "allow_due_date": spec.allow_due_date, "attach_pdf": spec.attach_pdf}


def _check_template_text(name: str, description: str | None) -> tuple[str, str]:
    cleaned = (name or "").strip()
    if not cleaned or len(cleaned) > 200:
        raise BadUserInput("The name must have 1–200 characters.", field="name")
    text = (description or "").strip()
    if len(text) > MAX_TEXT:
        raise BadUserInput(f"The description has at most {MAX_TEXT} characters.", field="description")
    return cleaned, text


async def create_template(viewer: Viewer, name: str, description: str | None, is_public: bool,
                          elements: list[ElementSpec]) -> FormTemplate:
    """A new draft template (version 1)."""
    name, description = _check_template_text(name, description)
    stored = await check_elements(elements, is_public)
    at = now()
    async with in_transaction() as connection:
        template = await FormTemplate.create(
            name=name, description=description, is_public=is_public, created_by_id=viewer.account_id,
            created_at=at, updated_at=at, using_db=connection)
        await FormTemplateVersion.create(
            template_id=template.id, version=1, name=name, description=description, elements=stored,
            created_by_id=viewer.account_id, created_at=at, using_db=connection)
    return template


async def managed_template(viewer: Viewer, template_id: int) -> FormTemplate:
    template = await managed_templates(viewer).filter(id=template_id).first()
    if template is None:
        raise NotFound("No form template with this ID.", field="id")
    return template


async def update_template(viewer: Viewer, template_id: int, name: str | None, description: str | None,
                          is_public: bool | None, elements: list[ElementSpec] | None) -> FormTemplate:
    """Change a template: a draft in place, a published (or archived) one as a new version."""
    template = await managed_template(viewer, template_id)
    current = await FormTemplateVersion.get(template_id=template.id, version=template.current_version)
    new_name, new_description = _check_template_text(
        template.name if name is None else name,
        template.description if description is None else description)
    public = template.is_public if is_public is None else is_public
    if public != template.is_public and template.published_at is not None:
        raise BadUserInput("A template cannot change between internal and public once published.",
                           field="isPublic")
    stored = current.elements if elements is None else await check_elements(elements, public)
    if elements is None and public:
        # The kept elements must suit the new audience too.
        if any(e["kind"] == Kind.CREATE_TICKET.value for e in stored):
            raise BadUserInput("Public templates cannot create tickets.", field="isPublic")
    if (stored == current.elements and new_name == current.name and new_description == current.description
            and public == template.is_public):
        return template  # nothing changed: no new version
    at = now()
    async with in_transaction() as connection:
        # Only a never-published draft has no one relying on its version.
        if template.published_at is None:
            await FormTemplateVersion.filter(id=current.id).using_db(connection).update(
                name=new_name, description=new_description, elements=stored)
            version = template.current_version
        else:
            version = template.current_version + 1
            await FormTemplateVersion.create(
                template_id=template.id, version=version, name=new_name, description=new_description,
                elements=stored, created_by_id=viewer.account_id, created_at=at, using_db=connection)
        await FormTemplate.filter(id=template.id).using_db(connection).update(
            name=new_name, description=new_description, is_public=public, current_version=version,
            updated_at=at)
    return await FormTemplate.get(id=template.id)


async def publish_template(viewer: Viewer, template_id: int) -> FormTemplate:
    """Release a template for filling; a public one gets the token of its link."""
    template = await managed_template(viewer, template_id)
    if template.status is FormTemplateStatus.PUBLISHED:
        return template
    at = now()
    changes: dict[str, Any] = {"status": FormTemplateStatus.PUBLISHED, "updated_at": at}
    if template.published_at is None:
        changes["published_at"] = at
    if template.is_public and not template.public_token:
        changes["public_token"] = secrets.token_urlsafe(24)
    await FormTemplate.filter(id=template.id).update(**changes)
    return await FormTemplate.get(id=template.id)


async def archive_template(viewer: Viewer, template_id: int) -> FormTemplate:
    """Withdraw a template: no more filling; its submissions stay."""
    template = await managed_template(viewer, template_id)
    if template.status is not FormTemplateStatus.ARCHIVED:
        await FormTemplate.filter(id=template.id).update(status=FormTemplateStatus.ARCHIVED, updated_at=now())
    return await FormTemplate.get(id=template.id)


def templates_for(viewer: Viewer) -> QuerySet[FormTemplate]:
    return visible_templates(viewer).order_by("name", "id")


async def visible_template(viewer: Viewer, template_id: int) -> FormTemplate | None:
    return await visible_templates(viewer).filter(id=template_id).first()


async def template_by_token(token: str) -> FormTemplate | None:
    if not token or len(token) > 64:
        return None
    return await public_template(token).first()


async def current_versions(template_ids: list[int]) -> dict[int, FormTemplateVersion]:
    """The current version of each template, in one query."""
    templates = await FormTemplate.filter(id__in=set(template_ids)).values("id", "current_version")
    wanted = {(t["id"], t["current_version"]) for t in templates}
    rows = await FormTemplateVersion.filter(template_id__in=set(template_ids),
                                            version__in={v for _, v in wanted})
    return {row.template_id: row for row in rows if (row.template_id, row.version) in wanted}


# ---------------------------------------------------------------- answers

@dataclass
class TicketAnswer:
    title: str | None = None
    description: str | None = None
    due_date: date | None = None


@dataclass
class AnswerSpec:
    key: str
    text: str | None = None
    number: float | None = None
    boolean: bool | None = None
    choices: list[str] | None = None
    date: date | None = None
    ticket: TicketAnswer | None = None
    upload: Upload | None = None


# The one value field each kind takes.
VALUE_FIELD = {
    Kind.TEXT: "text", Kind.NUMBER: "number", Kind.RATING: "number", Kind.YES_NO: "boolean",
    Kind.SINGLE_CHOICE: "choices", Kind.MULTIPLE_CHOICE: "choices", Kind.DATE: "date",
    Kind.PHOTO: "upload", Kind.SIGNATURE: "upload", Kind.CREATE_TICKET: "ticket",
}
ALL_VALUE_FIELDS = ("text", "number", "boolean", "choices", "date", "ticket", "upload")


@dataclass
class Checked:
    """A visible element and its validated answer (`value` None: not answered)."""

    element: dict[str, Any]
    value: Any = None
    upload: Upload | None = None
    stored: tuple[str, StoredFile] | None = None
    image: bytes | None = None  # prepared for the PDF


@dataclass
class PlannedTicket:
    key: str
    ticket_type_id: int
    title: str
    description: str
    due_date: date | None
    attach_pdf: bool


def _condition_holds(condition: dict[str, Any], ref: dict[str, Any], answer: Any) -> bool:
    """Whether an answer meets a condition; an unanswered or hidden element meets none."""
    if answer is None:
        return False
    expected = parse_condition_value(ref, condition["value"])
    op = Op(condition["operator"])
    kind = Kind(ref["kind"])
    if kind is Kind.MULTIPLE_CHOICE:
        return (expected in answer) == (op is Op.EQ)
    if kind is Kind.TEXT:
        answer, expected = answer.strip().casefold(), expected.casefold()
    if kind in (Kind.NUMBER, Kind.RATING):
        answer = float(answer)
    return {Op.EQ: answer == expected, Op.NE: answer != expected, Op.LT: answer < expected,
            Op.LTE: answer <= expected, Op.GT: answer > expected, Op.GTE: answer >= expected}[op]


def check_answers(elements: list[dict[str, Any]], answers: list[AnswerSpec]) -> list[Checked]:
    """The visible elements, in order, with their checked answers; hidden ones' answers are ignored."""
    by_key: dict[str, AnswerSpec] = {}
    known = {e["key"] for e in elements}
    for answer in answers:
        if answer.key not in known:
            raise BadUserInput("This form has no element with this key.", field=answer.key)
        if answer.key in by_key:
            raise BadUserInput("This element is answered twice.", field=answer.key)
        by_key[answer.key] = answer
    values: dict[str, Any] = {}  # key -> answer of a visible element
    refs = {e["key"]: e for e in elements}
    visible: list[Checked] = []
    for element in elements:
        condition = element.get("visible_if")
        if condition and not _condition_holds(condition, refs[condition["key"]], values.get(condition["key"])):
            continue
        checked = _check_answer(element, by_key.get(element["key"]))
        if checked.value is not None:
            values[element["key"]] = checked.value
        visible.append(checked)
    return visible


def _check_answer(element: dict[str, Any], answer: AnswerSpec | None) -> Checked:
    key = element["key"]
    kind = Kind(element["kind"])
    checked = Checked(element)
    if kind is Kind.INFO or answer is None:
        if element["required"]:
            raise BadUserInput("This question needs an answer.", field=key)
        return checked
    expected = VALUE_FIELD[kind]
    for name in ALL_VALUE_FIELDS:
        if name != expected and getattr(answer, name) is not None:
            raise BadUserInput(f"A {kind.value} answer takes `{expected}`, not `{name}`.", field=key)
    raw = getattr(answer, expected)
    value: Any = None
    if kind is Kind.TEXT and raw is not None:
        value = raw.strip() or None
        if value and len(value) > MAX_TEXT:
            raise BadUserInput(f"An answer has at most {MAX_TEXT} characters.", field=key)
    elif kind in (Kind.NUMBER, Kind.RATING) and raw is not None:
        if not math.isfinite(raw):
            raise BadUserInput("Expected a number.", field=key)
        value = raw
        if kind is Kind.RATING:
            if not (float(raw).is_integer() and 1 <= raw <= element["scale"]):
                raise BadUserInput(f"A rating is a whole number from 1 to {element['scale']}.", field=key)
            value = int(raw)
    elif kind is Kind.YES_NO:
        value = raw
    elif kind in CHOICE_KINDS and raw is not None:
        choices = [c.strip() for c in raw]
        if any(c not in element["options"] for c in choices):
            raise BadUserInput("Not one of the options.", field=key)
        if len(set(choices)) != len(choices):
            raise BadUserInput("An option is chosen twice.", field=key)
        if kind is Kind.SINGLE_CHOICE and len(choices) > 1:
            raise BadUserInput("Choose one option.", field=key)
        value = choices or None
        if kind is Kind.SINGLE_CHOICE and value:
            value = choices[0]
    elif kind is Kind.DATE and raw is not None:
        value = raw.isoformat()
    elif kind in FILE_KINDS and raw is not None:
        checked.upload = raw
        value = clean_filename(raw.filename, "foto" if kind is Kind.PHOTO else "unterschrift")
    elif kind is Kind.CREATE_TICKET and raw is not None:
        settings = element["ticket"]
        for name, allowed, label in (("title", "title_editable", "title"),
                                     ("description", "description_editable", "description"),
                                     ("due_date", "allow_due_date", "due date")):
            if getattr(raw, name) is not None and not settings[allowed]:
                raise BadUserInput(f"This form does not let you set the ticket's {label}.", field=key)
        if raw.title is not None and not (0 < len(raw.title.strip()) <= MAX_TITLE):
            raise BadUserInput(f"The ticket title must have 1–{MAX_TITLE} characters.", field=key)
        if raw.description is not None and len(raw.description.strip()) > MAX_TEXT:
            raise BadUserInput(f"The ticket description has at most {MAX_TEXT} characters.", field=key)
        value = raw
    if value is None and element["required"]:
        raise BadUserInput("This question needs an answer.", field=key)
    checked.value = value
    return checked


def plan_tickets(visible: list[Checked]) -> list[PlannedTicket]:
    """The tickets the visible CREATE_TICKET elements make, with the filler's allowed changes."""
    plans = []
    for item in visible:
        if item.element["kind"] != Kind.CREATE_TICKET.value:
            continue
        settings = item.element["ticket"]
        given: TicketAnswer = item.value or TicketAnswer()
        plans.append(PlannedTicket(
            key=item.element["key"], ticket_type_id=settings["ticket_type_id"],
            title=given.title.strip() if given.title is not None else settings["title"],
            description=(given.description.strip() if given.description is not None
                         else settings["description"]),
            due_date=given.due_date, attach_pdf=settings["attach_pdf"]))
    return plans


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def answer_text(element: dict[str, Any], value: Any, ticket_number: int | None = None) -> str:
    """An answer as the text shown in lists and in the PDF ("" when unanswered)."""
    kind = Kind(element["kind"])
    if kind is Kind.CREATE_TICKET:
        return f"Ticket #{ticket_number}" if ticket_number is not None else ""
    if value is None:
        return ""
    if kind is Kind.YES_NO:
        return "Ja" if value else "Nein"
    if kind is Kind.RATING:
        return f"{value} / {element['scale']}"
    if kind is Kind.NUMBER:
        return format_number(value)
    if kind is Kind.DATE:
        return date.fromisoformat(value).strftime("%d.%m.%Y")
    if kind is Kind.MULTIPLE_CHOICE:
        return ", ".join(value)
    return str(value)


# ---------------------------------------------------------------- submitting

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


async def submit_form(viewer: Viewer, settings: Settings, template_id: int, object_id: int,
                      answers: list[AnswerSpec], client_submission_id: str | None = None) -> FormSubmission:
    """Fill an internal template for an object; a repeated `client_submission_id` returns the first."""
    client_id = None
    if client_submission_id is not None:
        client_id = client_submission_id.strip()
        if not 0 < len(client_id) <= MAX_CLIENT_ID:
            raise BadUserInput(f"clientSubmissionId has 1–{MAX_CLIENT_ID} characters.",
                               field="clientSubmissionId")
        earlier = await _earlier_submission(viewer, client_id, template_id)
        if earlier is not None:
            return earlier
    template = await fillable_templates(viewer).filter(id=template_id).first()
    if template is None:
        raise NotFound("No form template to fill with this ID.", field="templateId")
    site = await visible_objects(viewer).filter(id=object_id).first()
    if site is None:
        raise NotFound("No object with this ID.", field="objectId")
    filling = await _prepare(viewer, template, site, answers)
    filling.client_submission_id = client_id
    return await _save(settings, filling)


async def submit_public_form(settings: Settings, token: str, answers: list[AnswerSpec]) -> FormSubmission:
    """Fill a public template anonymously through its link."""
    template = await template_by_token(token)
    if template is None:
        raise NotFound("No form behind this link.", field="token")
    filling = await _prepare(ANONYMOUS, template, None, answers)
    return await _save(settings, filling)


async def _earlier_submission(viewer: Viewer, client_id: str, template_id: int) -> FormSubmission | None:
    earlier = await FormSubmission.filter(submitted_by_id=viewer.account_id,
                                          client_submission_id=client_id).first()
    if earlier is not None and earlier.template_id != template_id:
        raise BadUserInput("This clientSubmissionId was used for another form.", field="clientSubmissionId")
    return earlier


async def _prepare(viewer: Viewer, template: FormTemplate, site: SiteObject | None,
                   answers: list[AnswerSpec]) -> Filling:
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
    return Filling(template=template, version=version, site=site, viewer=viewer, visible=visible,
                   plans=plans, type_names=type_names, at=now())


def _prepared_image(path: Any, signature: bool) -> bytes | None:
    """The image ready for the PDF, or None when the bytes are no image Pillow can read."""
    try:
        with Image.open(path) as image:
            image.verify()
        return prepare_image(path, signature)
    except Exception:  # any decoder complaint means "not an image we can embed"
        return None


async def _store_files(settings: Settings, filling: Filling) -> None:
    """Store photo and signature uploads; anything but a readable image is `BAD_USER_INPUT`."""
    for item in filling.visible:
        if item.upload is None:
            continue
        key = item.element["key"]
        [(name, stored)] = await store_uploads(settings, [item.upload], key)
        filling.stored.append((name, stored))
        item.stored = (item.value, stored)
        path = path_for(settings.files_dir, stored.storage_key)
        signature = item.element["kind"] == Kind.SIGNATURE.value
        item.image = (await asyncio.to_thread(_prepared_image, path, signature)
                      if stored.content_type in IMAGE_TYPES else None)
        if item.image is None:
            raise BadUserInput("Photos and signatures must be images (PNG, JPEG, GIF or WebP).", field=key)


class _NumbersTaken(Exception):
    """The ticket numbers the PDF was rendered with went to another ticket meanwhile."""


async def _peek_next_number() -> int:
    rows = await get_connection("default").execute_query_dict(
        'SELECT "last_number" FROM "ticket_counter" WHERE "id" = 1')
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
                pdf_stored = await asyncio.to_thread(store, settings.files_dir, io.BytesIO(pdf_bytes),
                                                     len(pdf_bytes) + 1)
                try:
                    return await _write(filling, numbers, pdf_stored)
                except _NumbersTaken:
                    await discard_unreferenced(settings, [pdf_stored])
                    pdf_stored = None
        raise RateLimited("Many tickets are being created right now; please send the form again.")
    except IntegrityError:
        await discard_files()
        # Two retries of one submission raced: the other one committed first.
        if filling.client_submission_id is not None:
            earlier = await _earlier_submission(filling.viewer, filling.client_submission_id,
                                                filling.template.id)
            if earlier is not None:
                return earlier
        raise
    except BaseException:
        await discard_files()
        raise


def _answers_json(filling: Filling, numbers: list[int]) -> list[dict[str, Any]]:
    ticket_numbers = {plan.key: number for plan, number in zip(filling.plans, numbers)}
    result = []
    for item in filling.visible:
        element = item.element
        if element["kind"] == Kind.INFO.value:
            continue
        number = ticket_numbers.get(element["key"])
        value = item.value
        if element["kind"] == Kind.CREATE_TICKET.value:
            value = {"number": number}
        result.append({"key": element["key"], "kind": element["kind"], "label": element["label"],
                       "value": value, "text": answer_text(element, item.value, number)})
    return result


def _pdf_data(filling: Filling, numbers: list[int]) -> FilledForm:
    ticket_numbers = {plan.key: (plan, number) for plan, number in zip(filling.plans, numbers)}
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
        items.append(PdfItem(label=element["label"], answer=text, description=element["description"],
                             image=item.image, is_signature=kind is Kind.SIGNATURE))
    tickets = [PdfTicket(number=number, title=plan.title, ticket_type=filling.type_names[plan.ticket_type_id],
                         due_date=plan.due_date.strftime("%d.%m.%Y") if plan.due_date else None)
               for plan, number in zip(filling.plans, numbers)]
    site = filling.site
    return FilledForm(
        template_name=filling.version.name, version=filling.version.version,
        object_name=site.name if site else None, object_address=site.address if site else None,
        filled_by=filling.viewer.name if filling.viewer.is_signed_in else "Anonym (öffentliches Formular)",
        filled_at=filling.at, items=items, tickets=tickets)


def pdf_filename(template_name: str, at: datetime) -> str:
    return clean_filename(f"{template_name} {at.strftime('%Y-%m-%d %H-%M')}.pdf", "formular.pdf")


async def _write(filling: Filling, numbers: list[int], pdf: StoredFile) -> FormSubmission:
    """The one transaction: submission, files, tickets, their PDF attachments and history."""
    viewer = filling.viewer
    at = filling.at
    pdf_name = pdf_filename(filling.version.name, at)
    async with in_transaction() as connection:
        submission = await FormSubmission.create(
            template_id=filling.template.id, version_id=filling.version.id,
            object_id=filling.site.id if filling.site else None, submitted_by_id=viewer.account_id,
            submitted_at=at, answers=_answers_json(filling, numbers),
            client_submission_id=filling.client_submission_id, using_db=connection)
        files = [(FormFileRole.ANSWER, item.element["key"], item.stored) for item in filling.visible
                 if item.stored]
        files.append((FormFileRole.PDF, None, (pdf_name, pdf)))
        for role, key, (name, stored) in files:
            await FormFile.create(submission_id=submission.id, role=role, element_key=key, filename=name,
                                  content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                                  storage_key=stored.storage_key, created_at=at, using_db=connection)
        for plan, number in zip(filling.plans, numbers):
            ticket = await insert_ticket(
                connection, title=plan.title, description=plan.description,
                ticket_type_id=plan.ticket_type_id, object_id=filling.site.id, source=TicketSource.FORM,
                created_by_id=viewer.account_id, at=at, due_date=plan.due_date,
                form_submission_id=submission.id)
            if ticket.number != number:
                raise _NumbersTaken()
            if plan.attach_pdf:
                await _attach(connection, ticket.id, viewer.account_id, [(pdf_name, pdf)], at)
    return submission


# ---------------------------------------------------------------- reading

@dataclass
class SubmissionFilter:
    template_id: int | None = None
    object_id: int | None = None
    from_date: date | None = None
    to_date: date | None = None


def filtered_submissions(viewer: Viewer, criteria: SubmissionFilter | None) -> QuerySet[FormSubmission]:
    """The viewer's submissions, newest first; `from`/`to` are whole days (UTC), both included."""
    query = visible_submissions(viewer)
    if criteria:
        if criteria.template_id is not None:
            query = query.filter(template_id=criteria.template_id)
        if criteria.object_id is not None:
            query = query.filter(object_id=criteria.object_id)
        if criteria.from_date is not None:
            query = query.filter(submitted_at__gte=datetime.combine(criteria.from_date, time(), timezone.utc))
        if criteria.to_date is not None:
            end = datetime.combine(criteria.to_date + timedelta(days=1), time(), timezone.utc)
            query = query.filter(submitted_at__lt=end)
    return query.order_by("-submitted_at", "-id")


async def page_of_submissions(query: QuerySet[FormSubmission], offset: int,
                              first: int) -> tuple[list[FormSubmission], int]:
    rows = await query.offset(offset).limit(first)
    return list(rows), await query.count()


async def pdf_of(submission_id: int) -> FormFile | None:
    return await FormFile.filter(submission_id=submission_id, role=FormFileRole.PDF).first()


async def created_tickets_of(submission_ids: list[int], visible: QuerySet[Ticket]) -> dict[int, list[Ticket]]:
    grouped: dict[int, list[Ticket]] = {pk: [] for pk in submission_ids}
    for ticket in await visible.filter(form_submission_id__in=set(submission_ids)).order_by("number"):
        grouped[ticket.form_submission_id].append(ticket)
    return grouped


async def filler_names(account_ids: list[int]) -> dict[int, str]:
    return dict(await Account.filter(id__in=set(account_ids)).values_list("id", "name"))
