"""An event is authorised for all its subscribers at once (issue 25), and still only as each scope allows.

No server here: `viewers_seeing` and `fan_out` are called on the test database with many
viewers, and their answers are compared with the one-viewer scopes (`visible_tickets`,
`visible_comments`, `visible_attachments`) asked viewer by viewer. The statements they run
are counted: a constant number per event, however many viewers are subscribed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.settings import Settings
from live.hub import LiveEvent, load_events
from models.accounts import Account
from models.customers import CustomerTicketType
from models.tickets import Ticket, TicketEvent, TicketEventKind
from permissions.tickets import (
    may_see_tickets_of,
    viewers_seeing,
    visible_attachments,
    visible_comments,
    visible_tickets,
)
from permissions.viewer import Viewer, load_viewers
from resolvers.tickets.live import REMOVED, Change, TicketSubscriber, fan_out
from schema.tickets.types import TICKET_ROW
from tests.conftest import World
from tests.factories import Person, make_attachment, make_comment, make_customer_user, make_ticket, viewer_of
from tests.statements import counting_statements


async def many_viewers(world: World, settings: Settings, extra: int) -> list[Viewer]:
    """The world's people and `extra` more customer users of A (on a1, on a2, on none in turn)."""
    people = [world.admin, world.staff, world.hr, world.petra, world.alice, world.bob, world.carl]
    for i in range(extra):
        objects = [[world.a1], [world.a2], []][i % 3]
        people.append(await make_customer_user(settings, world.a, objects=objects, name=f"Kunde {i}"))
    return [await viewer_of(person) for person in people]


async def one_by_one(viewers: list[Viewer], finds: Callable[[Viewer], Any]) -> set[Viewer]:
    return {viewer for viewer in viewers if await finds(viewer).exists()}


async def test_many_viewers_get_the_one_viewer_answers_in_a_constant_number_of_statements(
    world: World, settings: Settings
) -> None:
    viewers = await many_viewers(world, settings, extra=30)
    on_a1 = await make_ticket(world.a1, world.defect, "Tür", by=world.alice)
    on_b1 = await make_ticket(world.b1, world.damage, "Sandkasten", by=world.carl)
    absence = await make_ticket(world.a1, world.vacation, "Urlaub", by=world.hr)
    public = await make_comment(on_a1, world.staff, "Wir kommen morgen")
    internal = await make_comment(on_a1, world.staff, "Intern: teuer", internal=True)
    photo = await make_attachment(settings, on_a1, world.alice, "tuer.txt", b"klemmt")
    for ticket in (on_a1, on_b1, absence):
        expected = await one_by_one(viewers, lambda v, t=ticket: visible_tickets(v).filter(id=t.id))
        with counting_statements() as counter:
            assert await viewers_seeing(viewers, ticket.id) == expected
        # One statement per kind of viewer (customer user, employee, one per permission set), not per viewer.
        assert counter.count <= len({v.query_shape() for v in viewers})
    for comment in (public, internal):
        expected = await one_by_one(viewers, lambda v, c=comment: visible_comments(v).filter(id=c.id))
        assert await viewers_seeing(viewers, on_a1.id, comment_id=comment.id) == expected
    expected = await one_by_one(viewers, lambda v: visible_attachments(v).filter(id=photo.id))
    assert await viewers_seeing(viewers, on_a1.id, attachment_id=photo.id) == expected

    alice, carl = await viewer_of(world.alice), await viewer_of(world.carl)
    assert alice in await viewers_seeing(viewers, on_a1.id, comment_id=public.id)
    internal_readers = await viewers_seeing(viewers, on_a1.id, comment_id=internal.id)
    assert internal_readers and not any(v.is_customer_user for v in internal_readers)
    assert carl not in await viewers_seeing(viewers, on_a1.id)
    assert not any(v.is_customer_user for v in await viewers_seeing(viewers, absence.id))
    # The test without a query agrees: a customer user never sees another customer's tickets.
    assert not may_see_tickets_of(carl, world.a.id) and may_see_tickets_of(alice, world.a.id)


def subscriber(viewer: Viewer, object_id: int | None = None, ticket_id: int | None = None) -> TicketSubscriber:
    return TicketSubscriber(100, lambda: viewer, TICKET_ROW.values, object_id, ticket_id)


def delivered(s: TicketSubscriber) -> list[Change]:
    return list(s.inbox or ())


