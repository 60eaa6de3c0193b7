"""Inspection forms: templates, their elements and versions, submissions and the filled form as PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import strawberry
from strawberry.file_uploads import Upload

from core.errors import BadUserInput, SitedeskError
from core.ids import parse_id, to_global_id
from files.signing import signed_url
from models.forms import FormConditionOperator, FormElementKind, FormFileRole, FormTemplateStatus
from models.forms import FormSubmission as FormSubmissionRow
from models.forms import FormTemplate as FormTemplateRow
from models.forms import FormTemplateVersion as FormTemplateVersionRow
from permissions.policy import ANYONE, EMPLOYEES, TEMPLATE_MANAGERS
from resolvers import forms
from schema.accounts import Person
from schema.customers import SiteObject
from schema.directive import field, mutation, type_policy
from schema.inputs import decoded, decoded_list, ref
from schema.loaders import loader
from schema.relay import Connection, Node, connection, key_of, paging
from schema.tickets import Ticket, TicketType, person

strawberry.enum(FormElementKind, description="What an element of a form asks for (INFO asks nothing).")
strawberry.enum(FormConditionOperator, description="How a condition compares an earlier answer with its value.")
strawberry.enum(FormTemplateStatus, description="DRAFT: being designed; PUBLISHED: can be filled; ARCHIVED: withdrawn.")

DateValue = date  # inputs annotate with this alias: `AnswerInput.date` is a field name there


@strawberry.type(
    directives=type_policy(ANYONE), description="Show an element only when an earlier answer meets this condition."
)
class FormCondition:
    key: str
    operator: FormConditionOperator
    value: str


@strawberry.type(directives=type_policy(EMPLOYEES), description="The ticket a CREATE_TICKET element creates.")
class FormTicketSettings:
    title: str
    description: str
    title_editable: bool
    description_editable: bool
    allow_due_date: bool
    attach_pdf: bool
    type_pk: strawberry.Private[int]

    @field(policy=EMPLOYEES)
    async def ticket_type(self, info: strawberry.Info) -> TicketType:
        return TicketType.from_row(await loader(info, "ticket_type_by_id").load(self.type_pk))


@strawberry.type(
    directives=type_policy(ANYONE), description="One element of a form: a question, an info text or a ticket."
)
class FormElement:
    key: str
    kind: FormElementKind
    label: str
    description: str
    required: bool
    options: list[str]
    scale: int | None
    visible_if: FormCondition | None
    settings: strawberry.Private[dict[str, Any] | None]

    @field(policy=EMPLOYEES, description="CREATE_TICKET elements only (internal templates).")
    def ticket(self) -> FormTicketSettings | None:
        if self.settings is None:
            return None
        s = self.settings
        return FormTicketSettings(
            title=s["title"],
            description=s["description"],
            title_editable=s["title_editable"],
            description_editable=s["description_editable"],
            allow_due_date=s["allow_due_date"],
            attach_pdf=s["attach_pdf"],
            type_pk=s["ticket_type_id"],
        )

    @classmethod
    def from_stored(cls, element: dict[str, Any]) -> FormElement:
        condition = element.get("visible_if")
        return cls(
            key=element["key"],
            kind=FormElementKind(element["kind"]),
            label=element["label"],
            description=element["description"],
            required=element["required"],
            options=list(element["options"]),
            scale=element["scale"],
            visible_if=FormCondition(
                key=condition["key"], operator=FormConditionOperator(condition["operator"]), value=condition["value"]
            )
            if condition
            else None,
            settings=element.get("ticket"),
        )


@strawberry.type(directives=type_policy(ANYONE), description="One state of a template's elements.")
class FormTemplateVersion:
    version: int
    name: str
    description: str
    created_at: datetime
    stored_elements: strawberry.Private[list[dict[str, Any]]]

    @field(policy=ANYONE)
    def elements(self) -> list[FormElement]:
        return [FormElement.from_stored(e) for e in self.stored_elements]

    @classmethod
    def from_row(cls, row: FormTemplateVersionRow) -> FormTemplateVersion:
        return cls(
            version=row.version,
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            stored_elements=row.elements,
        )


@strawberry.type(directives=type_policy(ANYONE), description="A form design, filled in as submissions.")
class FormTemplate(Node):
    name: str
    description: str
    is_public: bool
    status: FormTemplateStatus
    version: int = strawberry.field(description="The current version: the one new submissions are filled against.")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    pk: strawberry.Private[int]
    token: strawberry.Private[str | None]

    @field(policy=ANYONE, description="The elements of the current version, in order.")
    async def elements(self, info: strawberry.Info) -> list[FormElement]:
        row = await loader(info, "current_form_version_by_template_id").load(self.pk)
        return [FormElement.from_stored(e) for e in row.elements] if row else []

    @field(policy=EMPLOYEES, description="The secret of a published public template's link.")
    def public_token(self) -> str | None:
        return self.token

    @field(policy=TEMPLATE_MANAGERS, description="Every version, newest first.")
    async def versions(self, info: strawberry.Info) -> list[FormTemplateVersion] | None:
        rows = await loader(info, "form_versions_by_template_id").load(self.pk)
        return [FormTemplateVersion.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: FormTemplateRow) -> FormTemplate:
        return cls(
            id=to_global_id("FormTemplate", row.id),
            name=row.name,
            description=row.description,
            is_public=row.is_public,
            status=row.status,
            version=row.current_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            published_at=row.published_at,
            pk=row.id,
            token=row.public_token,
        )


@strawberry.type(directives=type_policy(ANYONE), description="One answer of a submission, rendered as text.")
class FormAnswer:
    key: str
    label: str
    value: str
    kind: FormElementKind
    file_pk: strawberry.Private[int | None]

    @field(
        policy=ANYONE,
        description=(
            "PHOTO and SIGNATURE answers: an absolute signed URL of the image (starting with SITEDESK_PUBLIC_URL)."
        ),
    )
    def file_url(self, info: strawberry.Info) -> str | None:
        return signed_url(info.context.settings, "form-file", self.file_pk) if self.file_pk else None


@strawberry.type(directives=type_policy(ANYONE), description="A filled-in form.")
class FormSubmission(Node):
    submitted_at: datetime
    template_version: int = strawberry.field(description="The template version it was filled against.")
    pk: strawberry.Private[int]
    template_pk: strawberry.Private[int]
    version_pk: strawberry.Private[int]
    object_pk: strawberry.Private[int | None]
    filler_account: strawberry.Private[int | None]
    stored_answers: strawberry.Private[list[dict[str, Any]]]
    client_id: strawberry.Private[str | None]

    @field(policy=ANYONE)
    async def template(self, info: strawberry.Info) -> FormTemplate:
        return FormTemplate.from_row(await loader(info, "form_template_by_id").load(self.template_pk))

    @field(policy=ANYONE, description="The template version as it was filled: its name and elements.")
    async def version(self, info: strawberry.Info) -> FormTemplateVersion:
        row = await loader(info, "form_version_by_id").load(self.version_pk)
        return FormTemplateVersion.from_row(row)

    @field(policy=ANYONE, description="Null for public forms.")
    async def object(self, info: strawberry.Info) -> SiteObject | None:
        if self.object_pk is None:
            return None
        return SiteObject.from_row(await loader(info, "site_object_by_id").load(self.object_pk))

    @field(policy=ANYONE, description="Null for anonymous (public) submissions.")
    async def submitted_by(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.filler_account)

    @field(policy=EMPLOYEES)
    def client_submission_id(self) -> str | None:
        return self.client_id

    @field(policy=ANYONE, description="The visible elements' answers in form order, as text.")
    async def answers(self, info: strawberry.Info) -> list[FormAnswer]:
        files = await loader(info, "form_files_by_submission_id").load(self.pk)
        by_key = {f.element_key: f.id for f in files if f.role is FormFileRole.ANSWER}
        return [
            FormAnswer(
                key=a["key"],
                label=a["label"],
                value=a["text"],
                kind=FormElementKind(a["kind"]),
                file_pk=by_key.get(a["key"]),
            )
            for a in self.stored_answers
        ]

    @field(policy=ANYONE, description="The tickets it created (as far as the viewer may see them).")
    async def created_tickets(self, info: strawberry.Info) -> list[Ticket]:
        rows = await loader(info, "visible_created_tickets_by_submission_id").load(self.pk)
        return [Ticket.from_row(r) for r in rows]

    @field(
        policy=ANYONE, description="Absolute signed URL (starting with SITEDESK_PUBLIC_URL) of the filled form as PDF."
    )
    async def pdf_url(self, info: strawberry.Info) -> str | None:
        files = await loader(info, "form_files_by_submission_id").load(self.pk)
        pdf = next((f for f in files if f.role is FormFileRole.PDF), None)
        return signed_url(info.context.settings, "form-file", pdf.id) if pdf else None

    @classmethod
    def from_row(cls, row: FormSubmissionRow, version: int | None = None) -> FormSubmission:
        return cls(
            id=to_global_id("FormSubmission", row.id),
            submitted_at=row.submitted_at,
            template_version=version if version is not None else row.version.version,
            pk=row.id,
            template_pk=row.template_id,
            version_pk=row.version_id,
            object_pk=row.object_id,
            filler_account=row.submitted_by_id,
            stored_answers=row.answers,
            client_id=row.client_submission_id,
        )


async def submission_nodes(rows: list[FormSubmissionRow]) -> list[FormSubmission]:
    """Types for submission rows, their version numbers fetched in one query."""
    numbers = dict(
        await FormTemplateVersionRow.filter(id__in={r.version_id for r in rows}).values_list("id", "version")
    )
    return [FormSubmission.from_row(r, numbers[r.version_id]) for r in rows]


# ---------------------------------------------------------------- inputs


@strawberry.input(description='visibleIf: `value` is read as the referenced element\'s type ("2", "true", an option).')
class FormConditionInput:
    key: str
    operator: FormConditionOperator
    value: str


@strawberry.input(description="The ticket a CREATE_TICKET element creates (internal templates only).")
class FormTicketElementInput:
    ticket_type_id: ref("TicketType")
    title: str
    description: str | None = None
    title_editable: bool = False
    description_editable: bool = False
    allow_due_date: bool = False
    attach_pdf: bool = False


@strawberry.input(description="One element; `key` is unique in the template.")
class FormElementInput:
    key: str
    kind: FormElementKind
    label: str
    description: str | None = None
    required: bool = False
    options: list[str] | None = None
    scale: int | None = strawberry.field(default=None, description="RATING: 1..scale, default 5.")
    visible_if: FormConditionInput | None = None
    ticket: FormTicketElementInput | None = None


@strawberry.input
class CreateFormTemplateInput:
    name: str
    description: str | None = None
    is_public: bool = False
    elements: list[FormElementInput]


@strawberry.input(description="Absent fields stay; a published template gets a new version.")
class UpdateFormTemplateInput:
    id: ref("FormTemplate")
    name: str | None = None
    description: str | None = None
    is_public: bool | None = None
    elements: list[FormElementInput] | None = None


@strawberry.input(description="Changes to a CREATE_TICKET element's ticket, each only where the template allows it.")
class FormTicketAnswerInput:
    title: str | None = None
    description: str | None = None
    due_date: DateValue | None = None


@strawberry.input(description="One answer; set the one value field its element's kind takes.")
class AnswerInput:
    key: str
    text: str | None = None
    number: float | None = strawberry.field(default=None, description="NUMBER and RATING.")
    boolean: bool | None = strawberry.field(default=None, description="YES_NO.")
    choices: list[str] | None = strawberry.field(default=None, description="SINGLE_CHOICE (one) and MULTIPLE_CHOICE.")
    date: DateValue | None = None
    ticket: FormTicketAnswerInput | None = None
    upload: Upload | None = strawberry.field(default=None, description="PHOTO and SIGNATURE: an image.")


@strawberry.input
class SubmitFormInput:
    template_id: ref("FormTemplate")
    object_id: ref("SiteObject")
    answers: list[AnswerInput]
    client_submission_id: str | None = strawberry.field(
        default=None, description="Chosen by the device; sending the same one again returns the first submission."
    )


@strawberry.input(description="`from` and `to` are days (UTC), both included.")
class FormSubmissionFilter:
    template_id: ref("FormTemplate") | None = None
    object_id: ref("SiteObject") | None = None
    from_date: DateValue | None = strawberry.field(default=None, name="from")
    to_date: DateValue | None = strawberry.field(default=None, name="to")


T = TypeVar("T")


def _item_at(error: SitedeskError, path: str, items: list[Any]) -> tuple[int, Any] | None:
    """The (index, input) of the list `items` at `path` that a decoding error names, if it names one."""
    where = str(error.extensions.get("field", ""))
    if not where.startswith(f"{path}."):
        return None
    index = int(where[len(path) + 1 :].partition(".")[0])
    return index, items[index]


def _template_values(input: CreateFormTemplateInput | UpdateFormTemplateInput) -> dict[str, Any]:
    """`decoded(input)`; a bad ticket type ID is bad input at its element's key, like every element error."""
    try:
        return decoded(input)
    except SitedeskError as exc:
        found = _item_at(exc, "elements", input.elements or [])
        if found is None:
            raise
        index, element = found
        raise BadUserInput("No ticket type with this ID.", field=element.key or f"elements.{index}") from None


