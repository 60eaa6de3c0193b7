"""The total of a search is counted only when the request asks for it (`totalCount`)."""

from __future__ import annotations

from tests.statements import recording_statements

TITLES = """query($s: String!, $o: TicketOrder!) { tickets(first: 5, orderBy: $o, filter: {search: $s}) {
  edges { node { title } } } }"""
COUNTED = """query($s: String!, $o: TicketOrder!) { tickets(first: 5, orderBy: $o, filter: {search: $s}) {
  totalCount edges { node { title } } } }"""


async def test_a_page_without_total_count_counts_nothing(world, corpus):
    alice = world.as_(world.alice)
    for order in ("CREATED_AT", "RELEVANCE"):
        with recording_statements() as plain:
            titles = await alice.ok(TITLES, {"s": "fenster", "o": order})
        with recording_statements() as counting:
            counted = await alice.ok(COUNTED, {"s": "fenster", "o": order})
        assert titles["tickets"]["edges"] == counted["tickets"]["edges"] != []
        assert counted["tickets"]["totalCount"] == len(counted["tickets"]["edges"])
        assert not [sql for sql, _ in plain.statements if "COUNT(" in sql.upper()], order
        assert [sql for sql, _ in counting.statements if "COUNT(" in sql.upper()], order
