"""Designing templates: element validation, create, update (a new version once published), publish, archive.

Elements arrive as `schema.inputs.decoded` makes them from `FormElementInput`
(dicts; absent optional keys count as unset) and are stored, validated, as
dicts of one fixed shape: key, kind, label, description, required, options,
scale, visible_if ({key, operator, value} or None) and ticket (the
CREATE_TICKET settings or None). A published template is never changed in
place: an update writes a new version, and every submission keeps the version
it was filled against.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import BadUserInput
from core.lookup import get_in_scope
from models.forms import FormTemplate, FormTemplateStatus, FormTemplateVersion
from models.service_levels import TicketPriority
from models.tickets import TicketType
from permissions.forms import managed_templates
from permissions.viewer import Viewer
from resolvers.forms.answers import CHOICE_KINDS, Kind, Op, parse_condition_value
from resolvers.tickets import MAX_TEXT, MAX_TITLE, now

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,49}$")
MAX_ELEMENTS = 200
MAX_LABEL = 500
MAX_OPTIONS = 100
MAX_OPTION = 200
MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 2, 10, 5
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


async def check_elements(elements: list[dict[str, Any]], is_public: bool) -> list[dict[str, Any]]:
    """Validate a template's elements; the stored form of each. Errors name the element key."""
    if not elements:
        raise BadUserInput("A template needs at least one element.", field="elements")
    if len(elements) > MAX_ELEMENTS:
        raise BadUserInput(f"A template has at most {MAX_ELEMENTS} elements.", field="elements")
    type_ids = {e["ticket"]["ticket_type_id"] for e in elements if e.get("ticket") is not None}
    ticket_types = {t.id: t for t in await TicketType.filter(id__in=type_ids)} if type_ids else {}
    seen: dict[str, dict[str, Any]] = {}  # key -> stored element, in order
    for index, given in enumerate(elements):
        element = _check_element(given, index, seen, is_public, ticket_types)
        seen[element["key"]] = element
    return list(seen.values())


def _check_element(
    given: dict[str, Any],
    index: int,
    earlier: dict[str, dict[str, Any]],
    is_public: bool,
    ticket_types: dict[int, TicketType],
) -> dict[str, Any]:
    """One element in its stored form; `earlier` are the elements before it (conditions refer to those)."""
    key = (given.get("key") or "").strip()
    if not KEY_PATTERN.match(key):
        raise BadUserInput(
            "A key starts with a letter and has at most 50 letters, digits, _ or -.",
            field=key or f"elements.{index}.key",
        )
    if key in earlier:
        raise BadUserInput(f"The key {key!r} is used twice.", field=key)
    label = (given.get("label") or "").strip()
    if not label:
        raise BadUserInput("Every element needs a label.", field=key)
    if len(label) > MAX_LABEL:
        raise BadUserInput(f"A label has at most {MAX_LABEL} characters.", field=key)
    description = (given.get("description") or "").strip()
    if len(description) > MAX_TEXT:
        raise BadUserInput(f"A description has at most {MAX_TEXT} characters.", field=key)
    kind = Kind(given["kind"])
    options = _check_options(kind, given.get("options"), key)
    scale = _check_scale(kind, given.get("scale"), key)
    condition = given.get("visible_if")
    if condition is not None:
        condition = _check_condition(condition, earlier, key)
    ticket = None
    if kind is Kind.CREATE_TICKET:
        ticket = _check_ticket_settings(given.get("ticket"), key, is_public, ticket_types)
    elif given.get("ticket") is not None:
        raise BadUserInput("Only CREATE_TICKET elements have ticket settings.", field=key)
    return {
        "key": key,
        "kind": kind.value,
        "label": label,
        "description": description,
        "required": bool(given.get("required")) and kind not in (Kind.INFO, Kind.CREATE_TICKET),
        "options": options,
        "scale": scale,
        "visible_if": condition,
        "ticket": ticket,
    }


def _check_options(kind: Kind, given: list[str] | None, key: str) -> list[str]:
    if kind not in CHOICE_KINDS:
        if given:
            raise BadUserInput("Only choice elements have options.", field=key)
        return []
    options = [o.strip() for o in given or []]
    if len(options) < 1 or any(not o for o in options):
        raise BadUserInput("A choice needs options, none of them empty.", field=key)
    if len(set(options)) != len(options):
        raise BadUserInput("The options of a choice must differ.", field=key)
    if len(options) > MAX_OPTIONS or any(len(o) > MAX_OPTION for o in options):
        raise BadUserInput(f"At most {MAX_OPTIONS} options of {MAX_OPTION} characters.", field=key)
    return options


def _check_scale(kind: Kind, given: int | None, key: str) -> int | None:
    if kind is not Kind.RATING:
        if given is not None:
            raise BadUserInput("Only rating elements have a scale.", field=key)
        return None
    scale = DEFAULT_SCALE if given is None else given
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise BadUserInput(f"A rating scale runs to {MIN_SCALE}–{MAX_SCALE}.", field=key)
    return scale


