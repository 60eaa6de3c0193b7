"""Nested pages in one windowed statement: `objects { tickets(first:) }` and `tickets { comments(first:) }`.

The statements stay flat in the number of parents, and the comment page is cut in SQL
(ROW_NUMBER() OVER (PARTITION BY ticket_id ...)), not after loading every comment.
"""

from __future__ import annotations

from tests.factories import make_comment, make_customer_user, make_site_object, make_ticket
from tests.statements import count_statements, recording_statements

OBJECTS = """query($n: Int!) { objects(first: $n) { totalCount edges { node { name
  tickets(first: 5) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { number title commentCount } } } } } } }"""

COMMENTS = """query($n: Int!) { tickets(first: $n, orderBy: NUMBER, descending: false) { edges { node { number
  comments(first: 2) { totalCount pageInfo { hasNextPage } edges { node { body } } } } } } }"""


async def _objects_with_tickets(world, count: int) -> list:
    sites = [await make_site_object(world.a, f"Anlage {i:02}") for i in range(count)]
    for i, site in enumerate(sites):
        for j in range(i % 7 + 1):  # 1 to 7 tickets each
            await make_ticket(site, world.defect, f"{site.name} / {j}", by=world.admin)
    return sites


async def test_object_tickets_are_one_windowed_query_for_all_objects(world, settings):
    sites = await _objects_with_tickets(world, 10)
    user = await make_customer_user(settings, world.a, objects=sites)
    counts = {}
    for viewer in (world.admin, user):
        client = world.as_(viewer)
        for n in (2, 10):
            counts[viewer.email, n], data = await count_statements(client, OBJECTS, {"n": n})
            edges = data["objects"]["edges"]
            assert len(edges) == n
            for edge in edges:
                tickets = edge["node"]["tickets"]
                expected = (
                    int(edge["node"]["name"].split()[-1]) % 7 + 1 if edge["node"]["name"].startswith("Anlage") else 0
                )
                assert tickets["totalCount"] == expected, edge
                assert len(tickets["edges"]) == min(5, expected)
                assert tickets["pageInfo"]["hasNextPage"] is (expected > 5)
                # Newest first, within the object.
                titles = [e["node"]["title"] for e in tickets["edges"]]
                assert titles == sorted(titles, reverse=True)
        assert counts[viewer.email, 2] == counts[viewer.email, 10], counts
    print(f"\nSQL statements, objects with their tickets: {counts}")
    # The viewer, the page of objects, its count, the windowed tickets, their comment counts.
    assert max(counts.values()) <= 5, counts


async def test_object_ticket_cursors_continue_each_object(world):
    sites = await _objects_with_tickets(world, 7)
    admin = world.as_(world.admin)
    data = await admin.ok(OBJECTS, {"n": 10})
    full = [e for e in data["objects"]["edges"] if e["node"]["tickets"]["pageInfo"]["hasNextPage"]]
    assert [e["node"]["name"] for e in full] == ["Anlage 05", "Anlage 06"]
    query = """query($id: ID!, $after: String) { node(id: $id) { ... on SiteObject {
      tickets(first: 5, after: $after) { totalCount edges { node { title } } } } } }"""
    site = next(s for s in sites if s.name == "Anlage 06")
    from core.ids import to_global_id

    rest = await admin.ok(
        query, {"id": to_global_id("SiteObject", site.id), "after": full[1]["node"]["tickets"]["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["title"] for e in rest["node"]["tickets"]["edges"]] == ["Anlage 06 / 1", "Anlage 06 / 0"]
    assert rest["node"]["tickets"]["totalCount"] == 7


async def test_comment_pages_are_cut_in_sql_for_a_page_of_tickets(world, settings):
    for i in range(6):
        ticket = await make_ticket(world.a1, world.defect, f"T{i}", by=world.alice)
        for c in range(i):
            await make_comment(ticket, world.alice if c % 2 else world.admin, f"{i}.{c}")
        await make_comment(ticket, world.admin, f"{i}.intern", internal=True)
    alice = world.as_(world.alice)
    small, _ = await count_statements(alice, COMMENTS, {"n": 2})
    large, data = await count_statements(alice, COMMENTS, {"n": 6})
    assert small == large, (small, large)
    for edge in data["tickets"]["edges"]:
        i = edge["node"]["number"] - 1
        comments = edge["node"]["comments"]
        assert comments["totalCount"] == i  # the internal one neither listed nor counted
        assert [e["node"]["body"] for e in comments["edges"]] == [f"{i}.{c}" for c in range(min(i, 2))]
        assert comments["pageInfo"]["hasNextPage"] is (i > 2)
    with recording_statements() as log:
        await alice.ok(COMMENTS, {"n": 6})
    comment_statements = [sql for sql, _ in log.statements if 'FROM "comment"' in sql]
    assert len(comment_statements) == 1, comment_statements
    assert "ROW_NUMBER() OVER (PARTITION BY" in comment_statements[0]
