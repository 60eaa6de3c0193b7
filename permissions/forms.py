"""Row scoping for form templates and submissions: what a viewer may know exists."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.forms import FormSubmission, FormTemplate, FormTemplateStatus
from permissions.policy import TEMPLATE_MANAGERS
from permissions.viewer import Viewer


def visible_templates(viewer: Viewer) -> QuerySet[FormTemplate]:
    """Template managers see every template; other employees the published ones; nobody else any."""
    if TEMPLATE_MANAGERS.allows(viewer):
        return FormTemplate.all()
    if viewer.is_employee:
        return FormTemplate.filter(status=FormTemplateStatus.PUBLISHED)
    return FormTemplate.filter(id__in=[])


def managed_templates(viewer: Viewer) -> QuerySet[FormTemplate]:
    """The templates the viewer may change (the field policy already demands the permission)."""
    if TEMPLATE_MANAGERS.allows(viewer):
        return FormTemplate.all()
    return FormTemplate.filter(id__in=[])


def fillable_templates(viewer: Viewer) -> QuerySet[FormTemplate]:
    """Templates the viewer may fill in for an object: published internal ones, for employees."""
    if viewer.is_employee:
        return FormTemplate.filter(status=FormTemplateStatus.PUBLISHED, is_public=False)
    return FormTemplate.filter(id__in=[])


def public_template(token: str) -> QuerySet[FormTemplate]:
    """The published public template behind a link's token (anyone holding the link may fill it)."""
    return FormTemplate.filter(public_token=token, status=FormTemplateStatus.PUBLISHED, is_public=True)


def visible_submissions(viewer: Viewer) -> QuerySet[FormSubmission]:
    """Employees see every submission; customer users and anonymous viewers none."""
    if viewer.is_employee:
        return FormSubmission.all()
    return FormSubmission.filter(id__in=[])
