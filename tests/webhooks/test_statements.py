"""The cost a write pays for webhooks: bounded, whatever the number of webhooks."""

from __future__ import annotations

from core.ids import to_global_id as gid
from models.webhooks import WebhookDelivery
from tests.statements import count_statements
from tests.webhooks.conftest import COMMENT, CREATE_TICKET, make_webhook


async def test_queueing_costs_one_select_and_one_insert_per_history_entry(world, receiver, capsys):
    created = await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Zähler",
            }
        },
    )
    staff = world.as_(world.staff)
    comment = {"input": {"ticketId": created["createTicket"]["id"], "body": "Hallo"}}
    await staff.ok(COMMENT, comment)  # warm: the compiled plan and caches
    counts = {}
    counts[0], _ = await count_statements(staff, COMMENT, comment)
    await make_webhook(world, receiver.url(), ["TICKET_CREATED"], gid("Employee", world.staff.pk))  # not subscribed
    counts["other"], _ = await count_statements(staff, COMMENT, comment)
    for n in range(1, 26):
        await make_webhook(world, receiver.url(f"/{n}"), ["COMMENT_ADDED"], gid("Employee", world.staff.pk))
        if n in (1, 25):
            counts[n], _ = await count_statements(staff, COMMENT, comment)
    assert await WebhookDelivery.filter(event="COMMENT_ADDED").count() == 1 + 25
    assert counts["other"] == counts[0]  # the SELECT runs either way, finds nothing
    assert counts[1] == counts[25] == counts[0] + 1  # one INSERT for all matching webhooks
    with capsys.disabled():
        print(
            f"\naddComment statements: no matching webhook {counts[0]}, one {counts[1]}, 25 {counts[25]} "
            "(the queue's SELECT is inside the first number)"
        )
