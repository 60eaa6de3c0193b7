"""SQL statements per request for the benchmark's scenarios: at most 4, whatever the page size.

The same requests as `bench/scenarios.py` (a customer user's ticket list
with object, type, assignee, comment count and attachments; an employee's
ticket detail with its comments), counted through Tortoise's statement log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ids import to_global_id
from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import Attachment, Comment, Ticket, TicketCounter, TicketSource, TicketType
from tests.factories import make_customer_user, make_employee
from tests.statements import count_statements

BUDGET = 4

LIST = """query($n: Int!) { tickets(first: $n) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { id number title status createdAt object { name } ticketType { name } assignee { name }
  createdBy { name } commentCount attachments { filename contentType size downloadUrl } } } } }"""

FRAGMENTS = """query($n: Int!) { tickets(first: $n) { edges { ...row } } }
fragment row on TicketEdge { node { number ... on Ticket { commentCount attachments { filename } } } }"""

OBJECT_TICKETS = """query($id: ID!, $n: Int!) { node(id: $id) { ... on SiteObject { name
  tickets(first: $n) { totalCount edges { node { number commentCount attachments { filename } } } } } } }"""

DETAIL = """query($id: ID!, $n: Int!) { node(id: $id) { ... on Ticket { number title description status
  createdAt updatedAt dueDate object { name customer { name } } ticketType { name } assignee { name }
  createdBy { name } attachments { filename size downloadUrl }
  comments(first: $n) { totalCount edges { node { id body internal createdAt author { name } } } } } } }"""


async def portal(settings, tickets: int = 105):
    """A customer with one object, a customer user and an employee, and `tickets` tickets
    with comments (every third internal) by both, and an attachment on every other ticket."""
    customer = await Customer.create(name="Kunde")
    site = await SiteObject.create(customer=customer, name="Haus", address="")
    kind = await TicketType.create(name="Reinigungsmangel")
    await CustomerTicketType.create(customer=customer, ticket_type=kind)
    user = await make_customer_user(settings, customer.id)
    await CustomerUserObject.create(customer_user_id=user.pk, object=site)
    staff = await make_employee(settings)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await Ticket.bulk_create(
        [
            Ticket(
                number=i,
                title=f"Ticket {i}",
                ticket_type=kind,
                object=site,
                assignee_id=staff.pk if i % 2 else None,
                created_by_id=user.account.id if i % 3 else staff.account.id,
                source=TicketSource.PORTAL,
                created_at=start + timedelta(hours=i),
                updated_at=start + timedelta(hours=i),
            )
            for i in range(1, tickets + 1)
        ]
    )
    await TicketCounter.create(id=1, last_number=tickets)
    rows = await Ticket.all().order_by("id")
    await Comment.bulk_create(
        [
            Comment(
                ticket=t,
                author_id=(staff.account.id if c % 2 else user.account.id),
                body=f"Kommentar {c}",
                internal=(c % 3 == 0 and c % 2 == 1),
                created_at=t.created_at + timedelta(minutes=c),
            )
            for t in rows
            for c in range(1, 4 if t.number > 1 else 26)
        ]
    )
    await Attachment.bulk_create(
        [
            Attachment(
                ticket=t,
                uploaded_by_id=user.account.id,
                filename=f"foto-{t.number}.jpg",
                content_type="image/jpeg",
                size=10,
                sha256="0" * 64,
                storage_key="00/00/" + "0" * 64,
                created_at=t.created_at,
            )
            for t in rows
            if t.number % 2 == 0 or t.number == 1
        ]
    )
    return site, rows[0], user, staff


async def test_customer_list_stays_within_budget_at_every_page_size(gql, settings):
    site, _, user, staff = await portal(settings)
    client = gql.as_viewer(user.token)
    counts = {}
    for n in (1, 50, 100):
        counts[n], data = await count_statements(client, LIST, {"n": n})
        edges = data["tickets"]["edges"]
        assert len(edges) == n
        assert data["tickets"]["totalCount"] == 105
        # Customer users never count internal comments.
        assert all(e["node"]["commentCount"] == 2 for e in edges if e["node"]["number"] > 1)
    print(f"\nSQL statements, customer list: {counts}")
    assert len(set(counts.values())) == 1, counts
    assert counts[50] <= BUDGET
    staff_counts = {n: (await count_statements(gql.as_viewer(staff.token), LIST, {"n": n}))[0] for n in (1, 100)}
    assert len(set(staff_counts.values())) == 1 and staff_counts[1] <= BUDGET, staff_counts


async def test_fragments_and_object_tickets_are_batched_too(gql, settings):
    site, _, user, _ = await portal(settings)
    client = gql.as_viewer(user.token)
    small, data = await count_statements(client, FRAGMENTS, {"n": 2})
    large, data = await count_statements(client, FRAGMENTS, {"n": 100})
    assert data["tickets"]["edges"][0]["node"]["commentCount"] == 2
    assert small == large <= BUDGET
    object_id = to_global_id("SiteObject", site.id)
    small, _ = await count_statements(client, OBJECT_TICKETS, {"id": object_id, "n": 2})
    large, data = await count_statements(client, OBJECT_TICKETS, {"id": object_id, "n": 100})
    assert len(data["node"]["tickets"]["edges"]) == 100
    # One more than a plain list: the object itself.
    assert small == large <= BUDGET + 1


async def test_ticket_detail_stays_within_budget_for_any_number_of_comments(gql, settings):
    _, first, user, staff = await portal(settings)
    ticket_id = to_global_id("Ticket", first.id)
    counts = {}
    for n in (1, 20, 100):
        counts[n], data = await count_statements(gql.as_viewer(staff.token), DETAIL, {"id": ticket_id, "n": n})
        comments = data["node"]["comments"]
        assert comments["totalCount"] == 25
        assert len(comments["edges"]) == min(n, 25)
    print(f"\nSQL statements, employee ticket detail: {counts}")
    assert len(set(counts.values())) == 1 and counts[20] <= BUDGET, counts
    assert {e["node"]["author"]["name"] for e in data["node"]["comments"]["edges"]} == {"Kunde Kurt", "Erika Muster"}
    # The customer user's detail: internal comments neither listed nor counted.
    _, data = await count_statements(
        gql.as_viewer(user.token), DETAIL.replace(" internal ", " "), {"id": ticket_id, "n": 100}
    )
    assert data["node"]["comments"]["totalCount"] == 25 - 4
