"""The background check: at the warning threshold and at the breach a history entry, a mail (real
SMTP) and a webhook (a real HTTP receiver), each once per ticket and target, however many
processes check and however often they restart."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta

import httpx
import pytest
from standardwebhooks import Webhook as StandardWebhook

from mail.sender import deliver_due
from models.customers import ObjectResponsible
from models.notifications import OutboxMail
from models.tickets import Ticket, TicketEvent, TicketEventKind
from resolvers.service_levels.check import ServiceLevelCheck, check_round
from server.app import create_app
from tests.notifications.conftest import SmtpServer
from tests.service_levels.conftest import HISTORY, SET_STATUS, create_ticket, gid, now, row
from tests.webhooks.conftest import Receiver, make_webhook, run_round


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings, smtp_server):
    return dataclasses.replace(
        settings,
        smtp_url=smtp_server.url,
        mail_from="Sitedesk Service <desk@sitedesk.test>",
        webhook_allow_http=True,
        webhook_allow_private=True,
    )


@pytest.fixture
async def client(mail_settings):
    """The shared `world` talks to an app that lets webhooks reach the receiver on 127.0.0.1."""
    app = create_app(mail_settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield http


async def sla_history(world, ticket) -> list[tuple[str, str]]:
    history = (await world.as_(world.staff).ok(HISTORY, {"id": ticket["id"]}))["node"]["history"]
    return [(h["kind"], h["fromValue"]) for h in history if h["kind"].startswith("SLA_")]


async def test_warning_then_breach_each_once_with_history_mail_and_webhook(
    world, policy, mail_settings, smtp_server, receiver
):
    hook = await make_webhook(
        world, receiver.url(), ["TICKET_SLA_WARNING", "TICKET_SLA_BREACHED"], gid("Employee", world.admin.pk)
    )
    ticket = await create_ticket(world, world.alice)
    await world.as_(world.staff).ok(
        "mutation($id: ID!, $a: ID) { assignTicket(id: $id, assigneeId: $a) { id } }",
        {"id": ticket["id"], "a": gid("Employee", world.staff.pk)},
    )
    stored = await row(ticket)
    # NORMAL, warning at 50 %: first response warned at +30 min, breached at +60; resolution at +120/+240.
    assert await check_round(now=stored.created_at + timedelta(minutes=29)) == 0
    assert await check_round(now=stored.created_at + timedelta(minutes=31)) == 1
    assert await check_round(now=stored.created_at + timedelta(minutes=31)) == 0  # nothing twice
    assert await sla_history(world, ticket) == [("SLA_WARNING", "FIRST_RESPONSE")]
    await check_round(now=stored.created_at + timedelta(minutes=61))
    await check_round(now=stored.created_at + timedelta(minutes=61))
    assert await sla_history(world, ticket) == [("SLA_WARNING", "FIRST_RESPONSE"), ("SLA_BREACHED", "FIRST_RESPONSE")]
    assert (await row(ticket)).sla_first_response_breached

    # The mails went to the assignee, in their language, through a real SMTP server.
    await deliver_due(mail_settings)
    mails = smtp_server.inbox.to(world.staff.email)
    subjects = sorted(m.message["Subject"] for m in mails)
    assert subjects == [
        f"[#{ticket['number']}] Wasserschaden im Keller – Frist läuft bald ab",
        f"[#{ticket['number']}] Wasserschaden im Keller – Frist überschritten",
    ]
    breach = next(m for m in mails if "überschritten" in m.message["Subject"])
    assert "Die vereinbarte Frist für die erste Reaktion ist überschritten" in breach.text
    assert "Vereinbarung: Standard" in " ".join(breach.text.split())
    print("\n--- breach mail as received ---\n" + breach.raw.decode()[:2500])

    # The webhooks went out once each, signed, naming the target.
    await run_round(mail_settings)
    got = receiver.to("/hook")
    # A round sends its due deliveries concurrently (webhooks/sender.py): any arrival order.
    types = [json.loads(r.body)["type"] for r in got]
    assert sorted(types) == ["TICKET_SLA_BREACHED", "TICKET_SLA_WARNING"]
    body = got[types.index("TICKET_SLA_BREACHED")]
    StandardWebhook(hook["secret"]).verify(body.body, body.headers)
    payload = json.loads(body.body)
    assert payload["data"]["serviceLevelTarget"] == "FIRST_RESPONSE"
    assert payload["data"]["ticket"]["serviceLevel"]["firstResponseBreached"] is True
    assert payload["data"]["ticket"]["priority"] == "NORMAL"
    print(
        "\n--- breach webhook as received ---\n"
        + "\n".join(f"{k}: {v}" for k, v in body.headers.items() if k.startswith(("webhook-", "content-type")))
        + "\n\n"
        + json.dumps(payload, indent=1, ensure_ascii=False)[:2000]
    )


async def test_an_unassigned_ticket_mails_the_object_s_responsible_employees(world, policy, mail_settings, smtp_server):
    await ObjectResponsible.create(object_id=world.a1.id, employee_id=world.petra.pk)
    ticket = await create_ticket(world, world.alice, priority="URGENT")
    stored = await row(ticket)
    # Long after everything was due (the check was away): breaches only, no warnings after the fact.
    await check_round(now=stored.created_at + timedelta(hours=5))
    assert await sla_history(world, ticket) == [("SLA_BREACHED", "FIRST_RESPONSE"), ("SLA_BREACHED", "RESOLUTION")]
    mails = await OutboxMail.filter(ticket_id=stored.id, kind__in=["SLA_WARNING", "SLA_BREACHED"]).all()
    assert {m.to_address for m in mails} == {world.petra.email}
    await deliver_due(mail_settings)
    received = [m for m in smtp_server.inbox.to(world.petra.email) if "Frist" in m.message["Subject"]]
    assert len(received) == 2  # besides the mail about the new ticket
    assert all("Das Ticket ist niemandem zugewiesen" in m.text for m in received)


async def test_met_and_paused_targets_are_not_announced(world, policy):
    ticket = await create_ticket(world, world.alice)
    await world.as_(world.staff).ok(SET_STATUS, {"id": ticket["id"], "s": "DONE"})
    stored = await row(ticket)
    assert stored.sla_next_check_at is None
    assert await check_round(now=stored.created_at + timedelta(days=1)) == 0
    assert await sla_history(world, ticket) == []


async def test_exactly_once_with_several_checks_at_the_same_time(world, policy):
    tickets = [await create_ticket(world, world.alice) for _ in range(6)]
    later = now() + timedelta(hours=5)
    # Several "processes" at once (on PostgreSQL each on its own connection, skipping locked rows),
    # then again as after a restart.
    await asyncio.gather(*(check_round(now=later, batch_size=2) for _ in range(4)))
    while await check_round(now=later, batch_size=2):
        pass
    for ticket in tickets:
        stored = await row(ticket)
        kinds = await TicketEvent.filter(
            ticket_id=stored.id, kind__in=[TicketEventKind.SLA_WARNING, TicketEventKind.SLA_BREACHED]
        ).values_list("kind", "from_value")
        assert sorted((k.value, v) for k, v in kinds) == [
            ("SLA_BREACHED", "FIRST_RESPONSE"),
            ("SLA_BREACHED", "RESOLUTION"),
        ]
    assert await Ticket.filter(sla_next_check_at__isnull=False).count() == 0


async def test_the_background_loop_runs_every_few_seconds(world, settings):
    # A target of one minute, warning at 1 %: 0.6 seconds after creation.
    from tests.service_levels.conftest import make_calendar, make_policy

    await make_policy(world, await make_calendar(world), targets=[("NORMAL", 1, 1)], warnAtPercent=1)
    ticket = await create_ticket(world, world.alice)
    stored = await row(ticket)
    check = ServiceLevelCheck(poll_seconds=0.2)
    check.start()
    try:
        # Polled in the database: a GraphQL read while the loop writes could see two states (the
        # comparison mode runs each request twice).
        for _ in range(50):
            if await TicketEvent.filter(ticket_id=stored.id, kind=TicketEventKind.SLA_WARNING).count() == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await check.stop()
    assert await sla_history(world, ticket) == [("SLA_WARNING", "FIRST_RESPONSE"), ("SLA_WARNING", "RESOLUTION")]


def test_the_check_interval_comes_from_the_environment():
    from core.settings import settings_from_env

    assert settings_from_env({}).sla_check_seconds == 30
    assert settings_from_env({"SITEDESK_SLA_CHECK_SECONDS": "5"}).sla_check_seconds == 5
