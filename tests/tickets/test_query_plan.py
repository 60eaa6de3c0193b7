"""The customer user's ticket page walks an ordering index instead of sorting the whole scope.

With ~20 k tickets, a few thousand of them in a customer user's scope, the
page statement must find its 50 rows through the `(created_at, id)` index
and join only those: on SQLite no `USE TEMP B-TREE FOR ORDER BY`; on
PostgreSQL no sort of tickets, a Limit over the ordering index, and no
sequential scan of the ticket table (the count reads the scope by index).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.connection import get_connection

from core.database import refresh_statistics
from models.accounts import Account
from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import Ticket, TicketSource, TicketType
from tests.factories import make_customer_user

PAGE = """query($after: String) { tickets(first: 50, after: $after) { totalCount pageInfo { endCursor }
  edges { node { id number title status createdAt dueDate object { id name } ticketType { id name }
  assignee { name } } } } }"""
TICKETS = 20_000


class StatementLog(logging.Handler):
    """Every (sql, parameters) Tortoise runs while attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2:
            sql, values = record.args
            self.statements.append((str(sql), list(values or [])))


async def _world(settings):
    customers = [await Customer.create(name=f"Kunde {i}") for i in range(3)]
    objects = [await SiteObject.create(customer=customers[i % 3], name=f"Objekt {i}", address="") for i in range(12)]
    types = [await TicketType.create(name=f"Typ {i}") for i in range(3)]
    mine = customers[0]
    for ticket_type in types[:2]:
        await CustomerTicketType.create(customer=mine, ticket_type=ticket_type)
    user = await make_customer_user(settings, mine.id)
    for site in objects:
        if site.customer_id == mine.id:
            await CustomerUserObject.create(customer_user_id=user.pk, object_id=site.id)
    creator = await Account.get(id=user.account.id)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        Ticket(
            number=n + 1,
            title=f"Ticket {n}",
            description="",
            ticket_type_id=types[n % 3].id,
            object_id=objects[n % len(objects)].id,
            created_by_id=creator.id,
            source=TicketSource.PORTAL,
            created_at=start + timedelta(minutes=7 * n),
            updated_at=start + timedelta(minutes=7 * n),
        )
        for n in range(TICKETS)
    ]
    await Ticket.bulk_create(rows, batch_size=2000)
    await refresh_statistics(always=True)
    return user


async def _page_statement(gql, user, after: str | None = None) -> tuple[str, list[Any], str]:
    log = StatementLog()
    logger = logging.getLogger("tortoise.db_client")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(log)
    try:
        data = await gql.as_viewer(user.token).ok(PAGE, {"after": after})
    finally:
        logger.removeHandler(log)
        logger.setLevel(old)
    assert len(data["tickets"]["edges"]) == 50
    assert data["tickets"]["totalCount"] > 1000
    pages = [s for s in log.statements if "ORDER BY" in s[0] and '"ticket"' in s[0]]
    assert pages, log.statements
    return pages[0][0], pages[0][1], data["tickets"]["pageInfo"]["endCursor"]


async def test_the_ticket_page_uses_the_ordering_index(gql, settings):
    user = await _world(settings)
    sql, values, cursor = await _page_statement(gql, user)
    await _assert_index_walk(sql, values)
    # The page after a cursor too: its keyset bound `created_at <= ? AND (created_at < ? OR id < ?)` seeks the index.
    sql, values, _ = await _page_statement(gql, user, cursor)
    bound = r'"ticket"\."created_at"<=(\?|\$\d+) AND \("ticket"\."created_at"<(\?|\$\d+) OR "ticket"\."id"<(\?|\$\d+)\)'
    assert re.search(bound, sql), sql
    await _assert_index_walk(sql, values)


async def _assert_index_walk(sql: str, values: list[Any]) -> None:
    connection = get_connection("default")
    if connection.capabilities.dialect == "sqlite":
        plan = await connection.execute_query_dict("EXPLAIN QUERY PLAN " + sql, values)
        details = [row["detail"] for row in plan]
        assert not any("TEMP B-TREE FOR ORDER BY" in d for d in details), details
        assert any("USING INDEX idx_ticket_created" in d for d in details), details
        assert not any(d == "SCAN ticket" for d in details), details
    else:
        rows = await connection.execute_query_dict("EXPLAIN (FORMAT JSON) " + sql, values)
        plan = rows[0]["QUERY PLAN"]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        nodes = list(_walk(plan[0]["Plan"]))
        shown = json.dumps(plan, indent=1)[:6000]
        # The page is a Limit over the ordering index; nothing sorts more than a page of tickets.
        ordered = [
            n
            for n in nodes
            if n["Node Type"] == "Limit"
            and any(c.get("Index Name", "").startswith("idx_ticket_created") for c in _walk(n))
        ]
        assert ordered, shown
        sorts = [
            n
            for n in nodes
            if n["Node Type"] in ("Sort", "Incremental Sort")
            and any("ticket." in k for k in n.get("Sort Key", ()))
            and n["Plan Rows"] > 50
        ]
        assert not sorts, shown
        # Only the page's rows are joined: no sequential scan reads the whole ticket table.
        whole = [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "ticket"]
        assert not whole, shown


def _walk(node: dict[str, Any]):
    yield node
    for child in node.get("Plans", ()):
        yield from _walk(child)
