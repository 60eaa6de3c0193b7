"""Inspection forms: templates, their versions, and filled-in submissions."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.accounts import Account
    from models.customers import SiteObject


class FormElementKind(str, Enum):
    INFO = "INFO"
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    YES_NO = "YES_NO"
    SINGLE_CHOICE = "SINGLE_CHOICE"
    MULTIPLE_CHOICE = "MULTIPLE_CHOICE"
    RATING = "RATING"
    DATE = "DATE"
    PHOTO = "PHOTO"
    SIGNATURE = "SIGNATURE"
    CREATE_TICKET = "CREATE_TICKET"


class FormConditionOperator(str, Enum):
    EQ = "EQ"
    NE = "NE"
    LT = "LT"
    LTE = "LTE"
    GT = "GT"
    GTE = "GTE"


class FormTemplateStatus(str, Enum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class FormTemplate(Model):
    """A form design (site inspection, quality check, questionnaire), its content lives in versions."""

    id = fields.IntField(primary_key=True)
    # Name and description of the current version, for listing without a join.
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    is_public = fields.BooleanField(default=False)
    status = fields.CharEnumField(FormTemplateStatus, max_length=16, default=FormTemplateStatus.DRAFT)
    # Set when a public template is first published: the secret part of its link.
    public_token = fields.CharField(max_length=64, null=True, unique=True)
    current_version = fields.IntField(default=1)
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="form_templates", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "form_template"
        indexes = (("status", "name"),)


class FormTemplateVersion(Model):
    """One state of a template's questions, never changed once published."""

    id = fields.IntField(primary_key=True)
    template: fields.ForeignKeyRelation[FormTemplate] = fields.ForeignKeyField(
        "models.FormTemplate", related_name="versions", on_delete=fields.CASCADE
    )
    template_id: int
    version = fields.IntField()
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # The validated elements, in order (see resolvers/forms/templates.py for their shape).
    elements: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="form_template_versions", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "form_template_version"
        unique_together = (("template", "version"),)


class FormSubmission(Model):
    """A filled-in form, bound to the template version it was filled against."""

    id = fields.IntField(primary_key=True)
    template: fields.ForeignKeyRelation[FormTemplate] = fields.ForeignKeyField(
        "models.FormTemplate", related_name="submissions", on_delete=fields.RESTRICT
    )
    template_id: int
    version: fields.ForeignKeyRelation[FormTemplateVersion] = fields.ForeignKeyField(
        "models.FormTemplateVersion", related_name="submissions", on_delete=fields.RESTRICT
    )
    version_id: int
    # Null for public forms, which are filled without an object.
    object: fields.ForeignKeyNullableRelation[SiteObject] = fields.ForeignKeyField(
        "models.SiteObject", related_name="form_submissions", null=True, on_delete=fields.RESTRICT
    )
    object_id: int | None
    # Null for anonymous (public) submissions.
    submitted_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="form_submissions", null=True, on_delete=fields.SET_NULL
    )
    submitted_by_id: int | None
    submitted_at = fields.DatetimeField()
    # Visible answers in template order as key, kind, label, value and rendered text.
    answers: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    # Chosen by the filling device: a retry with the same id returns this submission.
    client_submission_id = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "form_submission"
        unique_together = (("submitted_by", "client_submission_id"),)
        indexes = (("template_id", "submitted_at"), ("object_id", "submitted_at"), ("submitted_at",))


class FormFileRole(str, Enum):
    ANSWER = "ANSWER"
    PDF = "PDF"


class FormFile(Model):
    """A stored file of a submission: a photo or signature answer, or the filled form as PDF."""

    id = fields.IntField(primary_key=True)
    submission: fields.ForeignKeyRelation[FormSubmission] = fields.ForeignKeyField(
        "models.FormSubmission", related_name="files", on_delete=fields.CASCADE
    )
    submission_id: int
    role = fields.CharEnumField(FormFileRole, max_length=16)
    element_key = fields.CharField(max_length=50, null=True)
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    # Relative to the files directory, derived from the hash (as for attachments).
    storage_key = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()

    class Meta:
        table = "form_file"
        indexes = (("submission_id", "role"), ("storage_key",))
