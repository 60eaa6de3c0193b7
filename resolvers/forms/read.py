"""Reading forms: templates in the viewer's scope, current versions, pages of submissions, created tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tortoise.queryset import QuerySet

from core.dates import plausible_date
from core.keyset import Listing, Window
from models.forms import FormSubmission, FormTemplate, FormTemplateStatus, FormTemplateVersion
from models.tickets import Ticket
from permissions.forms import public_template, visible_submissions, visible_templates
from permissions.tickets import visible_tickets
from permissions.viewer import Viewer

MAX_TOKEN = 64


async def list_templates(viewer: Viewer, status: FormTemplateStatus | None = None) -> list[FormTemplate]:
    """The viewer's templates (of one status if given), by name."""
    query = visible_templates(viewer).order_by("name", "id")
    if status is not None:
        query = query.filter(status=status)
    return list(await query)


FORM_TEMPLATES = Listing("formTemplates", "name", descending=False)
FORM_SUBMISSIONS = Listing("formSubmissions", "submitted_at", descending=True)


async def page_of_templates(
    viewer: Viewer, window: Window, status: FormTemplateStatus | None = None
) -> tuple[list[FormTemplate], int]:
    """A page of the viewer's templates (of one status if given), by name (`FORM_TEMPLATES`), and their count."""
    query = visible_templates(viewer)
    if status is not None:
        query = query.filter(status=status)
    return await FORM_TEMPLATES.page(query, window)


async def find_template(viewer: Viewer, template_id: int) -> FormTemplate | None:
    return await visible_templates(viewer).filter(id=template_id).first()


async def find_submission(viewer: Viewer, submission_id: int) -> FormSubmission | None:
    return await visible_submissions(viewer).filter(id=submission_id).first()


async def find_public_template(token: str) -> FormTemplate | None:
    """The published public template behind a link's token, or None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return await public_template(token).first()


async def current_versions(template_ids: list[int]) -> dict[int, FormTemplateVersion]:
    """The current version of each template, in one query."""
    templates = await FormTemplate.filter(id__in=set(template_ids)).values("id", "current_version")
    wanted = {(t["id"], t["current_version"]) for t in templates}
    rows = await FormTemplateVersion.filter(template_id__in=set(template_ids), version__in={v for _, v in wanted})
    return {row.template_id: row for row in rows if (row.template_id, row.version) in wanted}


async def version_numbers(version_ids: set[int]) -> dict[int, int]:
    """The number of each template version, by its id, in one query."""
    return dict(await FormTemplateVersion.filter(id__in=version_ids).values_list("id", "version"))


def _filtered_submissions(
    viewer: Viewer, template_id: int | None, object_id: int | None, from_date: date | None, to_date: date | None
) -> QuerySet[FormSubmission]:
    """The viewer's submissions, newest first; `from_date`/`to_date` are whole days (UTC), both included."""
    query = visible_submissions(viewer)
    if template_id is not None:
        query = query.filter(template_id=template_id)
    if object_id is not None:
        query = query.filter(object_id=object_id)
    if from_date is not None:
        start = plausible_date(from_date, "filter.from")
        query = query.filter(submitted_at__gte=datetime.combine(start, time(), UTC))
    if to_date is not None:
        end = datetime.combine(plausible_date(to_date, "filter.to") + timedelta(days=1), time(), UTC)
        query = query.filter(submitted_at__lt=end)
    return query.order_by("-submitted_at", "-id")


async def page_of_submissions(
    viewer: Viewer,
    window: Window,
    *,
    template_id: int | None = None,
    object_id: int | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> tuple[list[FormSubmission], int]:
    """A page of the viewer's submissions (`FORM_SUBMISSIONS`), filtered as `_filtered_submissions`, and count."""
    query = _filtered_submissions(viewer, template_id, object_id, from_date, to_date)
    return await FORM_SUBMISSIONS.page(query, window)


async def created_tickets_of(viewer: Viewer, submission_ids: list[int]) -> dict[int, list[Ticket]]:
    """The tickets each submission created, as far as the viewer may see them, by number."""
    grouped: dict[int, list[Ticket]] = {pk: [] for pk in submission_ids}
    query = visible_tickets(viewer).filter(form_submission_id__in=set(submission_ids)).order_by("number")
    for ticket in await query:
        assert ticket.form_submission_id is not None  # filtered on it
        grouped[ticket.form_submission_id].append(ticket)
    return grouped
