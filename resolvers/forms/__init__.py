"""Inspection forms: templates and their versions, filling them in, and the filled form as PDF.

`templates` designs templates (element validation, versions), `answers` holds
the pure rules for filling one in (visibility, answer checks, planned tickets,
answers as text), `submit` writes a submission with its files, PDF and tickets,
`read` serves the queries and loaders.
"""

from __future__ import annotations

from resolvers.forms.answers import answer_text, check_answers
from resolvers.forms.read import (
    created_tickets_of,
    current_versions,
    find_public_template,
    find_submission,
    find_template,
    list_templates,
    page_of_submissions,
    page_of_templates,
    version_numbers,
)
from resolvers.forms.submit import submit_form, submit_public_form
from resolvers.forms.templates import archive_template, create_template, publish_template, update_template

__all__ = [
    "answer_text",
    "archive_template",
    "check_answers",
    "create_template",
    "created_tickets_of",
    "current_versions",
    "find_public_template",
    "find_submission",
    "find_template",
    "list_templates",
    "page_of_submissions",
    "page_of_templates",
    "publish_template",
    "submit_form",
    "submit_public_form",
    "update_template",
    "version_numbers",
]
