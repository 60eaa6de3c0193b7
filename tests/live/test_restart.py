"""A PostgreSQL restart under live sockets: the socket stays open, the listener reconnects, and the
changes committed after the restart arrive (across two server processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.hardening import private_postgres
from tests.hardening.servers import ROOT, running_servers
from tests.hardening.test_faults import ADMIN, LOGIN, RESUME_TIMEOUT, cli
from tests.live.conftest import LIVE_ENV, acknowledged, live_socket

CHANGES = "subscription { ticketChanges { kind ticket { title } } }"


def ok(http: httpx.Client, token: str, query: str, variables: dict) -> dict:
    body = http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"}
    ).json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.mark.skipif(private_postgres.missing() is not None, reason=str(private_postgres.missing()))
async def test_changes_arrive_after_postgresql_restarts(tmp_path: Path) -> None:
    with private_postgres.private_cluster() as cluster:
        env = {
            **os.environ,
            **LIVE_ENV,
            "PYTHONPATH": str(ROOT),
            "SITEDESK_DATABASE_URL": cluster.url,
            "SITEDESK_FILES_DIR": str(tmp_path / "files"),
            "SITEDESK_ENV": "test",
            "SITEDESK_SECRET_KEYS": "live-restart-key-" + "f" * 30,
        }
        cli(env, "migrate")
        cli(env, "create-admin", "--email", ADMIN[0], "--password", ADMIN[1])
        with running_servers(env, 2, tmp_path) as (a, b), httpx.Client(base_url=a.url, timeout=30) as http:
            token = http.post("/graphql", json={"query": LOGIN, "variables": {"e": ADMIN[0], "p": ADMIN[1]}}).json()[
                "data"
            ]["login"]["accessToken"]
            customer = ok(http, token, 'mutation { createCustomer(input: {name: "K"}) { id } }', {})["createCustomer"][
                "id"
            ]
            site = ok(
                http,
                token,
                'mutation($c: ID!) { createObject(input: {customerId: $c, name: "O"}) { id } }',
                {"c": customer},
            )["createObject"]["id"]
            kind = ok(http, token, 'mutation { createTicketType(input: {name: "T"}) { id } }', {})["createTicketType"][
                "id"
            ]
            create = (
                "mutation($o: ID!, $t: ID!, $x: String!) "
                "{ createTicket(input: {objectId: $o, ticketTypeId: $t, title: $x}) { id } }"
            )

            async with live_socket(b, token) as client:
                await acknowledged(client)
                await client.subscribe(CHANGES)
                ok(http, token, create, {"o": site, "t": kind, "x": "Vorher"})
                assert (await client.next_payload())["data"]["ticketChanges"]["ticket"]["title"] == "Vorher"

                cluster.stop()
                time.sleep(2)  # the socket outlives the outage (the token re-check just retries)
                cluster.start()
                deadline = time.monotonic() + RESUME_TIMEOUT
                while True:
                    body = http.post(
                        "/graphql",
                        json={"query": create, "variables": {"o": site, "t": kind, "x": "Nachher"}},
                        headers={"authorization": f"Bearer {token}"},
                    ).json()
                    if not body.get("errors"):
                        break
                    assert time.monotonic() < deadline, body
                    time.sleep(0.2)
                got = await client.next_payload(timeout=15)
                assert got["data"]["ticketChanges"] == {"kind": "CREATED", "ticket": {"title": "Nachher"}}
                ok(http, token, create, {"o": site, "t": kind, "x": "Danach"})
                got = await client.next_payload(timeout=5)
                assert got["data"]["ticketChanges"]["ticket"]["title"] == "Danach"
