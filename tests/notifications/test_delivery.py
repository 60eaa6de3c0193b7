"""Delivery: outages and retries, rolled-back changes, the log fallback, the loop, several senders."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

import resolvers.notifications
from core.database import dialect
from mail.sender import CLAIM_LEASE, LOG_NOTE, MAX_ATTEMPTS, MailSender, claim_due, deliver_due, retry_delay, utcnow
from models.notifications import DeliveryStatus, OutboxMail
from models.tickets import Comment
from server.app import create_app
from tests.notifications.conftest import COMMENT, STATUS, SmtpServer

LIST = """query($id: ID!) { notifications(ticketId: $id) { totalCount edges { node {
  kind audience recipientEmail subject status attempts lastError note sentAt nextAttemptAt } } } }"""


async def comments(mailing, count: int) -> None:
    staff = mailing.as_(mailing.staff)
    for n in range(count):
        await staff.ok(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": f"Nachricht {n + 1}"}})


async def test_smtp_down_for_a_while_every_mail_arrives_once(mailing, mail_settings, smtp_server, capsys):
    await comments(mailing, 6)
    smtp_server.stop()
    t0 = utcnow()
    first = await deliver_due(mail_settings, now=t0)
    assert (first.claimed, first.sent, first.retrying) == (6, 0, 6)
    too_early = await deliver_due(mail_settings, now=t0 + retry_delay(1) - timedelta(seconds=1))
    assert too_early.claimed == 0
    second = await deliver_due(mail_settings, now=t0 + retry_delay(1))
    assert (second.claimed, second.sent, second.retrying) == (6, 0, 6)
    listed = await mailing.as_(mailing.admin).ok(LIST, {"id": mailing.ticket_id})
    nodes = [e["node"] for e in listed["notifications"]["edges"]]
    assert len(nodes) == 6 and all(n["status"] == "PENDING" and n["attempts"] == 2 for n in nodes)
    assert all("Connect" in n["lastError"] for n in nodes), nodes[0]["lastError"]

    smtp_server.start()  # back, on the same port
    later = t0 + retry_delay(1) + retry_delay(2)
    third = await deliver_due(mail_settings, now=later)
    assert (third.claimed, third.sent) == (6, 6)
    assert (await deliver_due(mail_settings, now=later + timedelta(days=1))).claimed == 0

    received = smtp_server.inbox.messages
    assert len(received) == 6
    assert len({m.message["Message-ID"] for m in received}) == 6
    assert sorted(m.text.split("> ")[1].splitlines()[0] for m in received) == sorted(
        f"Nachricht {n + 1}" for n in range(6)
    )
    rows = await OutboxMail.all()
    assert {(r.status, r.attempts, r.claim_token, r.last_error) for r in rows} == {(DeliveryStatus.SENT, 3, None, None)}
    with capsys.disabled():
        print(
            f"\noutage: queued 6, round 1 while down: claimed {first.claimed} sent {first.sent} "
            f"retrying {first.retrying}; before back-off: claimed {too_early.claimed}; "
            f"round 2 while down: claimed {second.claimed} sent {second.sent}; after restart: "
            f"claimed {third.claimed} sent {third.sent}; server received {len(received)} "
            f"({len({m.message['Message-ID'] for m in received})} distinct Message-IDs)"
        )


async def test_a_rolled_back_change_sends_nothing(mailing, mail_settings, inbox, monkeypatch):
    real = resolvers.notifications.queue_comment_added

    async def then_fail(connection, *args):
        await real(connection, *args)
        assert await OutboxMail.filter().using_db(connection).count() == 1  # written, inside
        raise RuntimeError("crash after the outbox write")

    monkeypatch.setattr(resolvers.notifications, "queue_comment_added", then_fail)
    body = await mailing.as_(mailing.staff)(COMMENT, {"input": {"ticketId": mailing.ticket_id, "body": "Nie gesendet"}})
    assert body["errors"]
    assert await Comment.all().count() == 0
    assert await OutboxMail.all().count() == 0
    assert (await deliver_due(mail_settings, now=utcnow() + timedelta(days=1))).claimed == 0
    assert inbox.messages == []


async def test_a_refused_recipient_fails_for_good_and_says_why(mailing, mail_settings, inbox):
    from models.accounts import Account

    await Account.filter(id=mailing.alice.account.id).update(email="bounce-alice@kunde.test")
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    result = await deliver_due(mail_settings)
    assert (result.claimed, result.failed) == (1, 1)
    listed = await mailing.as_(mailing.admin).ok(LIST, {"id": mailing.ticket_id})
    [node] = [e["node"] for e in listed["notifications"]["edges"]]
    assert node["status"] == "FAILED" and node["attempts"] == 1 and node["nextAttemptAt"] is None
    assert "550" in node["lastError"] and node["recipientEmail"] == "bounce-alice@kunde.test"
    assert (await deliver_due(mail_settings, now=utcnow() + timedelta(days=1))).claimed == 0
    assert inbox.messages == []


async def test_gives_up_after_the_last_attempt(mailing, mail_settings, smtp_server):
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    smtp_server.stop()
    at = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = await deliver_due(mail_settings, now=at)
        assert result.claimed == 1
        at += retry_delay(attempt)
    row = await OutboxMail.get()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert (await deliver_due(mail_settings, now=at + timedelta(days=1))).claimed == 0


async def test_without_smtp_url_mail_goes_to_the_log(mailing, settings, caplog):
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
    log_only = dataclasses.replace(settings, smtp_url=None)
    with caplog.at_level(logging.INFO, logger="sitedesk.mail"):
        result = await deliver_due(log_only)
    assert result.sent == 1
    assert "Flur im 2. OG nicht gewischt – Erledigt" in caplog.text
    assert "alice@kunde.test" in caplog.text
    row = await OutboxMail.get()
    assert (row.status, row.note) == (DeliveryStatus.SENT, LOG_NOTE)


async def test_login_when_the_url_has_credentials(mailing, settings):
    server = SmtpServer(users={"desk@sitedesk.test": "p@ss:w/rd"})
    server.start()
    try:
        with_login = dataclasses.replace(
            settings, smtp_url=f"smtp://desk%40sitedesk.test:p%40ss%3Aw%2Frd@127.0.0.1:{server.port}"
        )
        wrong = dataclasses.replace(settings, smtp_url=f"smtp://desk%40sitedesk.test:nope@127.0.0.1:{server.port}")
        await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
        assert (await deliver_due(wrong)).retrying == 1
        result = await deliver_due(with_login, now=utcnow() + timedelta(minutes=1))
        assert result.sent == 1
        assert server.inbox.logins == ["desk@sitedesk.test"]
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()


async def test_the_loop_runs_with_the_app_and_stops_cleanly(mailing, mail_settings, inbox):
    arrived = asyncio.Event()
    loop = asyncio.get_running_loop()
    original = inbox.handle_DATA

    async def handle_and_signal(*args):
        answer = await original(*args)
        loop.call_soon_threadsafe(arrived.set)
        return answer

    inbox.handle_DATA = handle_and_signal
    app = create_app(mail_settings, manage_database=False, mail_sender=True)
    async with app.router.lifespan_context(app):
        sender: MailSender = app.state.mail_sender
        assert sender.running
        await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "DONE"})
        sender.wake()
        await asyncio.wait_for(arrived.wait(), 60)  # a safety net, not a speed assertion
    assert not sender.running
    assert [m.rcpt_tos for m in inbox.messages] == [[mailing.alice.email]]
    assert (await OutboxMail.get()).status is DeliveryStatus.SENT

    # Stopped: new mail waits in the outbox; a new sender picks it up.
    await mailing.as_(mailing.staff).ok(STATUS, {"id": mailing.ticket_id, "status": "IN_PROGRESS"})
    assert await OutboxMail.filter(status=DeliveryStatus.PENDING).count() == 1
    arrived.clear()
    again = MailSender(mail_settings, poll_seconds=0.05)
    again.start()
    try:
        await asyncio.wait_for(arrived.wait(), 60)
    finally:
        await again.stop()
    assert len(inbox.messages) == 2


async def test_the_test_app_runs_no_sender_unless_asked(settings):
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        assert not hasattr(app.state, "mail_sender")


@pytest.mark.skipif(
    "postgres" not in __import__("os").environ.get("SITEDESK_TEST_DATABASE_URL", ""),
    reason="several sender processes need PostgreSQL; SQLite runs one process",
)
async def test_two_senders_at_once_deliver_each_mail_once(mailing, mail_settings, inbox, capsys):
    assert dialect() == "postgres"
    await comments(mailing, 40)
    assert await OutboxMail.all().count() == 40

    # A claim in flight holds its rows: a second claim skips them instead of waiting.
    now = utcnow()
    held, release = asyncio.Event(), asyncio.Event()
    first_ids: list[int] = []

    async def hold_claim() -> None:
        async with in_transaction() as connection:
            first_ids.extend(await claim_due(connection, now, "first", 5))
            held.set()
            await release.wait()
            raise RuntimeError("roll back the claim")  # the rows are due again afterwards

    holder = asyncio.create_task(hold_claim())
    await held.wait()
    async with in_transaction() as connection:
        second_ids = await asyncio.wait_for(claim_due(connection, now, "second", 5), 30)
    release.set()
    with pytest.raises(RuntimeError):
        await holder
    assert len(first_ids) == 5 and len(second_ids) == 5 and not set(first_ids) & set(second_ids)
    await OutboxMail.filter(id__in=second_ids).update(claim_token=None, next_attempt_at=now)

    # Two senders draining the outbox at the same time, in small rounds.
    async def sender(name: str) -> list[int]:
        sent: list[int] = []
        while True:
            result = await deliver_due(mail_settings, limit=3, now=now + CLAIM_LEASE / 100)
            if not result.claimed:
                return sent
            sent.extend(result.ids_sent)

    a, b = await asyncio.gather(sender("a"), sender("b"))
    assert sorted(a + b) == sorted(await OutboxMail.all().values_list("id", flat=True))
    assert not set(a) & set(b)
    ids = [m.message["Message-ID"] for m in inbox.messages]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert await OutboxMail.filter(status=DeliveryStatus.SENT, attempts=1).count() == 40
    with capsys.disabled():
        print(f"\ntwo senders: a sent {len(a)}, b sent {len(b)}, server received {len(ids)} ({len(set(ids))} distinct)")
