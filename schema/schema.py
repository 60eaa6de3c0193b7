"""The assembled schema: every domain's queries and mutations, policies enforced."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.accounts import AccountMutations, AccountQueries, CustomerUser, Employee
from schema.compiled import CompiledExecution
from schema.customers import (
    Customer,
    CustomerMutations,
    CustomerQueries,
    DocumentRuleMutations,
    EvaluationSettingsMutations,
    SiteObject,
)
from schema.directive import enforce_policies
from schema.documents import Document
from schema.errors import ShapeErrors, finish_errors
from schema.forms import FormMutations, FormQueries, FormSubmission, FormTemplate
from schema.limits import QueryLimits
from schema.live import Subscription
from schema.nodes import NodeQueries
from schema.notifications import Notification, NotificationMutations, NotificationQueries
from schema.tickets import Attachment, Comment, Ticket, TicketMutations, TicketQueries, TicketType

Query = merge_types(
    "Query", (AccountQueries, NodeQueries, CustomerQueries, TicketQueries, FormQueries, NotificationQueries)
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutations,
        CustomerMutations,
        TicketMutations,
        DocumentRuleMutations,
        EvaluationSettingsMutations,
        FormMutations,
        NotificationMutations,
    ),
)


class SitedeskSchema(strawberry.Schema):
    # Set by `build_schema`: the compiled plans graphql-core's `execute` gives way to.
    compiled: CompiledExecution | None = None

    def _get_execute_function(self):  # type: ignore[no-untyped-def]
        # Strawberry's one call of graphql-core's executor: every extension
        # (limits, error shaping, the parser and validation caches) runs around it.
        if self.compiled is None:
            return super()._get_execute_function()
        return self.compiled.execute

    def process_errors(self, errors, execution_context=None) -> None:
        # Refusals and bad input are answers, not incidents; `ShapeErrors`
        # logs the unexpected ones with their request id.
        return None

    async def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = await super().execute(*args, **kwargs)
        context = kwargs.get("context_value")
        finish_errors(
            result.errors,
            getattr(getattr(context, "settings", None), "max_tokens", None),
        )
        return result


def build_schema() -> strawberry.Schema:
    schema = SitedeskSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Employee,
            CustomerUser,
            Customer,
            SiteObject,
            Ticket,
            TicketType,
            Comment,
            Attachment,
            FormTemplate,
            FormSubmission,
            Document,
            Notification,
        ],
        extensions=[ShapeErrors, QueryLimits, lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
        config=StrawberryConfig(disable_field_suggestions=True),
    )
    enforce_policies(schema)
    schema.compiled = CompiledExecution(schema, maxsize=256)
    return schema


schema = build_schema()


def schema_sdl() -> str:
    """The SDL checked in as `schema.graphql`."""
    return schema.as_str() + "\n"
