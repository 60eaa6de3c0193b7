"""`Idempotency-Key`: one run per account and key, the stored answer replayed, another body
refused, concurrent retries run once (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.ids import to_global_id
from models.http import IdempotentRequest
from models.tickets import Ticket
from server import idempotency
from tests.conftest import LOGIN
from tests.factories import PASSWORD

CREATE = """mutation Create($input: CreateTicketInput!) {
  createTicket(input: $input) { number title } }"""


def create_body(world, title: str = "Leck im Keller") -> dict:
    return {
        "query": CREATE,
        "variables": {
            "input": {
                "objectId": to_global_id("SiteObject", world.a1.pk),
                "ticketTypeId": to_global_id("TicketType", world.defect.pk),
                "title": title,
            }
        },
    }


def headers(person, key: str | None) -> dict:
    sent = {"authorization": f"Bearer {person.token}"}
    if key is not None:
        sent["idempotency-key"] = key
    return sent


async def test_a_retry_gets_the_first_answer_without_running_again(client, world):
    body = create_body(world)
    first = await client.post("/graphql", json=body, headers=headers(world.alice, "k-1"))
    assert first.status_code == 200
    assert first.json()["data"]["createTicket"]["title"] == "Leck im Keller"
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/graphql", json=body, headers=headers(world.alice, "k-1"))
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await Ticket.all().count() == 1
    # Without a key every request runs.
    await client.post("/graphql", json=body, headers=headers(world.alice, None))
    assert await Ticket.all().count() == 2


async def test_the_same_key_with_another_body_is_refused_and_runs_nothing(client, world):
    await client.post("/graphql", json=create_body(world, "Erstes"), headers=headers(world.alice, "k-2"))
    refused = await client.post("/graphql", json=create_body(world, "Zweites"), headers=headers(world.alice, "k-2"))
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "IDEMPOTENCY_KEY_REUSED"}
    assert [t.title for t in await Ticket.all()] == ["Erstes"]


async def test_keys_belong_to_one_account(client, world):
    await client.post("/graphql", json=create_body(world), headers=headers(world.alice, "shared"))
    # Bob may not create on Alice's object: his own answer, not Alice's replayed.
    bob = await client.post("/graphql", json=create_body(world), headers=headers(world.bob, "shared"))
    assert "idempotent-replayed" not in bob.headers
    assert bob.json()["errors"][0]["extensions"]["code"] in {"NOT_FOUND", "FORBIDDEN"}
    admin = await client.post("/graphql", json=create_body(world), headers=headers(world.admin, "shared"))
    assert admin.json()["data"]["createTicket"]["title"] == "Leck im Keller"
    assert "idempotent-replayed" not in admin.headers
    assert await Ticket.all().count() == 2


async def test_refusals_are_stored_like_answers(client, world):
    # A refused mutation ran (and refused): its retry gets the same refusal.
    body = create_body(world)
    first = await client.post("/graphql", json=body, headers=headers(world.carl, "k-carl"))
    assert first.json()["errors"]
    again = await client.post("/graphql", json=body, headers=headers(world.carl, "k-carl"))
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"


async def test_concurrent_retries_run_once(client, world):
    body = create_body(world)
    answers = await asyncio.gather(
        *(client.post("/graphql", json=body, headers=headers(world.alice, "k-concurrent")) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert await Ticket.all().count() == 1
    assert await IdempotentRequest.filter(key="k-concurrent").count() == 1


async def test_a_retry_while_the_first_still_runs_waits_then_gets_409(client, world, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    body = create_body(world)
    now = datetime.now(UTC)
    await IdempotentRequest.create(
        account_id=world.alice.account.id,
        key="k-busy",
        fingerprint=idempotency.fingerprint_of(idempotency.covered_json(body)),
        status=idempotency.RUNNING,
        headers={},
        created_at=now,
        expires_at=now + idempotency.KEEP,
    )
    busy = await client.post("/graphql", json=body, headers=headers(world.alice, "k-busy"))
    assert busy.status_code == 409
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["errors"][0]["extensions"] == {"code": "CONFLICT", "reason": "IDEMPOTENCY_KEY_IN_USE"}
    assert await Ticket.all().count() == 0


async def test_abandoned_claims_and_expired_answers_do_not_block_a_retry(client, world):
    body = create_body(world)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    fingerprint = idempotency.fingerprint_of(idempotency.covered_json(body))
    await IdempotentRequest.create(
        account_id=world.alice.account.id,
        key="k-abandoned",
        fingerprint=fingerprint,
        status=idempotency.RUNNING,
        headers={},
        created_at=long_ago,
        expires_at=long_ago + idempotency.KEEP,
    )
    taken_over = await client.post("/graphql", json=body, headers=headers(world.alice, "k-abandoned"))
    assert taken_over.json()["data"]["createTicket"]
    yesterday = datetime.now(UTC) - timedelta(hours=25)
    await IdempotentRequest.create(
        account_id=world.alice.account.id,
        key="k-expired",
        fingerprint="0" * 64,  # even another body: the key is free again after 24 h
        status=idempotency.DONE,
        http_status=200,
        headers={},
        body=b'{"data":{"old":true}}',
        created_at=yesterday,
        expires_at=yesterday + idempotency.KEEP,
    )
    fresh = await client.post("/graphql", json=body, headers=headers(world.alice, "k-expired"))
    assert fresh.json()["data"]["createTicket"] and "idempotent-replayed" not in fresh.headers
    assert await Ticket.all().count() == 2


async def test_queries_and_anonymous_requests_ignore_the_key(client, world):
    query = {"query": "{ me { name } }"}
    for _ in range(2):
        response = await client.post("/graphql", json=query, headers=headers(world.alice, "k-query"))
        assert "idempotent-replayed" not in response.headers
    login = {"query": LOGIN, "variables": {"email": world.alice.email, "password": PASSWORD}}
    tokens = set()
    for _ in range(2):
        response = await client.post("/graphql", json=login, headers={"idempotency-key": "k-login"})
        tokens.add(response.json()["data"]["login"]["refreshToken"])
    assert len(tokens) == 2  # each sign-in ran: no one else's session is ever replayed
    assert await IdempotentRequest.all().count() == 0


async def test_a_malformed_key_is_refused(client, world):
    for key in ("x" * 256, "tab\there"):
        response = await client.post("/graphql", json=create_body(world), headers=headers(world.alice, key))
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["reason"] == "IDEMPOTENCY_KEY_INVALID"
    assert await Ticket.all().count() == 0


async def test_uploads_are_fingerprinted_by_their_files(gql, world):
    query = """mutation Create($input: CreateTicketInput!) {
      createTicket(input: $input) { title attachments { filename } } }"""
    variables = create_body(world)["variables"]
    variables["input"]["attachments"] = [None]
    client = gql.as_viewer(world.alice.token)
    send = {"variables.input.attachments.0": ("a.txt", b"erste Fassung")}
    first = await client.upload(query, variables, send, headers={"Idempotency-Key": "k-upload"})
    assert first.json()["data"]["createTicket"]["attachments"] == [{"filename": "a.txt"}]
    again = await client.upload(query, variables, send, headers={"Idempotency-Key": "k-upload"})
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    other = await client.upload(
        query,
        variables,
        {"variables.input.attachments.0": ("a.txt", b"andere")},
        headers={"Idempotency-Key": "k-upload"},
    )
    assert other.status_code == 422
    assert await Ticket.all().count() == 1


async def test_a_read_only_token_of_the_same_account_is_never_handed_a_stored_answer(client, world):
    # The session writes with a key; a read-only API token of the same account sends the same key and
    # body: it is refused as every read-only mutation is, not given the session's stored ticket.
    from tests.partners.helpers import create_token

    body = create_body(world)
    first = await client.post("/graphql", json=body, headers=headers(world.alice, "k-shared"))
    assert first.json()["data"]["createTicket"]["title"] == "Leck im Keller"
    secret, _ = await create_token(world, to_global_id("CustomerUser", world.alice.pk), readOnly=True)
    sent = {"authorization": f"Bearer {secret}", "idempotency-key": "k-shared"}
    refused = await client.post("/graphql", json=body, headers=sent)
    assert "idempotent-replayed" not in refused.headers
    assert refused.json()["errors"][0]["extensions"]["reason"] == "READ_ONLY_TOKEN"
    assert await Ticket.all().count() == 1
