"""Issue 6: form templates, versions, submissions and their files."""

from __future__ import annotations

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.forms import FormFileRole, FormTemplateStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0004_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FormTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('is_public', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=FormTemplateStatus.DRAFT, description='DRAFT: DRAFT\nPUBLISHED: PUBLISHED\nARCHIVED: ARCHIVED', enum_type=FormTemplateStatus, max_length=16)),
                ('public_token', fields.CharField(null=True, unique=True, max_length=64)),
                ('current_version', fields.IntField(default=1)),
                ('created_by', fields.ForeignKeyField('models.Account', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='form_templates', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'form_template', 'app': 'models', 'indexes': [Index(fields=['status', 'name'])], 'pk_attr': 'id', 'table_description': 'A form design (site inspection, quality check, questionnaire), its content lives in versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FormTemplateVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.ForeignKeyField('models.FormTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('elements', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.ForeignKeyField('models.Account', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='form_template_versions', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'form_template_version', 'app': 'models', 'unique_together': (('template', 'version'),), 'pk_attr': 'id', 'table_description': "One state of a template's questions, never changed once published."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FormSubmission',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.ForeignKeyField('models.FormTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='submissions', on_delete=OnDelete.RESTRICT)),
                ('version', fields.ForeignKeyField('models.FormTemplateVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='submissions', on_delete=OnDelete.RESTRICT)),
                ('object', fields.ForeignKeyField('models.SiteObject', source_field='object_id', null=True, db_constraint=True, to_field='id', related_name='form_submissions', on_delete=OnDelete.RESTRICT)),
                ('submitted_by', fields.ForeignKeyField('models.Account', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name='form_submissions', on_delete=OnDelete.SET_NULL)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answers', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('client_submission_id', fields.CharField(null=True, max_length=100)),
            ],
            options={'table': 'form_submission', 'app': 'models', 'unique_together': (('submitted_by', 'client_submission_id'),), 'indexes': [Index(fields=['template_id', 'submitted_at']), Index(fields=['object_id', 'submitted_at']), Index(fields=['submitted_at'])], 'pk_attr': 'id', 'table_description': 'A filled-in form, bound to the template version it was filled against.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FormFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('submission', fields.ForeignKeyField('models.FormSubmission', source_field='submission_id', db_constraint=True, to_field='id', related_name='files', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='ANSWER: ANSWER\nPDF: PDF', enum_type=FormFileRole, max_length=16)),
                ('element_key', fields.CharField(null=True, max_length=50)),
                ('filename', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('storage_key', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'form_file', 'app': 'models', 'indexes': [Index(fields=['submission_id', 'role']), Index(fields=['storage_key'])], 'pk_attr': 'id', 'table_description': 'A stored file of a submission: a photo or signature answer, or the filled form as PDF.'},
            bases=['Model'],
        ),
        # Tickets a submission created are looked up by it.
        ops.RunSQL('CREATE INDEX "idx_ticket_form_submission" ON "ticket" ("form_submission_id")',
                   reverse_sql='DROP INDEX "idx_ticket_form_submission"'),
    ]
