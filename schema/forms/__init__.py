"""Inspection forms in GraphQL: the enums and output types (`types`), their inputs (`inputs`), and the
queries and mutations (`operations`)."""

from schema.forms.operations import FormMutations, FormQueries
from schema.forms.types import FormSubmission, FormTemplate, submission_nodes

__all__ = ["FormMutations", "FormQueries", "FormSubmission", "FormTemplate", "submission_nodes"]
