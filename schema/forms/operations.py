"""Inspection forms in GraphQL: the queries and mutations, and how their inputs' errors are reported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry

from core.errors import BadUserInput, SitedeskError
from core.ids import parse_id
from permissions.policy import ANYONE, EMPLOYEES, TEMPLATE_MANAGERS
from resolvers import forms
from resolvers.forms.read import FORM_SUBMISSIONS, FORM_TEMPLATES
from schema.directive import field, mutation
from schema.forms.inputs import (
    AnswerInput,
    CreateFormTemplateInput,
    FormSubmissionFilter,
    SubmitFormInput,
    UpdateFormTemplateInput,
)
from schema.forms.types import FormSubmission, FormTemplate, StatusArgument, submission_nodes
from schema.inputs import decoded, decoded_list
from schema.relay import Connection, Paging, connection, paged

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
    @field(
        policy=EMPLOYEES,
        description="Templates by name, in one list: template managers see all, other employees the published ones.",
        deprecation_reason="Use `formTemplatePage`, a connection; this list goes in the next major version.",
    )
    async def form_templates(self, info: strawberry.Info, status: StatusArgument = None) -> list[FormTemplate]:
        return [FormTemplate.from_row(r) for r in await forms.list_templates(info.context.viewer, status)]

    @field(
        policy=EMPLOYEES,
        description="Templates by name, as a connection (keyset pages): template managers see all, "
        "other employees the published ones.",
    )
    @paged(FORM_TEMPLATES)
    async def form_template_page(
        self, info: strawberry.Info, status: StatusArgument = None, *, page: Paging
    ) -> Connection[FormTemplate]:
        rows, total = await forms.page_of_templates(info.context.viewer, page.window, status)
        return connection([FormTemplate.from_row(r) for r in rows], rows, page, total)

    @field(policy=EMPLOYEES, description="Null when it does not exist or is not yours to see.")
    async def form_template(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The template's ID.")]
    ) -> FormTemplate | None:
        row = await forms.find_template(info.context.viewer, _template_pk(id))
        return FormTemplate.from_row(row) if row else None

    @field(policy=ANYONE, description="A published public template by its link's token; null otherwise.")
    async def public_form_template(
        self,
        token: Annotated[
            str, strawberry.argument(description="The token of the template's public link (`publicToken`).")
        ],
    ) -> FormTemplate | None:
        row = await forms.find_public_template(token)
        return FormTemplate.from_row(row) if row else None

    @field(policy=EMPLOYEES, description="Filled-in forms, newest first.")
    @paged(FORM_SUBMISSIONS)
    async def form_submissions(
        self,
        info: strawberry.Info,
        filter: Annotated[
            FormSubmissionFilter | None, strawberry.argument(description="Narrows the list; absent: every submission.")
        ] = None,
        *,
        page: Paging,
    ) -> Connection[FormSubmission]:
        criteria = decoded(filter, "filter") if filter is not None else {}
        rows, total = await forms.page_of_submissions(info.context.viewer, page.window, **criteria)
        return connection(await submission_nodes(rows), rows, page, total)


@strawberry.type
class FormMutations:
    @mutation(policy=TEMPLATE_MANAGERS, description="A new draft template.")
    async def create_form_template(
        self,
        info: strawberry.Info,
        input: Annotated[CreateFormTemplateInput, strawberry.argument(description="The new template.")],
    ) -> FormTemplate:
        row = await forms.create_template(info.context.viewer, **_template_values(input))
        return FormTemplate.from_row(row)

    @mutation(
        policy=TEMPLATE_MANAGERS, description="A draft changes in place; a published template gets a new version."
    )
    async def update_form_template(
        self,
        info: strawberry.Info,
        input: Annotated[UpdateFormTemplateInput, strawberry.argument(description="The template and its changes.")],
    ) -> FormTemplate:
        changes = _template_values(input)
        row = await forms.update_template(info.context.viewer, changes.pop("id"), **changes)
        return FormTemplate.from_row(row)

    @mutation(policy=TEMPLATE_MANAGERS, description="Release for filling; public templates get their publicToken.")
    async def publish_form_template(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The template's ID.")]
    ) -> FormTemplate:
        return FormTemplate.from_row(await forms.publish_template(info.context.viewer, _template_pk(id)))

    @mutation(policy=TEMPLATE_MANAGERS, description="Withdraw from filling; submissions stay.")
    async def archive_form_template(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The template's ID.")]
    ) -> FormTemplate:
        return FormTemplate.from_row(await forms.archive_template(info.context.viewer, _template_pk(id)))

    @mutation(policy=EMPLOYEES, description="Fill an internal template for an object; all or nothing.")
    async def submit_form(
        self,
        info: strawberry.Info,
        input: Annotated[SubmitFormInput, strawberry.argument(description="The template, the object and the answers.")],
    ) -> FormSubmission:
        values = _with_answers(lambda: decoded(input), input.answers)
        row = await forms.submit_form(info.context.viewer, info.context.settings, **values)
        return (await submission_nodes([row]))[0]

    @mutation(policy=ANYONE, description="Fill a public template through its link, anonymously.")
    async def submit_public_form(
        self,
        info: strawberry.Info,
        token: Annotated[str, strawberry.argument(description="The token of the template's public link.")],
        answers: Annotated[
            list[AnswerInput],
            strawberry.argument(description="One per answered element; hidden elements' answers are ignored."),
        ],
    ) -> FormSubmission:
        row = await forms.submit_public_form(
            info.context.settings, token, _with_answers(lambda: decoded_list(answers, "answers"), answers)
        )
        return (await submission_nodes([row]))[0]
