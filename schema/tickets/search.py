"""The search's GraphQL types: a ticket page whose edges say where each ticket matched.

`TicketConnection`/`TicketEdge` are the ticket lists' connection and edge
(`Query.tickets`, `SiteObject.tickets`): the generic ones plus
`TicketEdge.highlights`, filled for the page's rows only when a search is
given and the query selects them (`resolvers.search.highlights`).
"""

from __future__ import annotations

from typing import Any

import strawberry

from permissions.policy import ANYONE
from schema.directive import type_policy
from schema.relay import Connection, Edge, PageInfo
from schema.tickets.types import Ticket


@strawberry.type(
    directives=type_policy(ANYONE),
    description="Where a ticket matched a search, with the text around the match.",
)
class SearchHighlight:
    field: str = strawberry.field(
        description='The field matched: "title", "description", "comment", "attachment" (a file name), '
        '"object" (the object\'s name) or "number".'
    )
    snippet: str = strawberry.field(
        description='At most 200 characters of the text around the match (the marks and "…" not counted), '
        "each matched word as written there wrapped in « and »; only text the viewer may see."
    )


@strawberry.type(
    name="TicketEdge",
    directives=type_policy(ANYONE),
    description="One ticket of a page and its cursor (Relay), and where it matched the search.",
)
class TicketEdge(Edge[Ticket]):
    highlights: list[SearchHighlight] = strawberry.field(
        default_factory=list,
        description="Where the ticket matched `filter.search`, one entry per field; empty without a search.",
    )


@strawberry.type(
    name="TicketConnection",
    directives=type_policy(ANYONE),
    description="A page of tickets (Relay connection, keyset pages: rows written between two requests never "
    "make a page repeat or skip one).",
)
class TicketConnection(Connection[Ticket]):
    edges: list[TicketEdge] = strawberry.field(description="The page's tickets, always in list order.")  # type: ignore[assignment]
    page_info: PageInfo = strawberry.field(description="Whether more pages follow or precede, and their cursors.")


def highlighted(page: Connection[Ticket], found: dict[int, list[dict[str, str]]]) -> TicketConnection:
    """`page` as a `TicketConnection`, each edge carrying the highlights `found` for its ticket."""
    edges: list[Any] = [
        TicketEdge(
            node=edge.node,
            key=edge.key,
            paging=edge.paging,
            highlights=[SearchHighlight(**h) for h in found.get(edge.node.pk, [])],
        )
        for edge in page.edges
    ]
    page.page_info.edges = edges
    return TicketConnection(edges=edges, page_info=page.page_info, total_count=page.total_count)