async def last_event(ticket: Ticket) -> LiveEvent:
    row = await TicketEvent.filter(ticket_id=ticket.id).order_by("-id").first()
    assert row is not None
    (event,) = await load_events(ids=[row.id])
    return event


async def commented(ticket: Ticket, author: Person, body: str, *, internal: bool = False) -> LiveEvent:
    """A comment and its history entry naming it, as `addComment` records them."""
    comment = await make_comment(ticket, author, body, internal=internal)
    await TicketEvent.filter(ticket_id=ticket.id, kind=TicketEventKind.COMMENT_ADDED, comment_id=None).update(
        comment_id=comment.id
    )
    return await last_event(ticket)


async def test_fan_out_authorises_an_event_once_for_all_subscribers_and_refuses_as_the_scopes_do(
    world: World, settings: Settings
) -> None:
    viewers = await many_viewers(world, settings, extra=30)
    # Three sockets per viewer, as an account's tabs would open them.
    subscribers = [subscriber(v) for v in viewers for _ in range(3)]
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice)
    public = await commented(ticket, world.staff, "Wir kommen morgen")
    assert public.customer_id == world.a.id
    with counting_statements() as counter:
        await fan_out(public, subscribers)
    # Authorising the ticket and the comment, loading each once: not one statement per viewer.
    assert counter.count <= 4, counter.count
    seeing = await one_by_one(viewers, lambda v: visible_comments(v).filter(ticket_id=ticket.id))
    for s in subscribers:
        viewer = s.viewer_of()
        changes = delivered(s)
        if viewer in seeing:
            assert [c.kind for c in changes] == ["COMMENT_ADDED"]
            assert changes[0].comment is not None and changes[0].comment.body == "Wir kommen morgen"
        else:
            assert changes == [], viewer
        s.inbox = None
    assert any(s.viewer_of().customer_id == world.b.id for s in subscribers)  # Carl was asked, and got nothing

    await fan_out(await commented(ticket, world.staff, "Intern: teuer", internal=True), subscribers)
    for s in subscribers:
        changes = delivered(s)
        if s.viewer_of().is_customer_user:
            assert changes == []  # an internal comment never reaches a customer user
        else:
            assert [c.comment.body for c in changes if c.comment] == ["Intern: teuer"]
        s.inbox = None

    # The type disabled for customer A: who had seen the ticket gets one REMOVED, then nothing.
    await CustomerTicketType.filter(customer_id=world.a.id).delete()
    later = await commented(ticket, world.staff, "Nicht mehr für Kunden")
    await fan_out(later, subscribers)
    for s in subscribers:
        changes = delivered(s)
        if s.viewer_of().is_customer_user:
            had_seen = s.viewer_of() in seeing
            assert [c.kind for c in changes] == ([REMOVED] if had_seen else [])
            assert all(c.ticket is None and c.comment is None for c in changes)
        else:
            assert [c.kind for c in changes] == ["COMMENT_ADDED"]
        s.inbox = None
    await fan_out(later, subscribers)  # the same event again (a catch-up): no second REMOVED
    assert not any(delivered(s) for s in subscribers if s.viewer_of().is_customer_user)


async def test_subscription_arguments_and_other_customers_cost_no_query(world: World, settings: Settings) -> None:
    carl = await viewer_of(world.carl)
    ticket = await make_ticket(world.a1, world.defect, "Licht", by=world.alice)
    other = await make_ticket(world.a2, world.defect, "Tor", by=world.bob)
    alice = await viewer_of(world.alice)
    only_other = [subscriber(alice, ticket_id=other.id), subscriber(alice, object_id=world.a2.id)]
    event = await last_event(ticket)
    with counting_statements() as counter:
        await fan_out(event, [subscriber(carl) for _ in range(50)] + only_other)
    assert counter.count == 0


async def test_the_token_recheck_loads_every_sessions_viewer_in_one_statement(world: World, settings: Settings) -> None:
    people = [world.admin, world.staff, world.hr, world.petra, world.alice, world.bob, world.carl]
    sessions = [(p.account.id, p.account.token_version) for p in people]
    with counting_statements() as counter:
        viewers = await load_viewers([*sessions, (world.alice.account.id, world.alice.account.token_version + 1)])
    assert counter.count == 1
    # The very viewers a request would get; a stale token version names none.
    assert viewers == {session: await viewer_of(p) for session, p in zip(sessions, people, strict=True)}
    await Account.filter(id=world.bob.account.id).update(is_active=False)
    assert (world.bob.account.id, world.bob.account.token_version) not in await load_viewers(sessions)
