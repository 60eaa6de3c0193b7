"""`Subscription.ticketChanges`: live ticket changes, each one authorised for its subscriber.

The resolver checks the arguments in the viewer's scope and the document's
cost before anything is streamed (errors end the subscription with an
`error` message); each change is then resolved through the schema like a
query's answer, so `@policy` decides every field of `ticket`, `comment` and
`attachment`. Loaders and policy answers are per change: a change never
sees rows cached for an earlier one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, cast

import strawberry
from graphql import DocumentNode, GraphQLError

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


def shaped(change: Change) -> TicketChange:
    return TicketChange(
        kind=TicketChangeKind(change.kind),
        ticket_id=to_global_id("Ticket", change.ticket_id),
        ticket=Ticket.from_values(change.ticket) if change.ticket is not None else None,
        comment=Comment.from_row(change.comment) if change.comment is not None else None,
        attachment=Attachment.from_row(change.attachment) if change.attachment is not None else None,
        occurred_at=change.occurred_at,
    )


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
        return _shaped(context, changes)


async def _shaped(context: object, changes: AsyncIterator[Change]) -> AsyncIterator[TicketChange]:
    async for change in changes:
        # Fresh loaders and policy answers for each change (the connection's context lives on).
        context.loaders.clear()  # type: ignore[attr-defined]
        context.policy_answers.clear()  # type: ignore[attr-defined]
        yield shaped(change)
