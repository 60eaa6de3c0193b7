"""`seed_demo()`: a believable company, and the portal's scoping holds on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ids import decode_global_id
from files.backends import store_for
from models.accounts import Account, AccountKind, CustomerUser
from models.customers import Customer, CustomerTicketType, CustomerUserObject, SiteObject
from models.tickets import (
    Attachment,
    Comment,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketState,
    TicketStatus,
    TicketType,
)
from server.demo import seed_demo
from tests.factories import token_for

TICKETS = """query($after: String) {
  tickets(first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id ticketType { name } object { id }
      comments(first: 100) { edges { node { id body } } } } }
  }
}"""


async def test_seed_demo_creates_a_believable_company(settings):
    logins = await seed_demo(settings)
    emails = [email for email, _, _ in logins]
    assert len(logins) == 8 and len(set(emails)) == 8
    assert all(len(password) >= 8 for _, password, _ in logins)
    assert sum(who.startswith("customer user") for _, _, who in logins) == 4

    assert await seed_demo(settings) == []  # idempotent
    assert 190 <= await Ticket.all().count() <= 210

    names = set(await Customer.all().values_list("name", flat=True))
    assert names == {"Stadtwerke Musterstadt GmbH", "Kita Sonnenschein e.V."}
    assert await SiteObject.all().count() == 6
    for customer in await Customer.all():
        assert await SiteObject.filter(customer_id=customer.id).count() == 3
        enabled = await TicketType.filter(customer_links__customer_id=customer.id)
        assert {t.name for t in enabled} >= {"Reinigungsmangel", "Schaden"}
        assert not any(t.is_absence_request for t in enabled)

    users = await CustomerUser.all()
    assert len(users) == 4
    for user in users:
        objects = await SiteObject.filter(user_links__customer_user_id=user.id)
        assert objects and all(o.customer_id == user.customer_id for o in objects)

    absence = Ticket.filter(ticket_type__is_absence_request=True)
    assert await absence.count() >= 3
    for ticket in await absence.prefetch_related("created_by"):
        assert ticket.created_by.kind is AccountKind.EMPLOYEE

    now = datetime.now(UTC)
    tickets = await Ticket.all()
    assert {t.status for t in tickets} == set(TicketStatus)
    assert min(t.created_at for t in tickets) < now - timedelta(days=150)
    assert sum(t.assignee_id is not None for t in tickets) > 50
    for ticket in tickets:
        assert ticket.created_at <= ticket.updated_at <= now
        assert (ticket.done_at is not None) == (ticket.status is TicketStatus.DONE)
        if ticket.done_at:
            assert ticket.created_at < ticket.done_at <= now
    assert sorted(t.number for t in tickets) == list(range(1, len(tickets) + 1))

    # History agrees with the rows.
    events = await TicketEvent.all()
    by_kind = {kind: [e for e in events if e.kind is kind] for kind in TicketEventKind}
    assert len(by_kind[TicketEventKind.CREATED]) == len(tickets)
    assert len(by_kind[TicketEventKind.COMMENT_ADDED]) == await Comment.all().count()
    assert len(by_kind[TicketEventKind.ATTACHMENT_ADDED]) == await Attachment.all().count()
    done_events = {e.ticket_id for e in by_kind[TicketEventKind.STATUS_CHANGED] if e.to_value == "DONE"}
    # Every ticket that was ever set DONE is DONE, or was reopened since (issue 18).
    assert done_events == {t.id for t in tickets if t.status is TicketStatus.DONE or t.reopen_count}
    assigned = {e.ticket_id for e in by_kind[TicketEventKind.ASSIGNEE_CHANGED]}
    assert assigned == {t.id for t in tickets if t.assignee_id is not None}

    comments = await Comment.all()
    assert len(comments) > 150
    assert any(c.internal for c in comments) and any(not c.internal for c in comments)
    customer_authors = set(await Account.filter(kind=AccountKind.CUSTOMER_USER).values_list("id", flat=True))
    assert any(c.author_id in customer_authors for c in comments)
    assert not any(c.internal and c.author_id in customer_authors for c in comments)

    attachments = await Attachment.all()
    assert 3 <= len(attachments) <= 40
    for attachment in attachments:
        data = store_for(settings).read_bytes(attachment.storage_key)
        assert len(data) == attachment.size
        if attachment.content_type == "application/pdf":  # an inspection report
            assert data.startswith(b"%PDF-")
            continue
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert attachment.content_type == "image/png"


async def test_a_demo_customer_user_sees_only_their_tickets_and_no_internal_comments(settings, gql):
    await seed_demo(settings)
    for user in await CustomerUser.all().prefetch_related("account"):
        object_ids = set(await CustomerUserObject.filter(customer_user_id=user.id).values_list("object_id", flat=True))
        type_ids = set(
            await CustomerTicketType.filter(customer_id=user.customer_id).values_list("ticket_type_id", flat=True)
        )
        expected = set(
            await Ticket.filter(object_id__in=object_ids, ticket_type_id__in=type_ids).values_list("id", flat=True)
        )
        assert expected  # the demo gives every portal user something to look at

        viewer = gql.as_viewer(token_for(settings, user.account))
        seen: dict[int, list[int]] = {}
        after = None
        while True:
            data = (await viewer.ok(TICKETS, {"after": after}))["tickets"]
            assert data["totalCount"] == len(expected)
            for edge in data["edges"]:
                node = edge["node"]
                assert node["ticketType"]["name"] in {"Reinigungsmangel", "Schaden"}
                assert decode_global_id(node["object"]["id"])[1] in object_ids
                seen[decode_global_id(node["id"])[1]] = [
                    decode_global_id(c["node"]["id"])[1] for c in node["comments"]["edges"]
                ]
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
        assert set(seen) == expected

        public = set(await Comment.filter(ticket_id__in=expected, internal=False).values_list("id", flat=True))
        internal = set(await Comment.filter(ticket_id__in=expected, internal=True).values_list("id", flat=True))
        shown = {pk for ids in seen.values() for pk in ids}
        assert shown == public
        assert internal and not shown & internal  # there were internal ones to hide


async def test_the_demo_types_have_their_own_workflows_and_customers_close_the_loop(settings, gql):
    """Issue 18: Reinigungsmangel and Schaden with their own states, rated tickets, one reopened."""
    await seed_demo(settings)
    names = {}
    for type_name in ("Reinigungsmangel", "Schaden"):
        kind = await TicketType.get(name=type_name)
        assert kind.customer_confirmation
        names[type_name] = [s.name for s in await TicketState.filter(ticket_type_id=kind.id).order_by("position")]
    assert names == {
        "Reinigungsmangel": ["Offen", "Eingeplant", "In Arbeit", "Erledigt"],
        # "Wartet auf Kunde" stops the service-level clock (issue 26).
        "Schaden": ["Gemeldet", "Beauftragt", "Wartet auf Kunde", "Behoben"],
    }
    rated = await Ticket.filter(rating__isnull=False)
    assert len(rated) >= 10 and {t.rating for t in rated} <= {1, 2, 3, 4, 5}
    assert all(t.status is TicketStatus.DONE and t.confirmed_at for t in rated)
    reopened = await Ticket.filter(reopen_count__gt=0)
    assert len(reopened) == 1 and reopened[0].status is TicketStatus.OPEN
    assert await TicketEvent.filter(kind=TicketEventKind.REOPENED, ticket_id=reopened[0].id).exists()
    # The portal shows the ratings in the evaluation.
    user = await Account.get(email="m.brandt@stadtwerke-musterstadt.example")
    client = gql.as_viewer(token_for(settings, user))
    data = await client.ok("{ objects { edges { node { ticketEvaluation { ratedCount averageRating } } } } }")
    assert sum(e["node"]["ticketEvaluation"]["ratedCount"] for e in data["objects"]["edges"]) > 0
