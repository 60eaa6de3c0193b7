"""`Subscription.ticketChanges`: live ticket changes, each one authorised for its subscriber.

The resolver checks the arguments in the viewer's scope and the document's
cost before anything is streamed (errors end the subscription with an
`error` message); each change is then resolved through the schema like a
query's answer, so `@policy` decides every field of `ticket`, `comment` and
`attachment`. Loaders and policy answers are per change: a change never
sees rows cached for an earlier one.

Execute once, send many: subscribers whose answer to a change must be the
same share one execution of their document (`execution.events`): the same
document and variables, and either the same viewer, or, for a document of
`SHARED_FIELDS` only, the same kind of viewer (`Viewer.query_shape`) of the
same customer. Who may learn of the change at all was decided per viewer
before (`resolvers.tickets.live`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Hashable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, cast

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    print_ast,
)

from core.ids import parse_id, to_global_id
from permissions.policy import SIGNED_IN
from permissions.viewer import Viewer
from resolvers.tickets.live import Change, open_ticket_changes
from schema.directive import field, type_policy
from schema.limits import query_cost
from schema.tickets.types import TICKET_ROW, Attachment, Comment, Ticket


@strawberry.enum(description="What happened to a ticket.")
class TicketChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="The ticket was created.")
    UPDATED = strawberry.enum_value("UPDATED", description="Title, description, due date or another field changed.")
    STATUS_CHANGED = strawberry.enum_value("STATUS_CHANGED", description="The status changed.")
    ASSIGNED = strawberry.enum_value("ASSIGNED", description="The assignee changed.")
    COMMENT_ADDED = strawberry.enum_value("COMMENT_ADDED", description="A comment was added (`comment`).")
    COMMENT_EDITED = strawberry.enum_value(
        "COMMENT_EDITED",
        description="A comment was edited (`comment`), or deleted (`comment` null; sent to employees only).",
    )
    ATTACHMENT_ADDED = strawberry.enum_value("ATTACHMENT_ADDED", description="A file was attached (`attachment`).")
    ATTACHMENT_REMOVED = strawberry.enum_value(
        "ATTACHMENT_REMOVED", description="A file was removed (`attachment` is null: it is gone)."
    )
    REMOVED = strawberry.enum_value(
        "REMOVED",
        description=(
            "The ticket left the viewer's scope (e.g. its type was disabled for the customer, or the object "
            "unassigned): drop it. Sent once, at the latest with the ticket's next change; nothing follows."
        ),
    )


@strawberry.type(directives=type_policy(SIGNED_IN), description="One change of a ticket the viewer may see.")
class TicketChange:
    kind: TicketChangeKind = strawberry.field(description="What happened.")
    ticket_id: strawberry.ID = strawberry.field(description="The ticket's ID (also for REMOVED).")
    ticket: Ticket | None = strawberry.field(
        description="The ticket as it is now, as a query would answer it; null for REMOVED."
    )
    comment: Comment | None = strawberry.field(
        description="The comment added or edited (COMMENT_ADDED, COMMENT_EDITED), else null."
    )
    attachment: Attachment | None = strawberry.field(description="The file attached (ATTACHMENT_ADDED), else null.")
    occurred_at: datetime = strawberry.field(description="When the change was made.")
    # Where this subscriber's answer is shared with others' (`execution.events`): the change's
    # `answers` and this subscriber's key in them.
    answer: strawberry.Private[tuple[dict[Hashable, Any], Hashable] | None] = None


def shaped(change: Change, key: Hashable | None = None) -> TicketChange:
    return TicketChange(
        kind=TicketChangeKind(change.kind),
        ticket_id=to_global_id("Ticket", change.ticket_id),
        ticket=Ticket.from_values(change.ticket) if change.ticket is not None else None,
        comment=Comment.from_row(change.comment) if change.comment is not None else None,
        attachment=Attachment.from_row(change.attachment) if change.attachment is not None else None,
        occurred_at=change.occurred_at,
        answer=(change.answers, key) if key is not None else None,
    )


# The fields whose answer, for a change its subscriber was authorised for, follows from the rows
# loaded once for everybody and from the field's @policy (the viewer's kind and permissions):
# no scope query, nothing of the viewer's own account. Anything else (viewerCan, author, object,
# comments, URLs, ...) may depend on who asks, so a document with it is executed per viewer.
SHARED_FIELDS: dict[str, frozenset[str]] = {
    "TicketChange": frozenset({"kind", "ticketId", "ticket", "comment", "attachment", "occurredAt"}),
    "Ticket": frozenset(
        {"id", "number", "title", "description", "status", "source", "createdAt", "updatedAt"}
        | {"doneAt", "dueDate", "priority"}
    ),
    "Comment": frozenset({"id", "body", "createdAt", "editedAt", "source", "internal"}),
    "Attachment": frozenset({"id", "filename", "contentType", "size", "createdAt"}),
}


def only_shared_fields(
    schema: GraphQLSchema,
    type_name: str,
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> bool:
    """Whether `selections` (on `type_name`) asks for nothing but `SHARED_FIELDS` (and `__typename`)."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name == "__typename":
                continue
            if name not in SHARED_FIELDS.get(type_name, ()) or selection.arguments:
                return False
            if selection.selection_set is not None:
                parent = schema.get_type(type_name)
                assert isinstance(parent, GraphQLObjectType)  # a type of SHARED_FIELDS
                child = get_named_type(parent.fields[name].type).name
                if not only_shared_fields(schema, child, selection.selection_set, fragments):
                    return False
        elif isinstance(selection, InlineFragmentNode):
            on = selection.type_condition.name.value if selection.type_condition else type_name
            if not only_shared_fields(schema, on, selection.selection_set, fragments):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            if not only_shared_fields(schema, fragment.type_condition.name.value, fragment.selection_set, fragments):
                return False
    return True


