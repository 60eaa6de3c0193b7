"""Inspection forms in GraphQL: the input types of the template and submission operations."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from models.forms import FormConditionOperator, FormElementKind
from schema.forms.types import DateValue
from schema.inputs import FormTemplateId, SiteObjectId, TicketTypeId


@strawberry.input(description='visibleIf: `value` is read as the referenced element\'s type ("2", "true", an option).')
class FormConditionInput:
    key: str = strawberry.field(description="The key of an earlier element whose answer is compared.")
    operator: FormConditionOperator = strawberry.field(description="How the answer is compared with `value`.")
    value: str = strawberry.field(
        description='What the answer is compared with, read as that element\'s type: "2", "true", an option.'
    )


@strawberry.input(description="The ticket a CREATE_TICKET element creates (internal templates only).")
class FormTicketElementInput:
    ticket_type_id: TicketTypeId = strawberry.field(description="The type of the ticket; no absence type.")
    title: str = strawberry.field(description="The ticket's title, 1 to 200 characters.")
    description: str | None = strawberry.field(default=None, description="The ticket's description.")
    title_editable: bool = strawberry.field(default=False, description="Whether the filler may change the title.")
    description_editable: bool = strawberry.field(
        default=False, description="Whether the filler may change the description."
    )
    allow_due_date: bool = strawberry.field(default=False, description="Whether the filler may set a due date.")
    attach_pdf: bool = strawberry.field(
        default=False, description="Whether the filled form's PDF is attached to the ticket."
    )


@strawberry.input(description="One element; `key` is unique in the template.")
class FormElementInput:
    key: str = strawberry.field(description="Names the element in answers and conditions; unique in the template.")
    kind: FormElementKind = strawberry.field(description="What the element asks for.")
    label: str = strawberry.field(description="The question or heading shown to the filler and in the PDF.")
    description: str | None = strawberry.field(default=None, description="A help text shown below the label.")
    required: bool = strawberry.field(
        default=False, description="Whether a visible element must be answered (hidden ones never must)."
    )
    options: list[str] | None = strawberry.field(
        default=None, description="SINGLE_CHOICE and MULTIPLE_CHOICE: the options, each unique."
    )
    scale: int | None = strawberry.field(default=None, description="RATING: 1..scale, default 5.")
    visible_if: FormConditionInput | None = strawberry.field(
        default=None, description="Show the element only when an earlier element's answer meets this condition."
    )
    ticket: FormTicketElementInput | None = strawberry.field(
        default=None, description="CREATE_TICKET (internal templates only): the ticket it creates."
    )


@strawberry.input(description="A new template, created as a DRAFT.")
class CreateFormTemplateInput:
    name: str = strawberry.field(description="The template's name, e.g. Objektbegehung.")
    description: str | None = strawberry.field(default=None, description="What the form is for.")
    is_public: bool = strawberry.field(
        default=False,
        description="Public templates are filled anonymously through a link (`publicToken`); they cannot "
        "create tickets.",
    )
    elements: list[FormElementInput] = strawberry.field(description="The elements, in the order they are shown.")


@strawberry.input(description="Absent fields stay; a published template gets a new version.")
class UpdateFormTemplateInput:
    id: FormTemplateId = strawberry.field(description="The template to change.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    description: str | None = strawberry.field(default=None, description="A new description.")
    is_public: bool | None = strawberry.field(default=None, description="Whether it is filled through a link.")
    elements: list[FormElementInput] | None = strawberry.field(
        default=None, description="All elements anew, in order (they replace the current ones)."
    )


@strawberry.input(description="Changes to a CREATE_TICKET element's ticket, each only where the template allows it.")
class FormTicketAnswerInput:
    title: str | None = strawberry.field(default=None, description="A title of its own (where `titleEditable`).")
    description: str | None = strawberry.field(
        default=None, description="A description of its own (where `descriptionEditable`)."
    )
    due_date: DateValue | None = strawberry.field(default=None, description="A due date (where `allowDueDate`).")


@strawberry.input(description="One answer; set the one value field its element's kind takes.")
class AnswerInput:
    key: str = strawberry.field(description="The key of the element answered.")
    text: str | None = strawberry.field(default=None, description="TEXT: up to 20,000 characters.")
    number: float | None = strawberry.field(default=None, description="NUMBER and RATING.")
    boolean: bool | None = strawberry.field(default=None, description="YES_NO.")
    choices: list[str] | None = strawberry.field(default=None, description="SINGLE_CHOICE (one) and MULTIPLE_CHOICE.")
    date: DateValue | None = strawberry.field(default=None, description="DATE.")
    ticket: FormTicketAnswerInput | None = strawberry.field(
        default=None, description="CREATE_TICKET: the filler's changes to the ticket, where the template allows them."
    )
    upload: Upload | None = strawberry.field(default=None, description="PHOTO and SIGNATURE: an image.")


@strawberry.input(description="A filled internal template for an object; validated as a whole, stored all or nothing.")
class SubmitFormInput:
    template_id: FormTemplateId = strawberry.field(description="A published internal template.")
    object_id: SiteObjectId = strawberry.field(description="The object the form was filled for.")
    answers: list[AnswerInput] = strawberry.field(
        description="One per answered element; hidden elements' answers are ignored."
    )
    client_submission_id: str | None = strawberry.field(
        default=None, description="Chosen by the device; sending the same one again returns the first submission."
    )


@strawberry.input(description="`from` and `to` are days (UTC), both included.")
class FormSubmissionFilter:
    template_id: FormTemplateId | None = strawberry.field(
        default=None, description="Only submissions of this template."
    )
    object_id: SiteObjectId | None = strawberry.field(default=None, description="Only submissions for this object.")
    from_date: DateValue | None = strawberry.field(
        default=None, name="from", description="Only submissions from this day on (UTC, inclusive)."
    )
    to_date: DateValue | None = strawberry.field(
        default=None, name="to", description="Only submissions up to this day (UTC, inclusive)."
    )
