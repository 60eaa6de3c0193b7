"""Only system administrators manage webhooks: customer users and other employees are refused."""

from __future__ import annotations

import pytest

from core.ids import to_global_id as gid
from models.webhooks import Webhook, WebhookDelivery
from tests.webhooks.conftest import (
    CREATE_TICKET,
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    DELIVERIES,
    REDELIVER,
    UPDATE_WEBHOOK,
    WEBHOOKS,
    make_webhook,
    run_round,
)


@pytest.fixture
async def hook(world, receiver, hook_settings):
    created = await make_webhook(world, receiver.url(), ["TICKET_CREATED"], gid("CustomerUser", world.alice.pk))
    await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Tür klemmt",
            }
        },
    )
    await run_round(hook_settings)
    delivery = await WebhookDelivery.get()
    return created["webhook"]["id"], gid("WebhookDelivery", delivery.id)


@pytest.mark.parametrize("who", ["alice", "carl", "staff", "hr", "petra"])
async def test_everyone_but_system_administrators_is_refused(world, hook, who):
    hook_id, delivery_id = hook
    client = world.as_(getattr(world, who))
    operations = [
        (
            CREATE_WEBHOOK,
            {
                "input": {
                    "url": "https://93.184.215.14/",
                    "events": ["TICKET_CREATED"],
                    "accountId": gid("CustomerUser", world.alice.pk),
                }
            },
        ),
        (UPDATE_WEBHOOK, {"input": {"id": hook_id, "url": "https://93.184.215.14/evil"}}),
        (DELETE_WEBHOOK, {"id": hook_id}),
        (WEBHOOKS, {}),
        (DELIVERIES, {"id": hook_id}),
        (REDELIVER, {"id": delivery_id}),
    ]
    for query, variables in operations:
        body = await client(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (query, body)
        assert body.get("data") is None
    webhook = await Webhook.get()  # nothing changed, nothing deleted, nothing sent again
    assert (await Webhook.all().count(), webhook.enabled, webhook.url.endswith("/hook")) == (1, True, True)
    assert (await WebhookDelivery.get()).attempts == 1


async def test_anonymous_is_unauthenticated(world, hook, gql):
    body = await gql(WEBHOOKS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_secret_is_shown_once_and_bad_input_is_named(world, hook):
    admin = world.as_(world.admin)
    fields = await admin.ok('{ __type(name: "Webhook") { fields { name } } }')
    assert "secret" not in {f["name"] for f in fields["__type"]["fields"]}
    for variables, code, field in (
        (
            {"url": "https://93.184.215.14/", "events": [], "accountId": gid("Employee", world.staff.pk)},
            "BAD_USER_INPUT",
            "events",
        ),
        (
            {
                "url": "https://93.184.215.14/",
                "events": ["TICKET_CREATED"],
                "accountId": gid("SiteObject", world.a1.id),
            },
            "NOT_FOUND",
            "accountId",
        ),
        (
            {"url": "https://93.184.215.14/", "events": ["TICKET_CREATED"], "accountId": gid("Employee", 999)},
            "NOT_FOUND",
            "accountId",
        ),
    ):
        body = await admin(CREATE_WEBHOOK, {"input": variables})
        assert (body["errors"][0]["extensions"]["code"], body["errors"][0]["extensions"].get("field")) == (code, field)
    assert await Webhook.all().count() == 1


async def test_an_admin_deletes_a_webhook_and_its_deliveries(world, hook):
    hook_id, _ = hook
    assert (await world.as_(world.admin).ok(DELETE_WEBHOOK, {"id": hook_id}))["deleteWebhook"] == hook_id
    assert await Webhook.all().count() == 0 and await WebhookDelivery.all().count() == 0
    body = await world.as_(world.admin)(DELETE_WEBHOOK, {"id": hook_id})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_node_finds_webhooks_for_admins_only(world, hook):
    hook_id, delivery_id = hook
    query = """query($a: ID!, $b: ID!) { a: node(id: $a) { id ... on Webhook { url } }
      b: node(id: $b) { id ... on WebhookDelivery { status } } }"""
    found = await world.as_(world.admin).ok(query, {"a": hook_id, "b": delivery_id})
    assert found["a"]["url"].endswith("/hook") and found["b"]["status"] == "DELIVERED"
    for who in (world.alice, world.staff):
        assert await world.as_(who).ok(query, {"a": hook_id, "b": delivery_id}) == {"a": None, "b": None}


async def test_webhook_changes_are_audited_and_refusals_are_not(world, hook):
    hook_id, _ = hook
    admin = world.as_(world.admin)
    await admin.ok(UPDATE_WEBHOOK, {"input": {"id": hook_id, "enabled": False}})
    await world.as_(world.staff)(DELETE_WEBHOOK, {"id": hook_id})  # refused: leaves no event
    await admin.ok(DELETE_WEBHOOK, {"id": hook_id})
    events = await admin.ok(
        "{ auditEvents(first: 20) { edges { node { action subjectType subjectId summary actor { id } } } } }"
    )
    webhook_events = [e["node"] for e in events["auditEvents"]["edges"] if e["node"]["subjectType"] == "Webhook"]
    assert sorted(e["action"] for e in webhook_events) == ["WEBHOOK_CREATED", "WEBHOOK_DELETED", "WEBHOOK_UPDATED"]
    assert {e["subjectId"] for e in webhook_events} == {hook_id}
    assert {e["actor"]["id"] for e in webhook_events} == {gid("Employee", world.admin.pk)}
    updated = next(e for e in webhook_events if e["action"] == "WEBHOOK_UPDATED")
    assert "enabled" in updated["summary"]
