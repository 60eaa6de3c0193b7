"""Persisted queries and idempotency keys hold across real server processes (PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import os

import httpx
import pytest

from core.ids import to_global_id
from models.tickets import Ticket
from tests.hardening.servers import running_servers, server_env

pytestmark = pytest.mark.skipif(
    not os.environ.get("SITEDESK_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several server processes need PostgreSQL (SQLite means one process)",
)


async def test_two_processes_share_persisted_queries_and_idempotency_keys(world, settings, tmp_path):
    query = "query SharedMe { me { name } }"
    apq = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    auth = {"authorization": f"Bearer {world.alice.token}"}
    create = {
        "query": "mutation C($input: CreateTicketInput!) { createTicket(input: $input) { number } }",
        "variables": {
            "input": {
                "objectId": to_global_id("SiteObject", world.a1.pk),
                "ticketTypeId": to_global_id("TicketType", world.defect.pk),
                "title": "Zweimal gesendet",
            }
        },
    }
    with running_servers(server_env(settings), 2, tmp_path) as servers:
        clients = [httpx.AsyncClient(base_url=s.url, timeout=60) for s in servers]
        try:
            unknown = await clients[1].post("/graphql", json={"extensions": apq}, headers=auth)
            assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            await clients[0].post("/graphql", json={"query": query, "extensions": apq}, headers=auth)
            known = await clients[1].post("/graphql", json={"extensions": apq}, headers=auth)
            assert known.json()["data"] == {"me": {"name": "Alice"}}

            key = {**auth, "idempotency-key": "across-processes"}
            answers = await asyncio.gather(
                *(clients[i % 2].post("/graphql", json=create, headers=key) for i in range(8))
            )
        finally:
            for http in clients:
                await http.aclose()
        logs = "".join(s.output() for s in servers)
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert await Ticket.all().count() == 1
    assert "Traceback" not in logs
