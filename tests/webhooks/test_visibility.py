"""A webhook sees what its account may see, decided per event when it is sent (from the refused side)."""

from __future__ import annotations

from core.ids import to_global_id as gid
from models.accounts import Account
from models.webhooks import WebhookDelivery, WebhookDeliveryStatus
from tests.webhooks.conftest import (
    COMMENT,
    CREATE_TICKET,
    EDIT_COMMENT,
    STATUS,
    deliveries,
    make_webhook,
    run_round,
)

ALL_TICKET_EVENTS = ["TICKET_CREATED", "TICKET_STATUS_CHANGED", "COMMENT_ADDED", "COMMENT_EDITED"]
SECRET_TEXT = "GEHEIM-intern-Kalkulation"


async def test_a_customer_bound_webhook_never_receives_an_internal_comment(world, receiver, hook_settings):
    alice_hook = await make_webhook(
        world, receiver.url("/alice"), ALL_TICKET_EVENTS, gid("CustomerUser", world.alice.pk), "Alice's CAFM"
    )
    await make_webhook(world, receiver.url("/staff"), ALL_TICKET_EVENTS, gid("Employee", world.staff.pk))
    assert alice_hook["secret"].startswith("whsec_")
    assert alice_hook["webhook"]["account"] == {
        "__typename": "CustomerUser",
        "id": gid("CustomerUser", world.alice.pk),
        "name": "Alice",
    }

    # Alice's own portal ticket on a1, an internal and a public comment by staff, an internal one edited.
    created = await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Flur nicht gewischt",
            }
        },
    )
    ticket_id = created["createTicket"]["id"]
    staff = world.as_(world.staff)
    internal = await staff.ok(COMMENT, {"input": {"ticketId": ticket_id, "body": SECRET_TEXT, "internal": True}})
    await staff.ok(COMMENT, {"input": {"ticketId": ticket_id, "body": "Wir kommen morgen.", "internal": False}})
    await staff.ok(EDIT_COMMENT, {"input": {"id": internal["addComment"]["id"], "body": SECRET_TEXT + " (neu)"}})
    await staff.ok(STATUS, {"id": ticket_id, "status": "IN_PROGRESS"})
    # Not Alice's: another customer's ticket (b1) and an absence request on her object.
    for site, kind, title, by in (
        (world.b1, world.damage, "Kita-Schaden", world.carl),
        (world.a1, world.vacation, "Urlaub HR", world.hr),
    ):
        other = await world.as_(by).ok(
            CREATE_TICKET,
            {
                "input": {
                    "objectId": gid("SiteObject", site.id),
                    "ticketTypeId": gid("TicketType", kind.id),
                    "title": title,
                }
            },
        )
        await world.as_(world.admin).ok(COMMENT, {"input": {"ticketId": other["createTicket"]["id"], "body": "x"}})

    result = await run_round(hook_settings)
    assert result.claimed == 2 * 9  # every event queued for both hooks; the payload decides, not the queue

    alice_bodies = [r.body.decode() for r in receiver.to("/alice")]
    assert alice_bodies and all(SECRET_TEXT not in body for body in alice_bodies)
    assert all("Kita-Schaden" not in body and "Urlaub HR" not in body for body in alice_bodies)
    alice = [r.json for r in receiver.to("/alice")]
    assert sorted(p["type"] for p in alice) == ["COMMENT_ADDED", "TICKET_CREATED", "TICKET_STATUS_CHANGED"]
    comment = next(p for p in alice if p["type"] == "COMMENT_ADDED")["data"]["comment"]
    assert comment["body"] == "Wir kommen morgen." and "internal" not in comment  # refused field left out
    assert all(p["data"]["ticket"]["id"] == ticket_id for p in alice)

    staff_payloads = [r.json for r in receiver.to("/staff")]
    internal_seen = [
        p["data"]["comment"]
        for p in staff_payloads
        if p["type"].startswith("COMMENT") and p["data"]["comment"]["internal"]
    ]
    assert [c["body"] for c in internal_seen] == [SECRET_TEXT + " (neu)", SECRET_TEXT + " (neu)"]  # built when sent
    assert all("Urlaub HR" not in r.body.decode() for r in receiver.to("/staff"))  # no MANAGE_ABSENCES

    listed = await deliveries(world, alice_hook["webhook"]["id"])
    skipped = [d for d in listed if d["status"] == "SKIPPED"]
    assert len(skipped) == 6 and all("not visible" in d["lastError"] for d in skipped)
    assert all(d["attempts"] == 0 and d["httpStatus"] is None for d in skipped)
    delivered = [d for d in listed if d["status"] == "DELIVERED"]
    assert len(delivered) == 3 and all(d["httpStatus"] == 200 and d["attempts"] == 1 for d in delivered)


async def test_visibility_is_decided_when_sent_not_when_queued(world, receiver, hook_settings):
    """Alice loses object a1 (or her account) between the change and the delivery: nothing goes out."""
    hook = await make_webhook(world, receiver.url("/alice"), ["COMMENT_ADDED"], gid("CustomerUser", world.alice.pk))
    created = await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Fenster",
            }
        },
    )
    await world.as_(world.staff).ok(COMMENT, {"input": {"ticketId": created["createTicket"]["id"], "body": "eins"}})
    unassign = """mutation($u: ID!) { setCustomerUserObjects(customerUserId: $u, objectIds: []) { id } }"""
    await world.as_(world.admin).ok(unassign, {"u": gid("CustomerUser", world.alice.pk)})
    await run_round(hook_settings)
    assert receiver.to("/alice") == []
    assert [d["status"] for d in await deliveries(world, hook["webhook"]["id"])] == ["SKIPPED"]

    await Account.filter(id=world.alice.account.id).update(is_active=False)
    await world.as_(world.staff).ok(COMMENT, {"input": {"ticketId": created["createTicket"]["id"], "body": "zwei"}})
    await run_round(hook_settings)
    assert receiver.to("/alice") == []
    last = await WebhookDelivery.filter().order_by("-id").first()
    assert (
        last is not None and last.status is WebhookDeliveryStatus.SKIPPED and "deactivated" in (last.last_error or "")
    )
