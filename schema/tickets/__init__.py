"""Tickets in GraphQL: the types (`types`), their inputs (`inputs`), page preloading (`preload`), and the
queries and mutations (`operations`)."""

from schema.tickets.inputs import TicketFilterInput
from schema.tickets.operations import TicketMutations, TicketQueries, ticket_connection
from schema.tickets.types import Attachment, Comment, Ticket, TicketType, person

__all__ = [
    "Attachment",
    "Comment",
    "Ticket",
    "TicketType",
    "TicketFilterInput",
    "TicketMutations",
    "TicketQueries",
    "person",
    "ticket_connection",
]
