"""SSRF: a webhook's URL is refused at creation and update, and again at delivery (on the resolved address)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from core.ids import to_global_id as gid
from server.app import create_app
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import CREATE_TICKET, CREATE_WEBHOOK, UPDATE_WEBHOOK, deliveries, make_webhook, run_round


@pytest.fixture
async def production_admin(world, settings):
    """The admin talking to an app with the production rules (https only, public addresses only)."""
    app = create_app(
        dataclasses.replace(settings, webhook_allow_http=False, webhook_allow_private=False), manage_database=False
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sitedesk.test") as http:
        yield GraphQLClient(http, world.admin.token)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.0.0.5/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[::ffff:169.254.169.254]/", "metadata"),
        ("https://user:secret@93.184.215.14/hook", "user name"),
    ],
)
async def test_create_refuses_urls_that_are_not_public_https(world, production_admin, url, why):
    body = await production_admin(
        CREATE_WEBHOOK,
        {"input": {"url": url, "events": ["TICKET_CREATED"], "accountId": gid("Employee", world.staff.pk)}},
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "url"
    assert why in error["message"], error["message"]
    assert (await production_admin("{ webhooks { totalCount } }"))["data"]["webhooks"]["totalCount"] == 0


async def test_update_refuses_them_too_and_keeps_the_old_url(world, production_admin):
    created = await production_admin.ok(
        CREATE_WEBHOOK,
        {
            "input": {
                "url": "https://93.184.215.14/hook",
                "events": ["TICKET_CREATED"],
                "accountId": gid("Employee", world.staff.pk),
            }
        },
    )
    hook_id = created["createWebhook"]["webhook"]["id"]
    body = await production_admin(UPDATE_WEBHOOK, {"input": {"id": hook_id, "url": "https://169.254.169.254/"}})
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "url",
        **{k: v for k, v in body["errors"][0]["extensions"].items() if k not in ("code", "field")},
    }
    listed = await production_admin.ok("{ webhooks { edges { node { url } } } }")
    assert listed["webhooks"]["edges"][0]["node"]["url"] == "https://93.184.215.14/hook"


async def test_delivery_checks_the_resolved_address_again(world, receiver, hook_settings, settings):
    """Created where private addresses were allowed; sent under the production rules: nothing leaves."""
    hook = await make_webhook(world, receiver.url(), ["TICKET_CREATED"], gid("Employee", world.staff.pk))
    named = await make_webhook(
        world, f"http://localhost:{receiver.port}/named", ["TICKET_CREATED"], gid("Employee", world.staff.pk)
    )
    await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "Leck",
            }
        },
    )
    strict = dataclasses.replace(settings, webhook_allow_http=True, webhook_allow_private=False)
    result = await run_round(strict)
    assert (result.claimed, result.delivered, result.retrying) == (2, 0, 2)
    assert receiver.requests == []
    for webhook in (hook, named):
        [delivery] = await deliveries(world, webhook["webhook"]["id"])
        assert delivery["status"] == "RETRYING" and "loopback" in delivery["lastError"], delivery
        assert delivery["httpStatus"] is None

    no_http = dataclasses.replace(settings, webhook_allow_http=False, webhook_allow_private=True)
    [delivery] = await deliveries(world, hook["webhook"]["id"])
    await world.as_(world.admin).ok(
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }", {"id": delivery["id"]}
    )
    await run_round(no_http)
    assert receiver.requests == []
    [delivery] = await deliveries(world, hook["webhook"]["id"])
    assert "https" in delivery["lastError"]

    # Where allowed, the name is resolved once, checked, and the checked address is the one connected
    # to: the receiver (listening on 127.0.0.1 only) sees the name in the Host header.
    [named_delivery] = await deliveries(world, named["webhook"]["id"])
    await world.as_(world.admin).ok(
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }", {"id": named_delivery["id"]}
    )
    await run_round(hook_settings)
    [got] = receiver.to("/named")
    assert got.headers["host"] == f"localhost:{receiver.port}"
