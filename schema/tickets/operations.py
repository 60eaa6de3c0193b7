"""The ticket queries and mutations: decode the input, call `resolvers.tickets`, shape the answer."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from core.ids import parse_id
from core.keyset import Listing
from core.search import parse
from models.tickets import TicketStatus
from permissions import tickets as ticket_policy
from permissions.policy import SIGNED_IN, SYSTEM_ADMINS
from resolvers import tickets
from resolvers.search import highlights
from resolvers.tickets.read import TICKET_ORDER_OF, ticket_listing
from schema.directive import field, mutation
from schema.inputs import decoded, decoded_list, decoded_upload
from schema.loaders import visible_ticket_page_by_object_id
from schema.relay import (
    Paging,
    connection,
    paged,
)
from schema.selection import at, selection_tree
from schema.tickets.inputs import (
    AddCommentInput,
    CreateTicketInput,
    CreateTicketTypeInput,
    EditCommentInput,
    ImportTicketInput,
    TicketFilterInput,
    TicketOrder,
    UpdateTicketInput,
)
from schema.tickets.preload import page_values, preload
from schema.tickets.search import TicketConnection, highlighted
from schema.tickets.types import Attachment, Comment, ImportResult, Ticket, TicketType


def chosen_ticket_listing(order_by: TicketOrder, descending: bool, **_: object) -> Listing:
    """The listing `Query.tickets` pages, chosen by its `orderBy` and `descending` arguments."""
    return ticket_listing(order_by.value, descending)


# What highlights read of a ticket row besides its comments and attachments.
HIGHLIGHT_VALUES = ("number", "title", "description", "object__name")


async def ticket_connection(
    info: strawberry.Info,
    filter: TicketFilterInput | None,
    page: Paging,
    object_pk: int | None = None,
) -> TicketConnection:
    """A page of the viewer's tickets (`Query.tickets`; `SiteObject.tickets` with `object_pk`).

    The page's listing (`resolvers.tickets.read.TICKET_LISTINGS`) says the
    order. The tickets of several objects in one request come from one
    windowed query (a loader keyed by the page arguments); one object's
    alone, from the index-walking page query. With a search, the edges'
    highlights are worked out for the page's rows when selected (two
    statements, whatever the page size).
    """
    order_by, descending = TICKET_ORDER_OF[page.listing]
    criteria = decoded(filter, "filter") if filter else {}
    search = parse(criteria["search"]) if criteria.get("search") is not None else None
    selected = selection_tree(info)
    marked = search is not None and "highlights" in at(selected, "edges")
    # Only the columns and relations selected on the nodes (and those the highlights read).
    values = page_values(info) + (HIGHLIGHT_VALUES if marked else ())
    if object_pk is not None:
        criteria.pop("object_id", None)
        extra = tuple(sorted({**criteria, "order_by": order_by, "descending": descending, "values": values}.items()))
        rows, total = await visible_ticket_page_by_object_id(info).load((object_pk, (page.window, extra)))
    else:
        rows, total = await tickets.ticket_page(
            info.context.viewer,
            window=page.window,
            order_by=order_by,
            descending=descending,
            values=values,
            counted="totalCount" in selected,
            **criteria,
        )
    nodes = [Ticket.from_values(r) for r in rows]
    await preload(info, nodes[: page.window.limit])
    listed = connection(nodes, rows, page, total or 0)  # None: `totalCount` is not selected, never shown
    found = {}
    if marked and search is not None:
        found = await highlights(info.context.viewer, search, rows[: page.window.limit])
    return highlighted(listed, found)


@strawberry.type
class TicketQueries:
    @field(policy=SIGNED_IN, description="Ticket types; customer users see only their enabled types.")
    async def ticket_types(self, info: strawberry.Info) -> list[TicketType]:
        return [TicketType.from_row(r) for r in await tickets.ticket_types(info.context.viewer)]

    @field(policy=SIGNED_IN, description="The tickets the viewer may see.")
    @paged(chosen_ticket_listing)
    async def tickets(
        self,
        info: strawberry.Info,
        filter: Annotated[
            TicketFilterInput | None,
            strawberry.argument(description="Narrows the list; absent: every ticket the viewer may see."),
        ] = None,
        *,
        page: Paging,
        order_by: Annotated[TicketOrder, strawberry.argument(description="What to sort by.")] = TicketOrder.CREATED_AT,
        descending: Annotated[
            bool,
            strawberry.argument(
                description="Newest (largest) first when true, the default; false for oldest first (syncing). "
                "RELEVANCE ignores it: best match first."
            ),
        ] = True,
    ) -> TicketConnection:
        return await ticket_connection(info, filter, page)


def _ticket_pk(gid: str, field: str = "id") -> int:
    return parse_id(gid, "Ticket", field=field)


@strawberry.type
class TicketMutations:
    @mutation(policy=SYSTEM_ADMINS, description="A new ticket type; customers use it once it is enabled for them.")
    async def create_ticket_type(
        self, input: Annotated[CreateTicketTypeInput, strawberry.argument(description="The new ticket type.")]
    ) -> TicketType:
        return TicketType.from_row(await tickets.create_ticket_type(**decoded(input)))

    @mutation(policy=SIGNED_IN, description="Customer users: one of their objects, an enabled type, no assignee.")
    async def create_ticket(
        self,
        info: strawberry.Info,
        input: Annotated[CreateTicketInput, strawberry.argument(description="The new ticket.")],
    ) -> Ticket:
        row = await tickets.create_ticket(info.context.viewer, info.context.settings, **decoded(input))
        return Ticket.from_row(row)

    @mutation(policy=ticket_policy.EDIT, description="Change a ticket's title, description or due date.")
    async def update_ticket(
        self,
        info: strawberry.Info,
        input: Annotated[UpdateTicketInput, strawberry.argument(description="The ticket and its changes.")],
    ) -> Ticket:
        fields = decoded(input)
        return Ticket.from_row(await tickets.update_ticket(info.context.viewer, fields.pop("id"), **fields))

    @mutation(policy=ticket_policy.CHANGE_STATUS, description="Move a ticket to another status.")
    async def set_ticket_status(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's ID.")],
        status: Annotated[
            TicketStatus, strawberry.argument(description="The new status; DONE sets `doneAt`, any other clears it.")
        ],
    ) -> Ticket:
        return Ticket.from_row(await tickets.set_ticket_status(info.context.viewer, _ticket_pk(id), status))

    @mutation(policy=ticket_policy.ASSIGN, description="Assign to an employee, or unassign with null.")
    async def assign_ticket(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's ID.")],
        assignee_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="An active employee's ID, or null to unassign.")
        ] = None,
    ) -> Ticket:
        assignee = parse_id(assignee_id, "Employee", "assigneeId") if assignee_id else None
        return Ticket.from_row(await tickets.assign_ticket(info.context.viewer, _ticket_pk(id), assignee))

    @mutation(policy=ticket_policy.COMMENT, description="Customer users: `internal` must be false or absent.")
    async def add_comment(
        self,
        info: strawberry.Info,
        input: Annotated[AddCommentInput, strawberry.argument(description="The ticket and the comment.")],
    ) -> Comment:
        viewer = info.context.viewer
        comment = Comment.from_row(await tickets.add_comment(viewer, **decoded(input)))
        # The author is the viewer, loaded for this request already.
        comment.author_values = {
            "author__id": viewer.account_id,
            "author__name": viewer.name,
            "author__email": viewer.email,
            "author__is_active": True,
            "author__employee__id": viewer.employee_id,
            "author__employee__is_system_admin": viewer.is_system_admin,
            "author__customer_user__id": viewer.customer_user_id,
            "author__customer_user__customer_id": viewer.customer_id,
        }
        return comment

    @mutation(policy=ticket_policy.COMMENT, description="Its author only.")
    async def edit_comment(
        self,
        info: strawberry.Info,
        input: Annotated[EditCommentInput, strawberry.argument(description="The comment and its new text.")],
    ) -> Comment:
        fields = decoded(input)
        return Comment.from_row(await tickets.edit_comment(info.context.viewer, fields.pop("id"), **fields))

    @mutation(policy=ticket_policy.COMMENT, description="Its author, or an employee.")
    async def delete_comment(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The comment's ID.")]
    ) -> bool:
        return await tickets.delete_comment(info.context.viewer, parse_id(id, "Comment", "id"))

    @mutation(
        policy=ticket_policy.ATTACH,
        description="Attach a file to a ticket (a multipart request with `Apollo-Require-Preflight`, see `Upload`).",
    )
    async def add_attachment(
        self,
        info: strawberry.Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's ID.")],
        file: Annotated[Upload, strawberry.argument(description="The file (a multipart request, see `Upload`).")],
    ) -> Attachment:
        upload = decoded_upload(file, "file")
        row = await tickets.add_attachment(
            info.context.viewer, info.context.settings, _ticket_pk(ticket_id, "ticketId"), upload
        )
        return Attachment.from_row(row)

    @mutation(policy=ticket_policy.ATTACH, description="Its uploader, or an employee.")
    async def delete_attachment(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The attachment's ID.")],
    ) -> bool:
        return await tickets.delete_attachment(
            info.context.viewer, info.context.settings, parse_id(id, "Attachment", "id")
        )

    @mutation(
        policy=SYSTEM_ADMINS, description="Import from a legacy system; all or nothing; known externalRefs are skipped."
    )
    async def import_tickets(
        self,
        info: strawberry.Info,
        tickets_: Annotated[
            list[ImportTicketInput],
            strawberry.argument(name="tickets", description="At most 1,000 tickets per call."),
        ],
    ) -> ImportResult:
        imported, skipped = await tickets.import_tickets(info.context.viewer, decoded_list(tickets_, "tickets"))
        return ImportResult(imported_count=imported, skipped_count=skipped)
