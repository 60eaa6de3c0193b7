"""Answers against a template version's stored elements: visibility, checks, planned tickets, text.

Pure functions over the stored element dicts (the shape `templates.check_elements`
writes) and the answers as `schema.inputs.decoded` makes them from `AnswerInput`:
dicts with `key` and at most one value field (`text`, `number`, `boolean`,
`choices`, `date`, `ticket`, `upload`); absent keys count as unset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.errors import BadUserInput
from files.storage import StoredFile, clean_filename
from files.uploads import Upload
from models.forms import FormConditionOperator, FormElementKind
from models.service_levels import TicketPriority
from resolvers.tickets import MAX_TEXT, MAX_TITLE

Kind = FormElementKind
Op = FormConditionOperator

CHOICE_KINDS = {Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE}
FILE_KINDS = {Kind.PHOTO, Kind.SIGNATURE}
# The one value field each kind takes.
VALUE_FIELD = {
    Kind.TEXT: "text",
    Kind.NUMBER: "number",
    Kind.RATING: "number",
    Kind.YES_NO: "boolean",
    Kind.SINGLE_CHOICE: "choices",
    Kind.MULTIPLE_CHOICE: "choices",
    Kind.DATE: "date",
    Kind.PHOTO: "upload",
    Kind.SIGNATURE: "upload",
    Kind.CREATE_TICKET: "ticket",
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
    priority: TicketPriority = TicketPriority.NORMAL


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
    met: dict[Op, bool] = {
        Op.EQ: answer == expected,
        Op.NE: answer != expected,
        Op.LT: answer < expected,
        Op.LTE: answer <= expected,
        Op.GT: answer > expected,
        Op.GTE: answer >= expected,
    }
    return met[op]


def check_answers(elements: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[Checked]:
    """The visible elements, in order, with their checked answers; hidden ones' answers are ignored."""
    by_key: dict[str, dict[str, Any]] = {}
    known = {e["key"] for e in elements}
    for answer in answers:
        if answer["key"] not in known:
            raise BadUserInput("This form has no element with this key.", field=answer["key"])
        if answer["key"] in by_key:
            raise BadUserInput("This element is answered twice.", field=answer["key"])
        by_key[answer["key"]] = answer
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


def _check_answer(element: dict[str, Any], answer: dict[str, Any] | None) -> Checked:
    key = element["key"]
    kind = Kind(element["kind"])
    checked = Checked(element)
    if kind is not Kind.INFO and answer is not None:
        expected = VALUE_FIELD[kind]
        for name in ALL_VALUE_FIELDS:
            if name != expected and answer.get(name) is not None:
                raise BadUserInput(f"A {kind.value} answer takes `{expected}`, not `{name}`.", field=key)
        raw = answer.get(expected)
        if raw is not None:
            checked.value = _READ[kind](element, raw)
            if kind in FILE_KINDS:
                checked.upload = raw
    if checked.value is None and element["required"]:
        raise BadUserInput("This question needs an answer.", field=key)
    return checked


# Each kind's answer value (given, not None) as stored; None counts as unanswered.


def _read_text(element: dict[str, Any], raw: str) -> str | None:
    value = raw.strip() or None
    if value and len(value) > MAX_TEXT:
        raise BadUserInput(f"An answer has at most {MAX_TEXT} characters.", field=element["key"])
    return value


def _read_number(element: dict[str, Any], raw: float) -> float:
    if not math.isfinite(raw):
        raise BadUserInput("Expected a number.", field=element["key"])
    return raw


def _read_rating(element: dict[str, Any], raw: float) -> int:
    _read_number(element, raw)
    if not (float(raw).is_integer() and 1 <= raw <= element["scale"]):
        raise BadUserInput(f"A rating is a whole number from 1 to {element['scale']}.", field=element["key"])
    return int(raw)


def _read_choices(element: dict[str, Any], raw: list[str]) -> list[str] | str | None:
    key = element["key"]
    single = element["kind"] == Kind.SINGLE_CHOICE.value
    choices = [c.strip() for c in raw]
    if any(c not in element["options"] for c in choices):
        raise BadUserInput("Not one of the options.", field=key)
    if len(set(choices)) != len(choices):
        raise BadUserInput("An option is chosen twice.", field=key)
    if single and len(choices) > 1:
        raise BadUserInput("Choose one option.", field=key)
    if not choices:
        return None
    return choices[0] if single else choices


def _read_file(element: dict[str, Any], raw: Upload) -> str:
    """The file's name; the upload itself is stored later (see `submit`)."""
    return clean_filename(raw.filename, "foto" if element["kind"] == Kind.PHOTO.value else "unterschrift")


def _read_ticket(element: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The filler's changes to the ticket, each only where the template allows it."""
    key = element["key"]
    settings = element["ticket"]
    for name, allowed, label in (
        ("title", "title_editable", "title"),
        ("description", "description_editable", "description"),
        ("due_date", "allow_due_date", "due date"),
        ("priority", "allow_priority", "priority"),
    ):
        if raw.get(name) is not None and not settings.get(allowed, False):
            raise BadUserInput(f"This form does not let you set the ticket's {label}.", field=key)
    title, description = raw.get("title"), raw.get("description")
    if title is not None and not (0 < len(title.strip()) <= MAX_TITLE):
        raise BadUserInput(f"The ticket title must have 1–{MAX_TITLE} characters.", field=key)
    if description is not None and len(description.strip()) > MAX_TEXT:
        raise BadUserInput(f"The ticket description has at most {MAX_TEXT} characters.", field=key)
    if raw.get("priority") is not None:
        raw = {**raw, "priority": TicketPriority(raw["priority"]).value}
    return raw


_READ: dict[Kind, Callable[[dict[str, Any], Any], Any]] = {
    Kind.TEXT: _read_text,
    Kind.NUMBER: _read_number,
    Kind.RATING: _read_rating,
    Kind.YES_NO: lambda element, raw: raw,
    Kind.SINGLE_CHOICE: _read_choices,
    Kind.MULTIPLE_CHOICE: _read_choices,
    Kind.DATE: lambda element, raw: raw.isoformat(),
    Kind.PHOTO: _read_file,
    Kind.SIGNATURE: _read_file,
    Kind.CREATE_TICKET: _read_ticket,
}


def plan_tickets(visible: list[Checked]) -> list[PlannedTicket]:
    """The tickets the visible CREATE_TICKET elements make, with the filler's allowed changes."""
    plans = []
    for item in visible:
        if item.element["kind"] != Kind.CREATE_TICKET.value:
            continue
        settings = item.element["ticket"]
        given: dict[str, Any] = item.value or {}
        title, description = given.get("title"), given.get("description")
        plans.append(
            PlannedTicket(
                key=item.element["key"],
                ticket_type_id=settings["ticket_type_id"],
                title=title.strip() if title is not None else settings["title"],
                description=description.strip() if description is not None else settings["description"],
                due_date=given.get("due_date"),
                attach_pdf=settings["attach_pdf"],
                priority=TicketPriority(given.get("priority") or settings.get("priority") or "NORMAL"),
            )
        )
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
