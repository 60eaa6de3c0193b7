"""Parallel writers: nothing fails, ticket numbers stay unique and gap-free; loaders stay per request."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest

from core.ids import to_global_id
from models.tickets import Comment, Ticket
from tests.conftest import GraphQLClient
from tests.hardening.servers import running_servers, server_env

CREATE = """mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
WRITERS = 50


def create_vars(world, person, i: int) -> dict:
    site = world.a1 if person is not world.carl else world.b1
    return {
        "input": {
            "objectId": to_global_id("SiteObject", site.id),
            "ticketTypeId": to_global_id("TicketType", world.defect.id),
            "title": f"Parallel {i}",
        }
    }


def comment_vars(world, tickets, person, i: int) -> dict:
    title = "Sandkasten" if person is world.carl else "Flur nicht gewischt"
    return {"input": {"ticketId": to_global_id("Ticket", tickets[title].id), "body": f"Parallel {i}"}}


async def fire(world, tickets, clients: list[httpx.AsyncClient]) -> tuple[list[dict], float]:
    """WRITERS createTicket and WRITERS addComment requests at once, spread over clients and people."""
    people = [world.alice, world.carl, world.staff, world.admin]
    calls = []
    for i in range(WRITERS):
        person = people[i % len(people)]
        gql = GraphQLClient(clients[i % len(clients)], person.token)
        calls.append(gql(CREATE, create_vars(world, person, i)))
        calls.append(
            GraphQLClient(clients[(i + 1) % len(clients)], person.token)(
                COMMENT, comment_vars(world, tickets, person, i)
            )
        )
    started = time.perf_counter()
    bodies = await asyncio.gather(*calls)
    return bodies, time.perf_counter() - started


async def check(world, bodies: list[dict], before_tickets: int, before_comments: int) -> None:
    failures = [b["errors"] for b in bodies if b.get("errors")]
    assert failures == []
    assert "database is locked" not in repr(bodies)
    numbers = sorted(b["data"]["createTicket"]["number"] for b in bodies if "createTicket" in b["data"])
    assert len(numbers) == WRITERS
    stored = sorted(await Ticket.all().values_list("number", flat=True))
    assert stored == list(range(1, before_tickets + WRITERS + 1))  # unique and gap-free
    assert numbers == stored[before_tickets:]
    assert await Comment.all().count() == before_comments + WRITERS


async def test_parallel_writes_through_the_app(world, tickets, client):
    before_tickets, before_comments = await Ticket.all().count(), await Comment.all().count()
    bodies, seconds = await fire(world, tickets, [client])
    await check(world, bodies, before_tickets, before_comments)
    print(f"\n{2 * WRITERS} parallel writes in one process: {seconds:.2f} s")


@pytest.mark.skipif(
    not os.environ.get("SITEDESK_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several server processes need PostgreSQL (SQLite means one process)",
)
async def test_parallel_writes_through_three_server_processes(world, tickets, settings, tmp_path):
    before_tickets, before_comments = await Ticket.all().count(), await Comment.all().count()
    with running_servers(server_env(settings), 3, tmp_path) as servers:
        clients = [httpx.AsyncClient(base_url=s.url, timeout=60) for s in servers]
        try:
            bodies, seconds = await fire(world, tickets, clients)
        finally:
            for http in clients:
                await http.aclose()
        logs = "".join(s.output() for s in servers)
    await check(world, bodies, before_tickets, before_comments)
    assert "Traceback" not in logs
    print(f"\n{2 * WRITERS} parallel writes over 3 processes: {seconds:.2f} s")


TICKETS = """{ tickets(first: 50) { edges { node { id title object { name customer { name } }
  comments { edges { node { body } } } createdBy { name } } } } }"""


async def test_loaders_never_share_rows_between_interleaved_viewers(world, tickets, client):
    alice = GraphQLClient(client, world.alice.token)
    carl = GraphQLClient(client, world.carl.token)
    expected = {
        id(alice): ({"Flur nicht gewischt", "Fenster streifig"}, "Stadtwerke", "Rathaus"),
        id(carl): ({"Sandkasten"}, "Kita", "Kita Nord"),
    }
    rounds = [(viewer, viewer(TICKETS)) for _ in range(10) for viewer in (alice, carl)]
    bodies = await asyncio.gather(*(call for _, call in rounds))
    for (viewer, _), body in zip(rounds, bodies, strict=True):
        titles, customer, site = expected[id(viewer)]
        nodes = [e["node"] for e in body["data"]["tickets"]["edges"]]
        assert {n["title"] for n in nodes} == titles
        assert {n["object"]["customer"]["name"] for n in nodes} == {customer}
        assert {n["object"]["name"] for n in nodes} == {site}
        bodies_seen = {c["node"]["body"] for n in nodes for c in n["comments"]["edges"]}
        assert not any(b.startswith("Intern") for b in bodies_seen)
        assert bodies_seen == {f"Öffentlich zu {t}" for t in titles}


@pytest.mark.skipif(
    not os.environ.get("SITEDESK_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several server processes need PostgreSQL (SQLite means one process)",
)
async def test_login_throttling_holds_across_server_processes(world, settings, tmp_path):
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
    with running_servers(server_env(settings), 3, tmp_path) as servers:
        clients = [httpx.AsyncClient(base_url=s.url, timeout=60) for s in servers]
        try:
            bodies = await asyncio.gather(
                *(GraphQLClient(clients[i % 3])(login, {"e": world.alice.email, "p": f"guess-{i}"}) for i in range(15))
            )
        finally:
            for http in clients:
                await http.aclose()
    codes = sorted(b["errors"][0]["extensions"]["code"] for b in bodies)
    assert codes == ["RATE_LIMITED"] * 10 + ["UNAUTHENTICATED"] * 5
