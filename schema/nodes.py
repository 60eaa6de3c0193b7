"""`node(id:)`: any object by its global ID, through the same scoping as every list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry

from core.errors import BadUserInput, NotFound
from core.ids import decode_global_id
from permissions.policy import SIGNED_IN
from permissions.service_levels import READ as READ_SERVICE_LEVELS
from permissions.viewer import Viewer
from resolvers import accounts, api_tokens, audit, customers, documents, forms, notifications, tickets, webhooks
from resolvers.personal_data.export import find_export
from resolvers.service_levels import configure as service_levels
from schema.accounts import CustomerUser, Employee, PermissionGroup
from schema.api_tokens import ApiToken
from schema.audit import AuditEvent
from schema.customers import Customer, SiteObject
from schema.directive import field
from schema.documents import Document
from schema.forms import FormTemplate, submission_nodes
from schema.notifications import Notification
from schema.personal_data import PersonExport
from schema.relay import Node
from schema.service_levels import BusinessCalendar, ServiceLevelPolicy
from schema.tickets import Attachment, Comment, Ticket, TicketType
from schema.tickets.preload import selected_values
from schema.tickets.states import TicketState
from schema.webhooks import Webhook, WebhookDelivery

Resolve = Callable[[Viewer, int], Awaitable[Node | None]]


def _node(find: Callable[[Viewer, int], Awaitable[Any]], build: Callable[[Any], Node]) -> Resolve:
    """Look the row up with `find` (None outside the viewer's scope) and build its type."""

    async def resolve(viewer: Viewer, pk: int) -> Node | None:
        row = await find(viewer, pk)
        return build(row) if row is not None else None

    return resolve


async def _nothing() -> None:
    """Outside the viewer's scope: no such object."""
    return None


async def _submission(viewer: Viewer, pk: int) -> Node | None:
    row = await forms.find_submission(viewer, pk)
    return (await submission_nodes([row]))[0] if row else None


async def _ticket(info: strawberry.Info, pk: int) -> Node | None:
    # Only the columns and relations the query selects on the ticket, as ticket pages do:
    # each joined table multiplies PostgreSQL's planning of the statement (issue 25).
    values = tuple(dict.fromkeys(("id", *selected_values(info))))
    row = await tickets.find_ticket(info.context.viewer, pk, values)
    return Ticket.from_values(row) if row is not None else None


# Types whose lookup reads what the query selects (they get the field's `info`).
SELECTING: dict[str, Callable[[strawberry.Info, int], Awaitable[Node | None]]] = {"Ticket": _ticket}

RESOLVERS: dict[str, Resolve] = {
    "Comment": _node(tickets.find_comment, Comment.from_row),
    "Attachment": _node(tickets.find_attachment, Attachment.from_row),
    "SiteObject": _node(customers.find_object, SiteObject.from_row),
    "Customer": _node(customers.find_customer, Customer.from_row),
    "TicketType": _node(tickets.find_ticket_type, TicketType.from_row),
    "TicketState": _node(tickets.find_ticket_state, TicketState.from_row),
    "Document": _node(documents.find_document, Document.from_row),
    "Employee": _node(accounts.find_employee, lambda row: Employee.from_rows(row, row.account)),
    "CustomerUser": _node(accounts.find_customer_user, lambda row: CustomerUser.from_rows(row, row.account)),
    "PermissionGroup": _node(accounts.find_permission_group, PermissionGroup.from_row),
    "FormTemplate": _node(forms.find_template, FormTemplate.from_row),
    "FormSubmission": _submission,
    "Notification": _node(notifications.find_notification, Notification.from_row),
    "Webhook": _node(webhooks.find_webhook, Webhook.from_row),
    "WebhookDelivery": _node(webhooks.find_delivery, WebhookDelivery.from_row),
    "ApiToken": _node(api_tokens.find_api_token, ApiToken.from_row),
    "AuditEvent": _node(audit.find_audit_event, AuditEvent.from_row),
    "PersonExport": _node(find_export, PersonExport.from_row),
    "BusinessCalendar": _node(
        lambda viewer, pk: service_levels.find_calendar(pk) if READ_SERVICE_LEVELS.allows(viewer) else _nothing(),
        BusinessCalendar.from_row,
    ),
    "ServiceLevelPolicy": _node(
        lambda viewer, pk: service_levels.find_policy(pk) if READ_SERVICE_LEVELS.allows(viewer) else _nothing(),
        ServiceLevelPolicy.from_row,
    ),
}


@strawberry.type
class NodeQueries:
    @field(policy=SIGNED_IN, description="Any object by its ID; null when it does not exist or is not yours to see.")
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID of any type.")],
    ) -> Node | None:
        try:
            type_name, pk = decode_global_id(id, "id")
        except (BadUserInput, NotFound):
            return None
        selecting = SELECTING.get(type_name)
        if selecting is not None:
            return await selecting(info, pk)
        resolve = RESOLVERS.get(type_name)
        return await resolve(info.context.viewer, pk) if resolve else None
