"""Tickets to search: German word forms, comments of both kinds, files and objects, on two customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.ids import to_global_id
from models.tickets import Ticket
from tests.factories import make_attachment, make_comment, make_ticket

SEARCH = """query($s: String, $order: TicketOrder, $first: Int, $after: String, $last: Int, $before: String) {
  tickets(filter: {search: $s}, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor highlights { field snippet } node { number title } } } }"""


@dataclass
class Found:
    total: int
    titles: list[str]
    numbers: list[int]
    highlights: list[list[dict[str, str]]]
    page: dict[str, Any]


async def search(client: Any, text: str | None, order: str = "CREATED_AT", **page: Any) -> Found:
    """`tickets(filter: {search: text})` as `client`, which must succeed."""
    data = await client.ok(SEARCH, {"s": text, "order": order, **page})
    edges = data["tickets"]["edges"]
    return Found(
        total=data["tickets"]["totalCount"],
        titles=[e["node"]["title"] for e in edges],
        numbers=[e["node"]["number"] for e in edges],
        highlights=[e["highlights"] for e in edges],
        page=data["tickets"]["pageInfo"],
    )


async def refusal(client: Any, text: str, order: str = "CREATED_AT") -> tuple[str, str | None]:
    """(code, field) of a search that must fail."""
    body = await client(SEARCH, {"s": text, "order": order})
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("field")


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


@pytest.fixture
async def corpus(world, settings) -> dict[str, Ticket]:
    """Alice's object a1 "Rathaus" (customer A) and Carl's b1 "Kita Nord" (customer B)."""
    made = {
        "window": await make_ticket(
            world.a1, world.defect, "Fenster streifig", by=world.alice, description="Im Flur, zweiter Stock."
        ),
        "windows": await make_ticket(
            world.a1, world.defect, "Glas matt", by=world.staff, description="Alle Fensters im Treppenhaus."
        ),
        "door": await make_ticket(world.a1, world.defect, "Tür beschädigt", by=world.staff),
        "cafe": await make_ticket(world.a1, world.defect, "Café im Foyer verschmutzt", by=world.alice),
        "internal": await make_ticket(world.a1, world.defect, "Heizung laut", by=world.alice),
        "carl": await make_ticket(world.b1, world.defect, "Sandkasten Geheimwort", by=world.carl),
    }
    await make_comment(made["internal"], world.staff, "Techniker Zuckerwatte schicken", internal=True)
    await make_comment(made["internal"], world.staff, "Wir kümmern uns um die Fenstern.")
    await make_attachment(settings, made["door"], world.staff, "Schadensprotokoll.pdf", b"%PDF-1.4 x")
    return made
