"""`Ticket.attachmentPage` and `Ticket.historyPage`: connections over the lists that grow (issue 15).

Walking the pages gives the deprecated list exactly; customer users never reach the
history; a page of tickets with their attachment pages costs the same statements at
any page size.
"""

from __future__ import annotations

from core.ids import to_global_id
from tests.factories import make_attachment, make_comment, make_ticket
from tests.statements import count_statements

ATTACHMENT_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on Ticket {
    attachments { filename }
    attachmentPage(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id filename size uploadedBy { name } } } } } } }"""
HISTORY_PAGE = """query($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Ticket {
    history { kind toValue }
    historyPage(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { kind toValue actor { name } } } } } } }"""


async def _ticket_with_files(world, settings, count: int):
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice)
    for n in range(count):
        await make_attachment(settings, ticket, world.staff, f"f{n}.txt", f"file {n} of {ticket.id}".encode())
    return ticket


async def walk(client, query: str, field: str, gid: str, size: int) -> tuple[list[dict], list[int]]:
    nodes, totals, after = [], [], None
    while True:
        data = await client.ok(query, {"id": gid, "first": size, "after": after})
        page = data["node"][field]
        nodes += [e["node"] for e in page["edges"]]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, totals
        after = page["pageInfo"]["endCursor"]


async def test_attachment_pages_walk_the_deprecated_list(world, settings):
    ticket = await _ticket_with_files(world, settings, 5)
    gid = to_global_id("Ticket", ticket.id)
    for person in (world.alice, world.staff):
        client = world.as_(person)
        nodes, totals = await walk(client, ATTACHMENT_PAGE, "attachmentPage", gid, 2)
        assert [n["filename"] for n in nodes] == [f"f{n}.txt" for n in range(5)]
        assert totals == [5, 5, 5]
        assert nodes[0]["uploadedBy"] == {"name": "Jonas Weber"}
        listed = (await client.ok(ATTACHMENT_PAGE, {"id": gid, "first": 0}))["node"]["attachments"]
        assert [a["filename"] for a in listed] == [n["filename"] for n in nodes]


async def test_attachment_page_backwards_and_between_cursors(world, settings):
    ticket = await _ticket_with_files(world, settings, 4)
    client = world.as_(world.alice)
    gid = to_global_id("Ticket", ticket.id)
    page = (await client.ok(ATTACHMENT_PAGE, {"id": gid, "last": 3}))["node"]["attachmentPage"]
    assert [e["node"]["filename"] for e in page["edges"]] == ["f1.txt", "f2.txt", "f3.txt"]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is False
    first, last = page["edges"][0]["cursor"], page["edges"][-1]["cursor"]
    between = (await client.ok(ATTACHMENT_PAGE, {"id": gid, "after": first, "before": last}))["node"]
    assert [e["node"]["filename"] for e in between["attachmentPage"]["edges"]] == ["f2.txt"]


async def test_a_customer_user_gets_no_page_of_a_ticket_they_cannot_see(world, settings):
    ticket = await _ticket_with_files(world, settings, 2)
    gid = to_global_id("Ticket", ticket.id)
    data = await world.as_(world.bob).ok(ATTACHMENT_PAGE, {"id": gid, "first": 5})
    assert data["node"] is None
    data = await world.as_(world.carl).ok(ATTACHMENT_PAGE, {"id": gid, "first": 5})
    assert data["node"] is None


async def test_a_cursor_of_another_list_is_bad_input(world, settings):
    ticket = await _ticket_with_files(world, settings, 3)
    await make_comment(ticket, world.staff, "Erledigt bald")
    client = world.as_(world.staff)
    gid = to_global_id("Ticket", ticket.id)
    comments = await client.ok(
        """query($id: ID!) { node(id: $id) { ... on Ticket { comments(first: 1) { pageInfo { endCursor } } } } }""",
        {"id": gid},
    )
    foreign = comments["node"]["comments"]["pageInfo"]["endCursor"]
    body = await client(ATTACHMENT_PAGE, {"id": gid, "first": 1, "after": foreign})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    body = await client(ATTACHMENT_PAGE, {"id": gid, "first": 101})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_history_page_for_employees_only(world, settings):
    ticket = await _ticket_with_files(world, settings, 3)
    gid = to_global_id("Ticket", ticket.id)
    nodes, totals = await walk(world.as_(world.staff), HISTORY_PAGE, "historyPage", gid, 2)
    assert [n["kind"] for n in nodes] == ["CREATED"] + ["ATTACHMENT_ADDED"] * 3
    assert [n["toValue"] for n in nodes[1:]] == ["f0.txt", "f1.txt", "f2.txt"]
    assert totals == [4, 4]
    listed = (await world.as_(world.staff).ok(HISTORY_PAGE, {"id": gid, "first": 0}))["node"]["history"]
    assert [(h["kind"], h["toValue"]) for h in listed] == [(n["kind"], n["toValue"]) for n in nodes]

    body = await world.as_(world.alice)(HISTORY_PAGE, {"id": gid, "first": 2})
    assert body["data"]["node"]["historyPage"] is None
    refused = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert refused == {("node", "history"): "FORBIDDEN", ("node", "historyPage"): "FORBIDDEN"}


async def test_a_page_of_tickets_with_their_attachment_pages_is_flat(world, settings):
    for _ in range(6):
        await _ticket_with_files(world, settings, 3)
    query = """query($n: Int!) { tickets(first: $n) { edges { node { number
      attachmentPage(first: 2) { totalCount edges { node { filename } } }
      historyPage(first: 2) { totalCount edges { node { kind } } } } } } }"""
    client = world.as_(world.staff)
    two, _ = await count_statements(client, query, {"n": 2})
    six, data = await count_statements(client, query, {"n": 6})
    assert two == six
    pages = [e["node"]["attachmentPage"] for e in data["tickets"]["edges"]]
    assert len(pages) == 6
    assert all(p["totalCount"] == 3 and len(p["edges"]) == 2 for p in pages)
    assert all(e["node"]["historyPage"]["totalCount"] == 4 for e in data["tickets"]["edges"])
