"""The ticket detail's statements and the object list's (issue 25): how many, and what they join.

The detail is the benchmark's `detail` request (an employee's ticket with its comments): the viewer,
the ticket, its attachments and its comment page, whatever the number of comments. Its ticket statement
joins only the relations the request selects: each joined table multiplies the time PostgreSQL takes
to plan it (four of them for each of its first five runs per pooled connection).
"""

from __future__ import annotations

from core.ids import to_global_id
from tests.factories import make_customer_user, make_site_object, make_ticket
from tests.statements import count_statements, recording_statements
from tests.tickets.test_statement_budget import DETAIL, portal

# The viewer, the ticket with its selected relations, its attachments, its comment page.
DETAIL_STATEMENTS = 4
# Tables the detail's ticket statement reads: the ticket, its type, object and the object's customer,
# the assignee and their account, the creator's account and whether it is an employee or customer user.
DETAIL_TABLES = 9

OBJECT_LIST = """query($n: Int!, $first: Int!) { objects(first: $n) { edges { node { id name
  tickets(first: $first) { totalCount edges { node { id number title status createdAt } } } } } } }"""


async def test_the_ticket_detail_runs_four_statements_for_any_number_of_comments(gql, settings):
    _, first, _, staff = await portal(settings)
    variables = {"id": to_global_id("Ticket", first.id)}
    counts = {
        n: (await count_statements(gql.as_viewer(staff.token), DETAIL, {**variables, "n": n}))[0] for n in (1, 20)
    }
    assert counts == {1: DETAIL_STATEMENTS, 20: DETAIL_STATEMENTS}, counts


async def test_the_detail_joins_only_the_selected_relations(gql, settings):
    _, first, _, staff = await portal(settings)
    variables = {"id": to_global_id("Ticket", first.id), "n": 20}
    with recording_statements() as recorder:
        await gql.as_viewer(staff.token).ok(DETAIL, variables)
    (ticket,) = [sql for sql, _ in recorder.statements if sql.lstrip().startswith('SELECT "ticket"."id"')]
    assert ticket.count(" JOIN ") == DETAIL_TABLES - 1, ticket
    assert "service_level_terms" not in ticket  # `serviceLevel` is not selected
    # Asking for the service level joins its terms.
    with recording_statements() as recorder:
        await gql.as_viewer(staff.token).ok(DETAIL.replace("dueDate", "dueDate serviceLevel { policyName }"), variables)
    assert any("service_level_terms" in sql for sql, _ in recorder.statements)


async def test_the_object_list_with_tickets_runs_three_statements_for_any_number_of_objects(world, settings):
    sites = [await make_site_object(world.a, f"Anlage {i:02}") for i in range(12)]
    for i, site in enumerate(sites):
        for j in range(i % 4):  # 0 to 3 tickets each: some objects have none
            await make_ticket(site, world.defect, f"{site.name} / {j}", by=world.admin)
    user = await make_customer_user(settings, world.a, objects=sites)
    for viewer in (world.admin, user):
        client = world.as_(viewer)
        counts = {}
        for n, first in ((2, 1), (12, 1), (12, 5)):
            counts[n, first], data = await count_statements(client, OBJECT_LIST, {"n": n, "first": first})
            for edge in data["objects"]["edges"]:
                node = edge["node"]
                expected = int(node["name"].split()[-1]) % 4 if node["name"].startswith("Anlage") else None
                if expected is not None:
                    assert node["tickets"]["totalCount"] == expected, node
                    assert len(node["tickets"]["edges"]) == min(first, expected), node
        # The viewer, the page of objects (no count: totalCount is not selected), the tickets of all.
        assert set(counts.values()) == {3}, (viewer.email, counts)
