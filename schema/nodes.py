"""`node(id:)`: any object by its global ID, through the same scoping as every list."""

from __future__ import annotations

import strawberry

from models.accounts import Employee as EmployeeRow
from permissions.accounts import visible_customer_users, visible_permission_groups
from permissions.customers import visible_customers, visible_objects
from permissions.notifications import visible_notifications
from permissions.policy import SIGNED_IN
from permissions.tickets import visible_attachments, visible_comments
from permissions.viewer import Viewer
from core.errors import BadUserInput
from schema.accounts import CustomerUser, Employee, PermissionGroup
from schema.customers import Customer, SiteObject
from schema.directive import field
from schema.notifications import Notification
from core.ids import decode_global_id
from schema.relay import Node
from schema.tickets import Attachment, Comment, Ticket, TicketType
from resolvers.tickets import visible_ticket_types, visible_ticket_values
from permissions.forms import visible_submissions, visible_templates
from schema.forms import FormTemplate, submission_nodes
from resolvers.documents import find_document
from schema.documents import Document


async def _submission(viewer: Viewer, pk: int) -> Node | None:
    row = await visible_submissions(viewer).filter(id=pk).first()
    return (await submission_nodes([row]))[0] if row else None


async def _employee(viewer: Viewer, pk: int) -> Node | None:
    row = await EmployeeRow.filter(id=pk).select_related("account").first()
    return Employee.from_rows(row, row.account) if row else None


async def _customer_user(viewer: Viewer, pk: int) -> Node | None:
    row = await visible_customer_users(viewer).filter(id=pk).select_related("account").first()
    return CustomerUser.from_rows(row, row.account) if row else None


async def _ticket_type(viewer: Viewer, pk: int) -> Node | None:
    found = [t for t in await visible_ticket_types(viewer) if t.id == pk]
    return TicketType.from_row(found[0]) if found else None


async def _ticket(viewer: Viewer, pk: int) -> Node | None:
    row = await visible_ticket_values(viewer, pk)
    return Ticket.from_values(row) if row else None


async def _document(viewer: Viewer, pk: int) -> Node | None:
    row = await find_document(viewer, pk)
    return Document.from_row(row) if row else None


async def _scoped(query, build) -> Node | None:
    row = await query.first()
    return build(row) if row else None


RESOLVERS = {
    "Ticket": _ticket,
    "Comment": lambda v, pk: _scoped(visible_comments(v).filter(id=pk), Comment.from_row),
    "Attachment": lambda v, pk: _scoped(visible_attachments(v).filter(id=pk), Attachment.from_row),
    "SiteObject": lambda v, pk: _scoped(visible_objects(v).filter(id=pk), SiteObject.from_row),
    "Customer": lambda v, pk: _scoped(visible_customers(v).filter(id=pk), Customer.from_row),
    "TicketType": _ticket_type,
    "Document": _document,
    "Employee": _employee,
    "CustomerUser": _customer_user,
    "PermissionGroup": lambda v, pk: _scoped(visible_permission_groups(v).filter(id=pk),
                                             PermissionGroup.from_row),
    "FormTemplate": lambda v, pk: _scoped(visible_templates(v).filter(id=pk), FormTemplate.from_row),
    "FormSubmission": _submission,
    "Notification": lambda v, pk: _scoped(visible_notifications(v).filter(id=pk), Notification.from_row),
}


@strawberry.type
class NodeQueries:
    @field(policy=SIGNED_IN, description="Any object by its ID; null when it does not exist or is not yours to see.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        try:
            type_name, pk = decode_global_id(id, "id")
        except BadUserInput:
            return None
        resolve = RESOLVERS.get(type_name)
        return await resolve(info.context.viewer, pk) if resolve else None