def document_key(info: strawberry.Info) -> tuple[str, bool]:
    """The subscription's document and variables as one string (interned: sockets sending the same
    text keep one copy), and whether viewers of one kind and customer may share its answers."""
    raw = info._raw_info
    document = DocumentNode(definitions=(raw.operation, *raw.fragments.values()))
    variables = json.dumps(cast(Any, raw.variable_values) or {}, sort_keys=True, default=repr)
    key = sys.intern(f"{variables}\n{print_ast(document)}")
    field_node = raw.field_nodes[0]
    across = field_node.selection_set is not None and only_shared_fields(
        raw.schema, "TicketChange", field_node.selection_set, raw.fragments
    )
    return key, across


def answer_key(document: str, across: bool, viewer: Viewer) -> Hashable:
    """Who may share an answer: the same document, and the same kind of viewer of the same
    customer (`across`, a document of `SHARED_FIELDS`) or else the same viewer."""
    if across:
        return (document, viewer.query_shape(), viewer.customer_id)
    return (document, viewer)


def check_cost(info: strawberry.Info) -> None:
    """The query cost limit (schema/limits.py) for the subscription document, before streaming."""
    raw = info._raw_info
    settings = info.context.settings
    document = DocumentNode(definitions=(raw.operation, *raw.fragments.values()))
    # A dict of the coerced values here, though graphql-core 3.3 annotates `variable_values` as `VariableValues`.
    variables: dict[str, Any] = cast(Any, raw.variable_values) or {}
    cost = query_cost(raw.schema, document, raw.operation, variables)
    if cost > settings.max_query_cost:
        raise GraphQLError(
            f"The query is too complex: its estimated cost {cost} exceeds the budget of "
            f"{settings.max_query_cost}. Ask for smaller pages (`first`).",
            extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": settings.max_query_cost},
        )


ObjectIdArgument = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only tickets of this object (NOT_FOUND outside the viewer's objects)."),
]
TicketIdArgument = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only this ticket (NOT_FOUND outside the viewer's tickets).")
]


@strawberry.type(description="Live updates over WebSocket (graphql-transport-ws on /graphql); see API.md.")
class Subscription:
    @field(
        policy=SIGNED_IN,
        is_subscription=True,
        description=(
            "Changes of the tickets the viewer may see, as they are committed; each change is authorised "
            "for the viewer when it is delivered. Without arguments: every ticket the viewer may see."
        ),
    )
    async def ticket_changes(
        self,
        info: strawberry.Info,
        object_id: ObjectIdArgument = None,
        ticket_id: TicketIdArgument = None,
    ) -> AsyncIterator[TicketChange]:
        check_cost(info)
        context = info.context
        document, across = document_key(info)

        def current_viewer() -> Viewer:
            viewer: Viewer = context.viewer
            return viewer

        changes = await open_ticket_changes(
            current_viewer,
            context.settings,
            values=TICKET_ROW.values,
            object_id=parse_id(object_id, "SiteObject", "objectId") if object_id else None,
            ticket_id=parse_id(ticket_id, "Ticket", "ticketId") if ticket_id else None,
        )
        return _shaped(context, changes, document, across)


async def _shaped(
    context: Any, changes: AsyncIterator[Change], document: str, across: bool
) -> AsyncIterator[TicketChange]:
    async for change in changes:
        # Fresh loaders and policy answers for each change (the connection's context lives on).
        context.loaders.clear()
        context.policy_answers.clear()
        # The viewer as it is now (re-checked periodically): part of who shares this answer.
        yield shaped(change, answer_key(document, across, context.viewer))
