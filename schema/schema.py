"""The assembled schema: every domain's queries and mutations, policies enforced."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.accounts import AccountMutations, AccountQueries, CustomerUser, Employee
from schema.api_tokens import ApiToken, ApiTokenMutations, ApiTokenQueries, ReadOnlyViewers
from schema.audit import AuditEvent, AuditQueries
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
from schema.scalars import SCALAR_OVERRIDES
from schema.service_levels import BusinessCalendar, ServiceLevelMutations, ServiceLevelPolicy, ServiceLevelQueries
from schema.tickets import Attachment, Comment, Ticket, TicketMutations, TicketQueries, TicketType
from schema.tickets.states import TicketState
from schema.tickets.workflow import WorkflowMutations
from schema.webhooks import Webhook, WebhookDelivery, WebhookMutations, WebhookQueries

Query = merge_types(
    "Query",
    (
        AccountQueries,
        NodeQueries,
        CustomerQueries,
        TicketQueries,
        FormQueries,
        NotificationQueries,
        ApiTokenQueries,
        AuditQueries,
        WebhookQueries,
        ServiceLevelQueries,
    ),
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
        WebhookMutations,
        WorkflowMutations,
        ApiTokenMutations,
        ServiceLevelMutations,
    ),
)

Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    'What can be read. Each field says who may use it (its `@policy`, repeated as "Allowed for: …").'
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What can be changed; each mutation runs in one transaction and stores nothing when it fails."
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
            TicketState,
            BusinessCalendar,
            ServiceLevelPolicy,
            Comment,
            Attachment,
            FormTemplate,
            FormSubmission,
            Document,
            Notification,
            Webhook,
            WebhookDelivery,
            ApiToken,
            AuditEvent,
        ],
        extensions=[
            ShapeErrors,
            QueryLimits,
            ReadOnlyViewers,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        config=StrawberryConfig(disable_field_suggestions=True),
        scalar_overrides=SCALAR_OVERRIDES,
    )
    enforce_policies(schema)
    schema.compiled = CompiledExecution(schema, maxsize=256)
    return schema


schema = build_schema()


def schema_sdl() -> str:
    """The SDL checked in as `schema.graphql`."""
    return schema.as_str() + "\n"
