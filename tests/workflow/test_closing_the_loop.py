"""The customer closes the loop: confirm (with a rating) or reopen a DONE ticket of a confirming type,
within the window; refused otherwise. Refusals first."""

from __future__ import annotations

from mail.render import render
from models.notifications import NotificationKind, OutboxMail
from models.tickets import TicketEvent, TicketEventKind, TicketStatus
from tests.factories import make_ticket
from tests.workflow.conftest import CONFIRM, REOPEN, TICKET, Loop, gid


def refusal(body: dict) -> tuple[str, str | None]:
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("reason")


async def test_employees_never_confirm_or_reopen(loop: Loop):
    await loop.done()
    for person in (loop.world.staff, loop.world.admin):
        client = loop.world.as_(person)
        assert refusal(await client(CONFIRM, {"id": loop.id, "rating": 5}))[0] == "FORBIDDEN"
        assert refusal(await client(REOPEN, {"id": loop.id, "reason": "x"}))[0] == "FORBIDDEN"
    row = await loop.row()
    assert (row.status, row.confirmed_at, row.rating) == (TicketStatus.DONE, None, None)


async def test_another_customers_user_does_not_find_the_ticket(loop: Loop):
    await loop.done()
    for person in (loop.world.carl, loop.world.bob):  # customer B; customer A but another object
        client = loop.world.as_(person)
        assert refusal(await client(CONFIRM, {"id": loop.id, "rating": 5}))[0] == "NOT_FOUND"
        assert refusal(await client(REOPEN, {"id": loop.id, "reason": "x"}))[0] == "NOT_FOUND"
    assert (await loop.row()).confirmed_at is None


async def test_not_done_is_not_confirmable(loop: Loop):
    alice = loop.world.as_(loop.world.alice)
    assert refusal(await alice(CONFIRM, {"id": loop.id, "rating": 5})) == ("FORBIDDEN", "NOT_CONFIRMABLE")
    assert refusal(await alice(REOPEN, {"id": loop.id, "reason": "x"})) == ("FORBIDDEN", "NOT_CONFIRMABLE")
    can = (await alice.ok(TICKET, {"id": loop.id}))["node"]["viewerCan"]
    assert (can["confirmResolution"], can["reopen"], can["availableStates"]) == (False, False, [])


async def test_a_type_without_confirmation_is_not_confirmable(loop: Loop):
    world = loop.world
    ticket = await make_ticket(world.a1, world.defect, "Fenster", by=world.alice, assignee=world.staff)
    await world.as_(world.staff).ok(
        "mutation($id: ID!) { setTicketStatus(id: $id, status: DONE) { id } }", {"id": gid("Ticket", ticket.id)}
    )
    alice = world.as_(world.alice)
    body = await alice(CONFIRM, {"id": gid("Ticket", ticket.id), "rating": 5})
    assert refusal(body) == ("FORBIDDEN", "NOT_CONFIRMABLE")
    body = await alice(REOPEN, {"id": gid("Ticket", ticket.id), "reason": "nein"})
    assert refusal(body) == ("FORBIDDEN", "NOT_CONFIRMABLE")


async def test_after_the_window_both_are_refused_and_nothing_changes(loop: Loop):
    await loop.done(days_ago=7.01)
    alice = loop.world.as_(loop.world.alice)
    assert refusal(await alice(CONFIRM, {"id": loop.id, "rating": 1})) == ("FORBIDDEN", "WINDOW_CLOSED")
    assert refusal(await alice(REOPEN, {"id": loop.id, "reason": "x"})) == ("FORBIDDEN", "WINDOW_CLOSED")
    can = (await alice.ok(TICKET, {"id": loop.id}))["node"]["viewerCan"]
    assert (can["confirmResolution"], can["reopen"]) == (False, False)
    row = await loop.row()
    assert (row.status, row.rating, row.reopen_count, row.confirmed_at) == (TicketStatus.DONE, None, 0, None)
    assert not await TicketEvent.filter(ticket_id=row.id, kind__in=["CONFIRMED", "REOPENED"]).exists()


async def test_bad_rating_or_feedback_stores_nothing(loop: Loop):
    await loop.done()
    alice = loop.world.as_(loop.world.alice)
    for variables, field in (
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"feedback": "x" * 2001}, "feedback"),
    ):
        body = await alice(CONFIRM, {"id": loop.id, **variables})
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    body = await alice(REOPEN, {"id": loop.id, "reason": "  "})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    row = await loop.row()
    assert (row.confirmed_at, row.status) == (None, TicketStatus.DONE)


