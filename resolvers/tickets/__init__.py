"""Tickets: ticket types, reading (`read`, many objects' tickets at once `by_object`), writing with history (`write`),
importing (`importing`).

Other layers import from here; the submodules are the rooms.
"""

from resolvers.people import person_values
from resolvers.tickets.by_object import tickets_by_object
from resolvers.tickets.importing import import_tickets
from resolvers.tickets.read import (
    attachments_by_ticket,
    comment_counts,
    comment_pages,
    find_attachment,
    find_comment,
    find_ticket,
    find_tickets,
    get_attachment,
    get_comment,
    get_ticket,
    history_by_ticket,
    ticket_page,
)
from resolvers.tickets.states import (
    create_ticket_state,
    find_ticket_state,
    set_ticket_type_transitions,
    states_by_type,
    transitions_by_type,
    update_ticket_state,
    update_ticket_type,
    workflow_values,
)
from resolvers.tickets.types import create_ticket_type, find_ticket_type, ticket_types
from resolvers.tickets.workflow import (
    confirm_ticket_resolution,
    delete_ticket_state,
    reopen_ticket,
    set_ticket_state,
)
from resolvers.tickets.write import (
    MAX_TEXT,
    MAX_TITLE,
    add_attachment,
    add_comment,
    assign_ticket,
    attach_stored,
    create_ticket,
    delete_attachment,
    delete_comment,
    edit_comment,
    insert_ticket,
    next_ticket_number,
    now,
    set_ticket_status,
    update_ticket,
)

__all__ = [
    # ticket types
    "create_ticket_type",
    "ticket_types",
    "find_ticket_type",
    # reading
    "get_ticket",
    "get_comment",
    "get_attachment",
    "find_ticket",
    "find_comment",
    "find_attachment",
    "ticket_page",
    "tickets_by_object",
    "comment_pages",
    "person_values",
    "find_tickets",
    "attachments_by_ticket",
    "comment_counts",
    "history_by_ticket",
    # writing
    "create_ticket",
    "update_ticket",
    "set_ticket_status",
    "assign_ticket",
    "add_comment",
    "edit_comment",
    "delete_comment",
    "add_attachment",
    "delete_attachment",
    "next_ticket_number",
    # for form submissions that create tickets (`resolvers/forms.py`)
    "MAX_TEXT",
    "MAX_TITLE",
    "attach_stored",
    "insert_ticket",
    "now",
    # importing
    "import_tickets",
    # workflow (issue 18)
    "create_ticket_state",
    "update_ticket_state",
    "delete_ticket_state",
    "find_ticket_state",
    "set_ticket_type_transitions",
    "update_ticket_type",
    "set_ticket_state",
    "confirm_ticket_resolution",
    "reopen_ticket",
    "workflow_values",
    "states_by_type",
    "transitions_by_type",
]