def _check_condition(given: dict[str, Any], earlier: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    ref = earlier.get((given.get("key") or "").strip())
    if ref is None:
        raise BadUserInput("visibleIf may only refer to an earlier element.", field=key)
    operator = Op(given["operator"])
    if operator not in OPERATORS.get(Kind(ref["kind"]), set()):
        raise BadUserInput(f"{operator.value} does not fit a {ref['kind']} element.", field=key)
    value = given.get("value") or ""
    try:
        parse_condition_value(ref, value)
    except ValueError as exc:
        raise BadUserInput(f"visibleIf value does not fit {ref['key']!r}: {exc}.", field=key) from None
    return {"key": ref["key"], "operator": operator.value, "value": value.strip()}


def _check_ticket_settings(
    given: dict[str, Any] | None, key: str, is_public: bool, ticket_types: dict[int, TicketType]
) -> dict[str, Any]:
    if is_public:
        raise BadUserInput("Public templates cannot create tickets.", field=key)
    if given is None:
        raise BadUserInput("A CREATE_TICKET element needs its ticket settings.", field=key)
    ticket_type = ticket_types.get(given["ticket_type_id"])
    if ticket_type is None:
        raise BadUserInput("No ticket type with this ID.", field=key)
    if ticket_type.is_absence_request:
        raise BadUserInput("Forms never create absence requests.", field=key)
    title = (given.get("title") or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise BadUserInput(f"The ticket needs a title of 1–{MAX_TITLE} characters.", field=key)
    description = (given.get("description") or "").strip()
    if len(description) > MAX_TEXT:
        raise BadUserInput(f"The ticket description has at most {MAX_TEXT} characters.", field=key)
    return {
        "ticket_type_id": ticket_type.id,
        "title": title,
        "description": description,
        **{
            flag: given.get(flag, False)
            for flag in ("title_editable", "description_editable", "allow_due_date", "attach_pdf", "allow_priority")
        },
        "priority": TicketPriority(given.get("priority") or TicketPriority.NORMAL).value,
    }


def _check_template_text(name: str, description: str | None) -> tuple[str, str]:
    cleaned = (name or "").strip()
    if not cleaned or len(cleaned) > 200:
        raise BadUserInput("The name must have 1–200 characters.", field="name")
    text = (description or "").strip()
    if len(text) > MAX_TEXT:
        raise BadUserInput(f"The description has at most {MAX_TEXT} characters.", field="description")
    return cleaned, text


async def create_template(
    viewer: Viewer,
    *,
    name: str,
    elements: list[dict[str, Any]],
    description: str | None = None,
    is_public: bool = False,
) -> FormTemplate:
    """A new draft template (version 1)."""
    name, description = _check_template_text(name, description)
    stored = await check_elements(elements, is_public)
    at = now()
    async with in_transaction() as connection:
        template = await FormTemplate.create(
            name=name,
            description=description,
            is_public=is_public,
            created_by_id=viewer.account_id,
            created_at=at,
            updated_at=at,
            using_db=connection,
        )
        await FormTemplateVersion.create(
            template_id=template.id,
            version=1,
            name=name,
            description=description,
            elements=stored,
            created_by_id=viewer.account_id,
            created_at=at,
            using_db=connection,
        )
    return template


async def get_managed_template(viewer: Viewer, template_id: int) -> FormTemplate:
    """A template the viewer may change, or `NOT_FOUND` at `id`."""
    return await get_in_scope(managed_templates(viewer), template_id, "form template")


async def update_template(
    viewer: Viewer,
    template_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    is_public: bool | None = None,
    elements: list[dict[str, Any]] | None = None,
) -> FormTemplate:
    """Change a template: a draft in place, a published (or archived) one as a new version.

    Arguments left None keep their current value.
    """
    template = await get_managed_template(viewer, template_id)
    current = await FormTemplateVersion.get(template_id=template.id, version=template.current_version)
    new_name, new_description = _check_template_text(
        template.name if name is None else name, template.description if description is None else description
    )
    public = template.is_public if is_public is None else is_public
    if public != template.is_public and template.published_at is not None:
        raise BadUserInput("A template cannot change between internal and public once published.", field="isPublic")
    stored = current.elements if elements is None else await check_elements(elements, public)
    if elements is None and public:
        # The kept elements must suit the new audience too.
        if any(e["kind"] == Kind.CREATE_TICKET.value for e in stored):
            raise BadUserInput("Public templates cannot create tickets.", field="isPublic")
    if (
        stored == current.elements
        and new_name == current.name
        and new_description == current.description
        and public == template.is_public
    ):
        return template  # nothing changed: no new version
    at = now()
    async with in_transaction() as connection:
        # Only a never-published draft has no one relying on its version.
        if template.published_at is None:
            await (
                FormTemplateVersion.filter(id=current.id)
                .using_db(connection)
                .update(name=new_name, description=new_description, elements=stored)
            )
            version = template.current_version
        else:
            version = template.current_version + 1
            await FormTemplateVersion.create(
                template_id=template.id,
                version=version,
                name=new_name,
                description=new_description,
                elements=stored,
                created_by_id=viewer.account_id,
                created_at=at,
                using_db=connection,
            )
        await (
            FormTemplate.filter(id=template.id)
            .using_db(connection)
            .update(
                name=new_name, description=new_description, is_public=public, current_version=version, updated_at=at
            )
        )
    return await FormTemplate.get(id=template.id)


async def publish_template(viewer: Viewer, template_id: int) -> FormTemplate:
    """Release a template for filling; a public one gets the token of its link."""
    template = await get_managed_template(viewer, template_id)
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
    template = await get_managed_template(viewer, template_id)
    if template.status is not FormTemplateStatus.ARCHIVED:
        await FormTemplate.filter(id=template.id).update(status=FormTemplateStatus.ARCHIVED, updated_at=now())
    return await FormTemplate.get(id=template.id)
