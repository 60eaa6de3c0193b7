"""The benchmark's scenarios: one GraphQL request each, and the baseline route that answers it.

More scenarios plug in from optional modules (`PLUGINS`, e.g. `bench/evaluation.py`):
such a module defines `scenarios(world) -> list[Scenario]` and may define
`prepare(database_url, world)`, called once after the data is generated and
before anything is measured (to switch a feature on, fill a derived
column, ...). A plugin scenario replaces a built-in one of the same name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.generate import World

PLUGINS = ("bench.evaluation", "bench.form_pdf")


def gid(kind: str, pk: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


@dataclass
class Scenario:
    name: str
    description: str
    viewer: str  # "customer_user" or "employee"
    query: str
    variables: Callable[[World, int], dict[str, Any]]
    # Baseline route answering the same question (`{size}` is the page size), or None.
    baseline: str | None = None
    # Page size the load runs with; SQL statements are also counted at `page_sizes`.
    page_size: int = 50
    page_sizes: tuple[int, ...] = ()
    # Whether each request writes (bodies then differ by ids and are compared by shape).
    writes: bool = False
    # Needs a field the schema may not have yet (checked before running).
    requires: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


LIST = """query List($first: Int!) { tickets(first: $first) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id number title status createdAt object { name } ticketType { name } assignee { name }
  commentCount attachments { filename contentType size downloadUrl } } } } }"""

DETAIL = """query Detail($id: ID!) { node(id: $id) { ... on Ticket { id number title description status
  createdAt updatedAt dueDate object { name customer { name } } ticketType { name } assignee { name }
  createdBy { name } attachments { filename size downloadUrl }
  comments(first: 20) { totalCount edges { node { id body internal createdAt author { name } } } } } } }"""

# Issue 13's probe, verbatim (a customer user; about 30 % of the tickets are in scope).
PROBE = """{ tickets(first: 50) { totalCount edges { node { id number title status createdAt dueDate
  object { id name } ticketType { id name } assignee { name } } } } }"""

# The probe's fields for an employee (every ticket but other people's absence requests).
EMPLOYEE_LIST = """query EmployeeList($first: Int!) { tickets(first: $first) { totalCount edges { node { id number
  title status createdAt dueDate object { id name } ticketType { id name } assignee { name } } } } }"""

# A sync client's read: what changed since its last sync, oldest change first (issue 25).
SYNC_AFTER = "2026-06-01T00:00:00+00:00"
SYNC = """query Sync($after: DateTime!) { tickets(first: 50, orderBy: UPDATED_AT, descending: false,
  filter: {updatedAfter: $after}) { edges { node { id number title status updatedAt } } pageInfo { hasNextPage } } }"""

CREATE = """mutation Create($input: CreateTicketInput!) { createTicket(input: $input) {
  id number title status object { name } ticketType { name } } }"""

COMMENT = """mutation Comment($input: AddCommentInput!) { addComment(input: $input) {
  id body createdAt author { name } } }"""

EVALUATION = """query Evaluation($id: ID!) { node(id: $id) { ... on SiteObject { name
  ticketEvaluation { groupSizeDays total averageDays medianDays buckets { fromDay toDay count } } } } }"""

# Issue 25: a list of 20 objects, each with its newest tickets and their count (`SiteObject.tickets`).
OBJECT_TICKETS = """query ObjectTickets($first: Int!) { objects(first: 20) { edges { node { id name
  tickets(first: $first) { totalCount edges { node { id number title status createdAt } } } } } } }"""
# Tickets per object the SQL statements are counted at.
OBJECT_PAGE_SIZES = (1, 5, 20)

# Page sizes the SQL statements are counted at; `first` above 100 is refused by the API.
PAGE_SIZES = (1, 50, 100)


def builtin() -> list[Scenario]:
    return [
        Scenario(
            "list",
            "customer user: tickets(first: 50) with object, type, assignee, comment count, attachments",
            "customer_user",
            LIST,
            lambda w, n: {"first": n},
            baseline="/list?first={size}",
            page_size=50,
            page_sizes=PAGE_SIZES,
        ),
        Scenario(
            "probe",
            "customer user: issue 13's probe, tickets(first: 50) with ids, dates, object, type, assignee",
            "customer_user",
            PROBE,
            lambda w, n: {},
            baseline="/probe?first=50",
            page_size=50,
        ),
        Scenario(
            "employeeList",
            "employee (no MANAGE_ABSENCES): tickets(first: 50) with the probe's fields",
            "employee",
            EMPLOYEE_LIST,
            lambda w, n: {"first": n},
            baseline="/employee-list?first={size}",
            page_size=50,
            page_sizes=PAGE_SIZES,
        ),
        Scenario(
            "syncRead",
            "employee: the first 50 tickets changed after an instant, oldest change first (a sync client)",
            "employee",
            SYNC,
            lambda w, n: {"after": SYNC_AFTER},
            baseline="/sync?first=50",
            page_size=50,
        ),
        Scenario(
            "detail",
            "employee: one ticket with 20 of its comments",
            "employee",
            DETAIL,
            lambda w, n: {"id": gid("Ticket", w.detail_ticket_ids[0])},
            baseline="/detail?id={ticket}",
            page_size=20,
        ),
        Scenario(
            "objectTickets",
            "employee: objects(first: 20), each with tickets(first: 5) and their totalCount",
            "employee",
            OBJECT_TICKETS,
            lambda w, n: {"first": n},
            baseline="/object-tickets?first={size}",
            page_size=5,
            page_sizes=OBJECT_PAGE_SIZES,
        ),
        Scenario(
            "customerObjectTickets",
            "customer user: objects(first: 20) (their 10), each with tickets(first: 5) and their totalCount",
            "customer_user",
            OBJECT_TICKETS,
            lambda w, n: {"first": n},
            baseline="/object-tickets?first={size}",
            page_size=5,
            page_sizes=OBJECT_PAGE_SIZES,
        ),
        Scenario(
            "createTicket",
            "customer user: createTicket on one of their objects",
            "customer_user",
            CREATE,
            lambda w, n: {
                "input": {
                    "objectId": gid("SiteObject", w.object_id),
                    "ticketTypeId": gid("TicketType", w.ticket_type_id),
                    "title": "Fenster im Foyer verschmiert",
                    "description": "Bitte bis Freitag reinigen.",
                }
            },
            writes=True,
        ),
        Scenario(
            "addComment",
            "customer user: addComment on a visible ticket",
            "customer_user",
            COMMENT,
            lambda w, n: {
                "input": {
                    "ticketId": gid("Ticket", w.commentable_ticket_id),
                    "body": "Danke, bitte auch den Flur prüfen.",
                }
            },
            writes=True,
        ),
        Scenario(
            "ticketEvaluation",
            "customer user: ticketEvaluation for one object",
            "customer_user",
            EVALUATION,
            lambda w, n: {"id": gid("SiteObject", w.object_id)},
            requires="SiteObject.ticketEvaluation",
        ),
    ]


def plugins() -> list[Any]:
    found = []
    for name in PLUGINS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def all_scenarios(world: World) -> list[Scenario]:
    """Built-in scenarios, replaced or extended by the plugins' ones, in a stable order."""
    by_name = {s.name: s for s in builtin()}
    for module in plugins():
        if hasattr(module, "scenarios"):
            for scenario in module.scenarios(world):
                by_name[scenario.name] = scenario
    return list(by_name.values())


def prepare_plugins(database_url: str, world: World) -> None:
    for module in plugins():
        if hasattr(module, "prepare"):
            module.prepare(database_url, world)
