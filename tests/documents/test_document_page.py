"""`SiteObject.documentPage`: the documents as a connection, newest first (issue 15)."""

from __future__ import annotations

from core.ids import to_global_id
from tests.documents import test_documents
from tests.statements import count_statements

published = test_documents.published  # the fixture: customer A publishes defects as PDFs, reports entirely

PAGE = """query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on SiteObject {
  documents { filename }
  documentPage(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { filename ticketType { name } } } } } } }"""


async def walk(client, site, size: int) -> tuple[list[str], list[str], list[int]]:
    names, totals, after = [], [], None
    while True:
        data = await client.ok(PAGE, {"id": to_global_id("SiteObject", site.id), "first": size, "after": after})
        node = data["node"]
        page = node["documentPage"]
        names += [e["node"]["filename"] for e in page["edges"]]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return names, [d["filename"] for d in node["documents"]], totals
        after = page["pageInfo"]["endCursor"]


async def test_pages_give_the_published_files_newest_first(world, published):
    names, listed, totals = await walk(world.as_(world.alice), world.a1, 2)
    assert names == listed == ["report.pdf", "report.txt", "defect.pdf"]
    assert totals == [3, 3]


async def test_customer_users_page_only_their_objects(world, published):
    names, _, totals = await walk(world.as_(world.bob), world.a2, 2)
    assert names == ["bauhof.pdf"] and totals == [1]
    data = await world.as_(world.bob).ok(PAGE, {"id": to_global_id("SiteObject", world.a1.id), "first": 5})
    assert data["node"] is None
    data = await world.as_(world.carl).ok(PAGE, {"id": to_global_id("SiteObject", world.b1.id), "first": 5})
    assert data["node"]["documentPage"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }


async def test_absence_attachments_never_page_in(world, published):
    names, _, _ = await walk(world.as_(world.admin), world.a1, 1)
    assert "urlaub.pdf" not in names and len(names) == 3


async def test_objects_with_document_pages_are_flat(world, published):
    query = """query($n: Int!, $after: String) { objects(first: $n) { edges { node { name
      documentPage(first: 1, after: $after) { totalCount edges { node { filename } } } } } } }"""
    staff = world.as_(world.staff)
    one, _ = await count_statements(staff, query, {"n": 1})
    three, data = await count_statements(staff, query, {"n": 3})
    assert one == three
    pages = {e["node"]["name"]: e["node"]["documentPage"] for e in data["objects"]["edges"]}
    assert {name: p["totalCount"] for name, p in pages.items()} == {"Bauhof": 1, "Kita Nord": 0, "Rathaus": 3}
    assert pages["Rathaus"]["edges"] == [{"node": {"filename": "report.pdf"}}]
