"""The assembled schema: every domain's queries and mutations, policies enforced.

`build_schema(cls)` makes the schema from these parts; the class the product uses, with the
execution seam (compiled plans instead of graphql-core's executor), and the one built instance
are `execution.schema.SitedeskSchema` and `execution.schema.schema`, a layer up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.accounts import AccountMutations, AccountQueries, CustomerUser, Employee
from schema.api_tokens import ApiToken, ApiTokenMutations, ApiTokenQueries, ReadOnlyViewers
from schema.audit import AuditEvent, AuditQueries
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
from schema.inbound_mail import InboundMailMutations
from schema.limits import QueryLimits
from schema.live import Subscription
from schema.nodes import NodeQueries
from schema.notifications import Notification, NotificationMutations, NotificationQueries
from schema.scalars import SCALAR_OVERRIDES
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
        InboundMailMutations,
    ),
)

Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    'What can be read. Each field says who may use it (its `@policy`, repeated as "Allowed for: …").'
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What can be changed; each mutation runs in one transaction and stores nothing when it fails."
)


class ShapedSchema(strawberry.Schema):
    """Strawberry's schema with Sitedesk's error handling; `execution.schema.SitedeskSchema` adds the plans."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Refusals and bad input are answers, not incidents; `ShapeErrors`
        # logs the unexpected ones with their request id.
        return None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        result = await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed_operation_types,
            operation_extensions=operation_extensions,
        )
        finish_errors(
            result.errors,
            getattr(getattr(context_value, "settings", None), "max_tokens", None),
        )
        return result


SchemaT = TypeVar("SchemaT", bound=ShapedSchema)
TYPES = [
    Employee,
    CustomerUser,
    Customer,
    SiteObject,
    Ticket,
    TicketType,
    TicketState,
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
]


def build_schema(cls: type[SchemaT]) -> SchemaT:
    """Sitedesk's schema as an instance of `cls`: its types, extensions and scalars, policies enforced."""
    schema = cls(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=TYPES,
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
    return schema