def _with_answers(decode: Callable[[], T], answers: list[AnswerInput]) -> T:
    """`decode()`; an upload that is no file is reported at its answer's key, like every answer error."""
    try:
        return decode()
    except BadUserInput as exc:
        found = _item_at(exc, "answers", answers)
        if found is None:
            raise
        raise BadUserInput(str(exc), field=found[1].key) from None


def _template_pk(gid: str) -> int:
    return parse_id(gid, "FormTemplate", field="id")


@strawberry.type
class FormQueries:
    @field(policy=EMPLOYEES, description="Templates: template managers see all, other employees the published ones.")
    async def form_templates(
        self, info: strawberry.Info, status: FormTemplateStatus | None = None
    ) -> list[FormTemplate]:
        return [FormTemplate.from_row(r) for r in await forms.list_templates(info.context.viewer, status)]

    @field(policy=EMPLOYEES, description="Null when it does not exist or is not yours to see.")
    async def form_template(self, info: strawberry.Info, id: strawberry.ID) -> FormTemplate | None:
        row = await forms.find_template(info.context.viewer, _template_pk(id))
        return FormTemplate.from_row(row) if row else None

    @field(policy=ANYONE, description="A published public template by its link's token; null otherwise.")
    async def public_form_template(self, token: str) -> FormTemplate | None:
        row = await forms.find_public_template(token)
        return FormTemplate.from_row(row) if row else None

    @field(policy=EMPLOYEES, description="Filled-in forms, newest first.")
    async def form_submissions(
        self,
        info: strawberry.Info,
        filter: FormSubmissionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[FormSubmission]:
        page = paging(info, "formSubmissions", first, after, last, before)
        criteria = decoded(filter, "filter") if filter is not None else {}
        rows, total = await forms.page_of_submissions(info.context.viewer, page.window, **criteria)
        return connection(await submission_nodes(rows), rows, page, total, key_of("submitted_at"))


@strawberry.type
class FormMutations:
    @mutation(policy=TEMPLATE_MANAGERS, description="A new draft template.")
    async def create_form_template(self, info: strawberry.Info, input: CreateFormTemplateInput) -> FormTemplate:
        row = await forms.create_template(info.context.viewer, **_template_values(input))
        return FormTemplate.from_row(row)

    @mutation(
        policy=TEMPLATE_MANAGERS, description="A draft changes in place; a published template gets a new version."
    )
    async def update_form_template(self, info: strawberry.Info, input: UpdateFormTemplateInput) -> FormTemplate:
        changes = _template_values(input)
        row = await forms.update_template(info.context.viewer, changes.pop("id"), **changes)
        return FormTemplate.from_row(row)

    @mutation(policy=TEMPLATE_MANAGERS, description="Release for filling; public templates get their publicToken.")
    async def publish_form_template(self, info: strawberry.Info, id: strawberry.ID) -> FormTemplate:
        return FormTemplate.from_row(await forms.publish_template(info.context.viewer, _template_pk(id)))

    @mutation(policy=TEMPLATE_MANAGERS, description="Withdraw from filling; submissions stay.")
    async def archive_form_template(self, info: strawberry.Info, id: strawberry.ID) -> FormTemplate:
        return FormTemplate.from_row(await forms.archive_template(info.context.viewer, _template_pk(id)))

    @mutation(policy=EMPLOYEES, description="Fill an internal template for an object; all or nothing.")
    async def submit_form(self, info: strawberry.Info, input: SubmitFormInput) -> FormSubmission:
        values = _with_answers(lambda: decoded(input), input.answers)
        row = await forms.submit_form(info.context.viewer, info.context.settings, **values)
        return (await submission_nodes([row]))[0]

    @mutation(policy=ANYONE, description="Fill a public template through its link, anonymously.")
    async def submit_public_form(self, info: strawberry.Info, token: str, answers: list[AnswerInput]) -> FormSubmission:
        row = await forms.submit_public_form(
            info.context.settings, token, _with_answers(lambda: decoded_list(answers, "answers"), answers)
        )
        return (await submission_nodes([row]))[0]