async def test_a_customer_user_confirms_with_a_rating_once(loop: Loop):
    await loop.done(days_ago=6.9)
    alice = loop.world.as_(loop.world.alice)
    before = (await alice.ok(TICKET, {"id": loop.id}))["node"]["viewerCan"]
    assert (before["confirmResolution"], before["reopen"]) == (True, True)

    ticket = (await alice.ok(CONFIRM, {"id": loop.id, "rating": 4, "feedback": "Gut, aber spät."}))[
        "confirmTicketResolution"
    ]
    assert (ticket["status"], ticket["rating"], ticket["reopenCount"]) == ("DONE", 4, 0)
    assert ticket["confirmedAt"] is not None
    assert (ticket["viewerCan"]["confirmResolution"], ticket["viewerCan"]["reopen"]) == (False, False)

    # Feedback: employees only; the customer gets null with its error, the rest of the ticket stays.
    body = await alice("query($id: ID!) { node(id: $id) { ... on Ticket { rating feedback } } }", {"id": loop.id})
    assert body["data"]["node"] == {"rating": 4, "feedback": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["node", "feedback"]
    staff = loop.world.as_(loop.world.staff)
    seen = await staff.ok("query($id: ID!) { node(id: $id) { ... on Ticket { rating feedback } } }", {"id": loop.id})
    assert seen["node"] == {"rating": 4, "feedback": "Gut, aber spät."}

    # Once confirmed, neither she nor her neighbour can confirm again or reopen.
    neighbour = loop.world.as_(loop.neighbour)
    assert refusal(await neighbour(CONFIRM, {"id": loop.id, "rating": 1})) == ("FORBIDDEN", "NOT_CONFIRMABLE")
    assert refusal(await neighbour(REOPEN, {"id": loop.id, "reason": "x"})) == ("FORBIDDEN", "NOT_CONFIRMABLE")
    assert (await loop.row()).rating == 4
    event = await TicketEvent.get(ticket_id=loop.ticket.id, kind=TicketEventKind.CONFIRMED)
    assert (event.actor_id, event.to_value) == (loop.world.alice.account.id, "4")
    # A rating of 4 is not low: no mail to the assignee.
    assert not await OutboxMail.filter(kind=NotificationKind.RATED_LOW).exists()


async def test_another_customer_user_of_the_object_reopens_within_the_window(loop: Loop):
    await loop.done(days_ago=3)
    neighbour = loop.world.as_(loop.neighbour)
    ticket = (await neighbour.ok(REOPEN, {"id": loop.id, "reason": "Die Treppe ist wieder schmutzig."}))["reopenTicket"]
    assert (ticket["status"], ticket["doneAt"], ticket["reopenCount"]) == ("OPEN", None, 1)
    assert (ticket["state"]["name"], ticket["state"]["category"], ticket["state"]["isDefault"]) == (
        "Offen",
        "OPEN",
        True,
    )
    row = await loop.row()
    assert (row.status, row.done_at, row.resolution_days, row.reopen_count) == (TicketStatus.OPEN, None, None, 1)
    # Who and why, in the history employees read.
    history = (
        await loop.world.as_(loop.world.staff).ok(
            "query($id: ID!) { node(id: $id) { ... on Ticket { history { kind fromValue toValue actor { name } } } } }",
            {"id": loop.id},
        )
    )["node"]["history"]
    reopened = [h for h in history if h["kind"] == "REOPENED"]
    assert reopened == [
        {
            "kind": "REOPENED",
            "fromValue": "Erledigt",
            "toValue": "Die Treppe ist wieder schmutzig.",
            "actor": {"name": "Nachbarin"},
        }
    ]
    assert {"kind": "STATUS_CHANGED", "fromValue": "DONE", "toValue": "OPEN", "actor": {"name": "Nachbarin"}} in history
    # The assignee is mailed, with the reason.
    mail = await OutboxMail.get(kind=NotificationKind.REOPENED)
    assert mail.recipient_id == loop.world.staff.account.id
    assert mail.context["reason"] == "Die Treppe ist wieder schmutzig."
    text = render("REOPENED", mail.context, "de", "Jonas", "https://x.test").text
    assert "Nachbarin hat das Ticket wieder geöffnet." in text and "> Die Treppe ist wieder schmutzig." in text
    # Open again, it cannot be reopened twice.
    assert refusal(await neighbour(REOPEN, {"id": loop.id, "reason": "x"})) == ("FORBIDDEN", "NOT_CONFIRMABLE")


async def test_a_low_rating_mails_the_assignee_and_never_the_customer(loop: Loop):
    await loop.done()
    alice = loop.world.as_(loop.world.alice)
    await alice.ok(CONFIRM, {"id": loop.id, "rating": 2, "feedback": "Nur halb gemacht."})
    mails = await OutboxMail.filter(kind=NotificationKind.RATED_LOW)
    assert [(m.recipient_id, m.context["rating"], m.context["feedback"]) for m in mails] == [
        (loop.world.staff.account.id, 2, "Nur halb gemacht.")
    ]
    for mail in await OutboxMail.filter(audience="CUSTOMER_USER"):
        assert "Nur halb gemacht." not in str(mail.context)
    german = render("RATED_LOW", mails[0].context, "de", "Jonas", "https://x.test")
    english = render("RATED_LOW", mails[0].context, "en", "Jonas", "https://x.test")
    assert "mit 2 von 5 bewertet" in german.text and "> Nur halb gemacht." in german.text
    assert "rated it 2 out of 5" in english.text and "Low rating" in english.subject


async def test_the_done_mail_of_a_confirming_type_names_the_last_day(loop: Loop):
    await loop.done()
    mail = await OutboxMail.get(kind=NotificationKind.STATUS_CHANGED, recipient_id=loop.world.alice.account.id)
    row = await loop.row()
    assert row.done_at is not None
    from datetime import timedelta

    assert mail.context["confirm_until"] == (row.done_at + timedelta(days=7)).date().isoformat()
    day = mail.context["confirm_until"]
    german = render("STATUS_CHANGED", mail.context, "de", "Alice", "https://x.test").text
    english = render("STATUS_CHANGED", mail.context, "en", "Alice", "https://x.test").text
    assert f"bis zum {day[8:10]}.{day[5:7]}.{day[:4]}" in german
    assert f"by {day}" in english
