"""Inspection forms in GraphQL: the enums and output types (templates, versions, elements, submissions, answers)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from core.ids import to_global_id
from files.signing import signed_url
from models.forms import FormConditionOperator, FormElementKind, FormFileRole, FormTemplateStatus
from models.forms import FormSubmission as FormSubmissionRow
from models.forms import FormTemplate as FormTemplateRow
from models.forms import FormTemplateVersion as FormTemplateVersionRow
from permissions.policy import ANYONE, EMPLOYEES, TEMPLATE_MANAGERS
from resolvers import forms
from schema.accounts import Person
from schema.customers import SiteObject
from schema.describe import describe_values
from schema.directive import field, type_policy
from schema.loaders import (
    current_form_version_by_template_id,
    form_files_by_submission_id,
    form_template_by_id,
    form_version_by_id,
    form_versions_by_template_id,
    site_object_by_id,
    ticket_type_by_id,
    visible_created_tickets_by_submission_id,
)
from schema.relay import Node
from schema.tickets import Ticket, TicketType, person

strawberry.enum(FormElementKind, description="What an element of a form asks for (INFO asks nothing).")
strawberry.enum(FormConditionOperator, description="How a condition compares an earlier answer with its value.")
strawberry.enum(FormTemplateStatus, description="DRAFT: being designed; PUBLISHED: can be filled; ARCHIVED: withdrawn.")
describe_values(
    FormElementKind,
    {
        "INFO": "A text shown to the filler; takes no answer.",
        "TEXT": "Free text; answered with `text`.",
        "NUMBER": "Any finite number; answered with `number`.",
        "YES_NO": "Yes or no; answered with `boolean`.",
        "SINGLE_CHOICE": "One of `options`; answered with `choices` holding one option.",
        "MULTIPLE_CHOICE": "Any of `options`; answered with `choices`.",
        "RATING": "A whole number from 1 to `scale`; answered with `number`.",
        "DATE": "A calendar day; answered with `date`.",
        "PHOTO": "An image; answered with `upload`.",
        "SIGNATURE": "A drawn signature as an image; answered with `upload`.",
        "CREATE_TICKET": "Creates a ticket when the form is submitted (internal templates only); its answer, "
        "`ticket`, is optional.",
    },
)
describe_values(
    FormConditionOperator,
    {
        "EQ": "Equal (MULTIPLE_CHOICE: the option is among the chosen ones; TEXT: ignoring case).",
        "NE": "Not equal (MULTIPLE_CHOICE: the option is not chosen).",
        "LT": "Less than (numbers, ratings and dates).",
        "LTE": "Less than or equal.",
        "GT": "Greater than.",
        "GTE": "Greater than or equal.",
    },
)
describe_values(
    FormTemplateStatus,
    {
        "DRAFT": "Being designed: only template managers see it; nobody can fill it.",
        "PUBLISHED": "Open for filling (internal templates by employees, public ones through their link).",
        "ARCHIVED": "Withdrawn from filling; its submissions stay.",
    },
)

StatusArgument = Annotated[
    FormTemplateStatus | None,
    strawberry.argument(description="Only templates in this status; all the viewer may see when absent."),
]

DateValue = date  # inputs annotate with this alias: `AnswerInput.date` is a field name there


@strawberry.type(
    directives=type_policy(ANYONE), description="Show an element only when an earlier answer meets this condition."
)
class FormCondition:
    key: str = strawberry.field(description="The key of the earlier element whose answer is compared.")
    operator: FormConditionOperator = strawberry.field(description="How the answer is compared with `value`.")
    value: str = strawberry.field(
        description='What the answer is compared with, read as that element\'s type: "2", "true", an option.'
    )


@strawberry.type(directives=type_policy(EMPLOYEES), description="The ticket a CREATE_TICKET element creates.")
class FormTicketSettings:
    title: str = strawberry.field(description="The ticket's title unless the filler may and does change it.")
    description: str = strawberry.field(description="The ticket's description unless the filler changes it.")
    title_editable: bool = strawberry.field(description="Whether the filler may change the title.")
    description_editable: bool = strawberry.field(description="Whether the filler may change the description.")
    allow_due_date: bool = strawberry.field(description="Whether the filler may set a due date.")
    attach_pdf: bool = strawberry.field(description="Whether the filled form's PDF is attached to the ticket.")
    type_pk: strawberry.Private[int]

    @field(policy=EMPLOYEES, description="The type of the ticket it creates.")
    async def ticket_type(self, info: strawberry.Info) -> TicketType:
        return TicketType.from_row(await ticket_type_by_id(info).load(self.type_pk))


@strawberry.type(
    directives=type_policy(ANYONE), description="One element of a form: a question, an info text or a ticket."
)
class FormElement:
    key: str = strawberry.field(description="Names the element in answers and conditions; unique in the template.")
    kind: FormElementKind = strawberry.field(description="What it asks for, and so which answer field it takes.")
    label: str = strawberry.field(description="The question or heading.")
    description: str = strawberry.field(description="A help text shown below the label; may be empty.")
    required: bool = strawberry.field(description="Whether it must be answered while visible.")
    options: list[str] = strawberry.field(
        description="SINGLE_CHOICE and MULTIPLE_CHOICE: the options; empty for other kinds."
    )
    scale: int | None = strawberry.field(description="RATING: answers run from 1 to this; null for other kinds.")
    visible_if: FormCondition | None = strawberry.field(
        description="Shown only when an earlier answer meets this; null: always shown."
    )
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
    version: int = strawberry.field(description="Its number, counting up from 1.")
    name: str = strawberry.field(description="The template's name in this version.")
    description: str = strawberry.field(description="The template's description in this version.")
    created_at: datetime = strawberry.field(description="When this version was made.")
    stored_elements: strawberry.Private[list[dict[str, Any]]]

    @field(policy=ANYONE, description="The elements of this version, in order.")
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
    name: str = strawberry.field(description="The template's name, e.g. Objektbegehung.")
    description: str = strawberry.field(description="What the form is for; may be empty.")
    is_public: bool = strawberry.field(
        description="Filled anonymously through a link (`publicToken`) instead of by employees for an object."
    )
    status: FormTemplateStatus = strawberry.field(description="Whether it is a draft, open for filling or archived.")
    version: int = strawberry.field(description="The current version: the one new submissions are filled against.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    published_at: datetime | None = strawberry.field(description="When it was first published; null for drafts.")
    pk: strawberry.Private[int]
    token: strawberry.Private[str | None]

    @field(policy=ANYONE, description="The elements of the current version, in order.")
    async def elements(self, info: strawberry.Info) -> list[FormElement]:
        row = await current_form_version_by_template_id(info).load(self.pk)
        return [FormElement.from_stored(e) for e in row.elements] if row else []

    @field(policy=EMPLOYEES, description="The secret of a published public template's link.")
    def public_token(self) -> str | None:
        return self.token

    @field(policy=TEMPLATE_MANAGERS, description="Every version, newest first.")
    async def versions(self, info: strawberry.Info) -> list[FormTemplateVersion] | None:
        rows = await form_versions_by_template_id(info).load(self.pk)
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


@strawberry.type(directives=type_policy(ANYONE), description="The image a PHOTO or SIGNATURE answer holds.")
class FormAnswerFile:
    filename: str = strawberry.field(description="The file name as uploaded (cleaned of path parts).")
    content_type: str = strawberry.field(description="The content type sniffed from the bytes, e.g. image/png.")
    size: int = strawberry.field(description="Size in bytes.")
    pk: strawberry.Private[int]

    @field(policy=ANYONE, description="Signed URL of the image, valid for a few minutes, no Authorization header.")
    def download_url(self, info: strawberry.Info) -> str:
        return signed_url(info.context.settings, "form-file", self.pk)


@strawberry.type(
    directives=type_policy(ANYONE),
    description="One answer of a submission: `value` is the display text (as in the PDF); the typed field "
    "named like the `AnswerInput` field its kind takes holds the value itself, the others are null.",
)
class FormAnswer:
    key: str = strawberry.field(description="The element's key in the template version.")
    label: str = strawberry.field(description="The element's label when the form was filled.")
    value: str = strawberry.field(
        description='The answer as display text, as printed in the PDF (German: "Ja", "4 / 5", '
        '"Ticket #201"); "" when unanswered. Read the typed fields for values.'
    )
    kind: FormElementKind = strawberry.field(description="The element's kind: which typed field holds the value.")
    file_pk: strawberry.Private[int | None]
    stored: strawberry.Private[Any] = None
    submission_pk: strawberry.Private[int] = 0

    def _typed(self, *kinds: FormElementKind) -> Any:
        return self.stored if self.kind in kinds else None

    @field(
        policy=ANYONE,
        description=(
            "PHOTO and SIGNATURE answers: an absolute signed URL of the image (starting with SITEDESK_PUBLIC_URL)."
        ),
    )
    def file_url(self, info: strawberry.Info) -> str | None:
        return signed_url(info.context.settings, "form-file", self.file_pk) if self.file_pk else None

    @field(policy=ANYONE, description="TEXT answers: the text as entered (trimmed); null otherwise or unanswered.")
    def text(self) -> str | None:
        return self._typed(FormElementKind.TEXT)  # type: ignore[no-any-return]

    @field(policy=ANYONE, description="NUMBER and RATING answers: the number (a rating is a whole number 1..scale).")
    def number(self) -> float | None:
        found = self._typed(FormElementKind.NUMBER, FormElementKind.RATING)
        return None if found is None else float(found)

    @field(policy=ANYONE, description="YES_NO answers: true for yes, false for no.")
    def boolean(self) -> bool | None:
        return self._typed(FormElementKind.YES_NO)  # type: ignore[no-any-return]

    @field(
        policy=ANYONE,
        description="SINGLE_CHOICE (one item) and MULTIPLE_CHOICE answers: the chosen options, "
        "exactly as the template's `options` spell them.",
    )
    def choices(self) -> list[str] | None:
        found = self._typed(FormElementKind.SINGLE_CHOICE, FormElementKind.MULTIPLE_CHOICE)
        if found is None:
            return None
        return [found] if isinstance(found, str) else list(found)

    @field(policy=ANYONE, description="DATE answers: the day.")
    def date(self) -> DateValue | None:
        found = self._typed(FormElementKind.DATE)
        return None if found is None else DateValue.fromisoformat(found)

    @field(policy=ANYONE, description="PHOTO and SIGNATURE answers: the stored image.")
    async def upload(self, info: strawberry.Info) -> FormAnswerFile | None:
        if self.kind not in (FormElementKind.PHOTO, FormElementKind.SIGNATURE) or self.file_pk is None:
            return None
        files = await form_files_by_submission_id(info).load(self.submission_pk)
        found = next((f for f in files if f.id == self.file_pk), None)
        if found is None:
            return None
        return FormAnswerFile(filename=found.filename, content_type=found.content_type, size=found.size, pk=found.id)

    @field(
        policy=ANYONE,
        description="CREATE_TICKET answers: the ticket the element created, as far as the viewer may see it.",
    )
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        number = self.stored.get("number") if isinstance(self.stored, dict) else None
        if self.kind is not FormElementKind.CREATE_TICKET or number is None:
            return None
        rows = await visible_created_tickets_by_submission_id(info).load(self.submission_pk)
        found = next((r for r in rows if r.number == number), None)
        return Ticket.from_row(found) if found else None


@strawberry.type(directives=type_policy(ANYONE), description="A filled-in form.")
class FormSubmission(Node):
    submitted_at: datetime = strawberry.field(description="When it was submitted.")
    template_version: int = strawberry.field(description="The template version it was filled against.")
    pk: strawberry.Private[int]
    template_pk: strawberry.Private[int]
    version_pk: strawberry.Private[int]
    object_pk: strawberry.Private[int | None]
    filler_account: strawberry.Private[int | None]
    stored_answers: strawberry.Private[list[dict[str, Any]]]
    client_id: strawberry.Private[str | None]

    @field(policy=ANYONE, description="The template it was filled from (as it is now; see `version` for then).")
    async def template(self, info: strawberry.Info) -> FormTemplate:
        return FormTemplate.from_row(await form_template_by_id(info).load(self.template_pk))

    @field(policy=ANYONE, description="The template version as it was filled: its name and elements.")
    async def version(self, info: strawberry.Info) -> FormTemplateVersion:
        row = await form_version_by_id(info).load(self.version_pk)
        return FormTemplateVersion.from_row(row)

    @field(policy=ANYONE, description="Null for public forms.")
    async def object(self, info: strawberry.Info) -> SiteObject | None:
        if self.object_pk is None:
            return None
        return SiteObject.from_row(await site_object_by_id(info).load(self.object_pk))

    @field(policy=ANYONE, description="Null for anonymous (public) submissions.")
    async def submitted_by(self, info: strawberry.Info) -> Person | None:
        return await person(info, self.filler_account)

    @field(policy=EMPLOYEES, description="The id the filling device chose (`SubmitFormInput.clientSubmissionId`).")
    def client_submission_id(self) -> str | None:
        return self.client_id

    @field(
        policy=ANYONE,
        description="The visible elements' answers in form order: display text and typed value.",
    )
    async def answers(self, info: strawberry.Info) -> list[FormAnswer]:
        files = await form_files_by_submission_id(info).load(self.pk)
        by_key = {f.element_key: f.id for f in files if f.role is FormFileRole.ANSWER}
        return [
            FormAnswer(
                key=a["key"],
                label=a["label"],
                value=a["text"],
                kind=FormElementKind(a["kind"]),
                file_pk=by_key.get(a["key"]),
                stored=a.get("value"),
                submission_pk=self.pk,
            )
            for a in self.stored_answers
        ]

    @field(policy=ANYONE, description="The tickets it created (as far as the viewer may see them).")
    async def created_tickets(self, info: strawberry.Info) -> list[Ticket]:
        rows = await visible_created_tickets_by_submission_id(info).load(self.pk)
        return [Ticket.from_row(r) for r in rows]

    @field(
        policy=ANYONE, description="Absolute signed URL (starting with SITEDESK_PUBLIC_URL) of the filled form as PDF."
    )
    async def pdf_url(self, info: strawberry.Info) -> str | None:
        files = await form_files_by_submission_id(info).load(self.pk)
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
    numbers = await forms.version_numbers({r.version_id for r in rows})
    return [FormSubmission.from_row(r, numbers[r.version_id]) for r in rows]
