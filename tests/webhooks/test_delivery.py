"""Delivery: signatures a partner's verifier accepts, outages and retries, 410 Gone, failing for days,
redelivery, and a rolled-back change sending nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import standardwebhooks
from standardwebhooks.exceptions import WebhookVerificationError

import resolvers.notifications
from core.ids import to_global_id as gid
from mail.sender import deliver_due as deliver_mail
from models.notifications import NotificationKind, OutboxMail
from models.webhooks import Webhook, WebhookDelivery
from tests.webhooks.conftest import (
    COMMENT,
    CREATE_TICKET,
    REDELIVER,
    UPDATE_WEBHOOK,
    WEBHOOKS,
    deliveries,
    make_webhook,
    run_round,
)
from webhooks.sender import DISABLE_AFTER, MAX_ATTEMPTS, latest_retry, retry_delay, utcnow


async def portal_ticket(world, title: str = "Flur nicht gewischt") -> str:
    created = await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": title,
            }
        },
    )
    return created["createTicket"]["id"]


async def comments(world, ticket_id: str, count: int) -> None:
    for n in range(count):
        await world.as_(world.staff).ok(COMMENT, {"input": {"ticketId": ticket_id, "body": f"Nachricht {n + 1}"}})


async def test_signed_per_standard_webhooks_and_verified_by_its_package(world, receiver, hook_settings, capsys):
    hook = await make_webhook(world, receiver.url(), ["TICKET_CREATED"], gid("CustomerUser", world.alice.pk))
    ticket_id = await portal_ticket(world)
    assert (await run_round(hook_settings)).delivered == 1
    [got] = receiver.to("/hook")
    verifier = standardwebhooks.Webhook(hook["secret"])
    verified = verifier.verify(got.body, got.headers)
    assert verified["type"] == "TICKET_CREATED" and verified["data"]["ticket"]["id"] == ticket_id
    ticket = verified["data"]["ticket"]
    assert set(ticket) >= {
        "id",
        "number",
        "title",
        "status",
        "createdAt",
        "updatedAt",
        "doneAt",
        "object",
        "ticketType",
    }
    assert ticket["object"] == {"id": gid("SiteObject", world.a1.id), "name": "Rathaus"}
    assert got.headers["webhook-id"].startswith("msg_") and got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"
    [listed] = await deliveries(world, hook["webhook"]["id"])
    assert listed["messageId"] == got.headers["webhook-id"] and listed["status"] == "DELIVERED"

    # Anything changed, or another secret: the partner's verifier refuses it.
    with pytest.raises(WebhookVerificationError):
        verifier.verify(got.body.replace(b"Flur", b"Dach"), got.headers)
    with pytest.raises(WebhookVerificationError):
        standardwebhooks.Webhook("whsec_" + "A" * 44).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(got.body, {**got.headers, "webhook-id": "msg_other"})

    with capsys.disabled():
        shown = {
            k: v for k, v in got.headers.items() if k.startswith("webhook-") or k in ("content-type", "user-agent")
        }
        print("\n--- one signed delivery as the receiver got it ---")
        print(f"POST {got.path}")
        for name, value in shown.items():
            print(f"{name}: {value}")
        print()
        print(got.body.decode())
        print(
            f"--- standardwebhooks.Webhook(secret).verify(body, headers) -> type={verified['type']!r}, "
            f"ticket number {verified['data']['ticket']['number']}; tampered body -> WebhookVerificationError"
        )


async def test_a_delivery_survives_the_receiver_being_down_for_several_attempts(world, receiver, hook_settings):
    hook = await make_webhook(world, receiver.url(), ["COMMENT_ADDED"], gid("Employee", world.staff.pk))
    ticket_id = await portal_ticket(world)
    await comments(world, ticket_id, 3)
    receiver.stop()
    t0 = utcnow()
    now = t0
    for attempt in range(1, 6):  # five attempts while the receiver is down
        result = await run_round(hook_settings, now=now)
        assert (result.claimed, result.delivered, result.retrying) == (3, 0, 3), attempt
        too_early = await run_round(hook_settings, now=now + retry_delay(attempt) - timedelta(seconds=1))
        assert too_early.claimed == 0  # the back-off (with its jitter) is respected
        now += latest_retry(attempt)
    listed = await deliveries(world, hook["webhook"]["id"])
    assert {(d["status"], d["attempts"], d["httpStatus"]) for d in listed} == {("RETRYING", 5, None)}
    assert all("Connect" in d["lastError"] and d["nextAttemptAt"] for d in listed), listed[0]["lastError"]
    assert (await Webhook.get(id=1)).failing_since is not None

    receiver.start()  # back, on the same port
    result = await run_round(hook_settings, now=now)
    assert (result.claimed, result.delivered) == (3, 3)
    assert (await run_round(hook_settings, now=now + timedelta(days=4))).claimed == 0
    bodies = sorted(r.json["data"]["comment"]["body"] for r in receiver.to("/hook"))
    assert bodies == ["Nachricht 1", "Nachricht 2", "Nachricht 3"]  # each once
    listed = await deliveries(world, hook["webhook"]["id"])
    assert {(d["status"], d["attempts"], d["httpStatus"], d["nextAttemptAt"]) for d in listed} == {
        ("DELIVERED", 6, 200, None)
    }
    assert {d["messageId"] for d in listed} == {r.headers["webhook-id"] for r in receiver.to("/hook")}
    assert (await Webhook.get(id=1)).failing_since is None


def test_the_retries_span_about_three_days():
    total = sum((retry_delay(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(days=2.5) < total < timedelta(days=4), total
    assert retry_delay(1) == timedelta(seconds=30) and retry_delay(3) == timedelta(minutes=2)
    assert latest_retry(40) == retry_delay(40) * 1.2 and retry_delay(40) == timedelta(hours=12)


async def test_410_gone_disables_the_webhook_and_mails_its_creator(world, receiver, hook_settings):
    receiver.answers["/gone"] = 410
    hook = await make_webhook(world, receiver.url("/gone"), ["COMMENT_ADDED"], gid("Employee", world.staff.pk))
    ticket_id = await portal_ticket(world)
    await comments(world, ticket_id, 1)
    result = await run_round(hook_settings)
    assert (result.failed, result.disabled) == (1, [1])
    [delivery] = await deliveries(world, hook["webhook"]["id"])
    assert (delivery["status"], delivery["httpStatus"], delivery["attempts"]) == ("FAILED", 410, 1)
    assert len(delivery["lastError"]) < 600  # the answer is read up to a cap, and kept shorter
    listed = (await world.as_(world.admin).ok(WEBHOOKS))["webhooks"]["edges"][0]["node"]
    assert listed["enabled"] is False and "410" in listed["disabledReason"]

    await comments(world, ticket_id, 1)  # a disabled hook is not queued for
    assert await WebhookDelivery.all().count() == 1
    assert len(receiver.to("/gone")) == 1

    [mail] = await OutboxMail.filter(kind=NotificationKind.WEBHOOK_DISABLED)
    assert mail.recipient_id == world.admin.account.id and receiver.url("/gone") in mail.subject
    sent = await deliver_mail(hook_settings)  # no SMTP URL: written to the log, and it renders
    assert sent.sent >= 1


async def test_a_webhook_failing_for_days_is_disabled_and_its_creator_mailed(world, receiver, hook_settings):
    receiver.answers["/broken"] = 500
    hook = await make_webhook(world, receiver.url("/broken"), ["COMMENT_ADDED"], gid("Employee", world.staff.pk))
    ticket_id = await portal_ticket(world)
    await comments(world, ticket_id, 1)
    t0 = utcnow()
    now, rounds = t0, 0
    while (await Webhook.get(id=1)).enabled:
        result = await run_round(hook_settings, now=now)
        assert result.claimed == 1
        rounds += 1
        now = (await WebhookDelivery.get(id=1)).next_attempt_at
    # One delivery: one of its last attempts (3 days in, depending on the jitter) finds the hook
    # failing for DISABLE_AFTER; a delivery with tries left is held until the hook is enabled again.
    assert now - t0 >= DISABLE_AFTER and rounds in (MAX_ATTEMPTS - 1, MAX_ATTEMPTS), (now - t0, rounds)
    assert len(receiver.to("/broken")) == rounds
    [delivery] = await deliveries(world, hook["webhook"]["id"])
    status = "FAILED" if rounds == MAX_ATTEMPTS else "RETRYING"
    assert (delivery["status"], delivery["httpStatus"], delivery["attempts"]) == (status, 500, rounds)
    assert (await run_round(hook_settings, now=now + timedelta(days=10))).claimed == 0
    [mail] = await OutboxMail.filter(kind=NotificationKind.WEBHOOK_DISABLED)
    assert "failed since" in mail.context["reason"] and mail.recipient_id == world.admin.account.id

    # Disabled, it is queued for no more; enabled again and the delivery redelivered, it arrives.
    await comments(world, ticket_id, 1)
    assert await WebhookDelivery.all().count() == 1
    receiver.answers["/broken"] = 200
    enabled = await world.as_(world.admin).ok(UPDATE_WEBHOOK, {"input": {"id": hook["webhook"]["id"], "enabled": True}})
    assert enabled["updateWebhook"]["enabled"] is True and enabled["updateWebhook"]["disabledReason"] is None
    await world.as_(world.admin).ok(REDELIVER, {"id": delivery["id"]})
    assert (await run_round(hook_settings, now=now + timedelta(days=1))).delivered == 1


async def test_redelivery_sends_the_same_message_again(world, receiver, hook_settings):
    hook = await make_webhook(world, receiver.url(), ["TICKET_CREATED"], gid("Employee", world.staff.pk))
    await portal_ticket(world)
    await run_round(hook_settings)
    [delivery] = await deliveries(world, hook["webhook"]["id"])
    again = await world.as_(world.admin).ok(REDELIVER, {"id": delivery["id"]})
    assert again["redeliverWebhook"]["status"] == "PENDING"
    await run_round(hook_settings)
    first, second = receiver.to("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["messageId"]
    standardwebhooks.Webhook(hook["secret"]).verify(second.body, second.headers)
    [delivery] = await deliveries(world, hook["webhook"]["id"])
    assert (delivery["status"], delivery["attempts"]) == ("DELIVERED", 2)


async def test_a_rolled_back_change_sends_nothing(world, receiver, hook_settings, monkeypatch):
    await make_webhook(world, receiver.url(), ["COMMENT_ADDED"], gid("Employee", world.staff.pk))
    ticket_id = await portal_ticket(world)

    async def crash(connection, *args):
        assert await WebhookDelivery.filter().using_db(connection).count() == 1  # written, inside
        raise RuntimeError("crash after the webhook outbox write")

    monkeypatch.setattr(resolvers.notifications, "queue_comment_added", crash)
    body = await world.as_(world.staff)(COMMENT, {"input": {"ticketId": ticket_id, "body": "Nie gesendet"}})
    assert body["errors"]
    assert await WebhookDelivery.all().count() == 0
    assert (await run_round(hook_settings)).claimed == 0
    assert receiver.to("/hook") == []
