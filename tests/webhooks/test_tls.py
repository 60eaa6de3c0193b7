"""https deliveries: the sender connects to the address it checked, and the certificate is verified
against the URL's host name (SNI), not against that address."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

import webhooks.sender
from core.ids import to_global_id as gid
from tests.webhooks.conftest import CREATE_TICKET, Receiver, deliveries, make_webhook, run_round


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_receivers(tmp_path, monkeypatch):
    """Two https receivers: one with a certificate for "localhost", one for another name; the
    sender trusts both certificates (as it would trust a public CA)."""
    trust = ssl.create_default_context()
    receivers = []
    for name in ("localhost", "partner.example"):
        cert, key = self_signed(tmp_path, name)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert, key)
        trust.load_verify_locations(cert)
        receiver = Receiver(tls=server_context)
        receiver.start()
        receivers.append(receiver)
    monkeypatch.setattr(webhooks.sender, "TLS_CONTEXT", trust)
    yield receivers
    for receiver in receivers:
        receiver.stop()


async def test_https_is_verified_against_the_name_while_connecting_to_the_checked_address(
    world, tls_receivers, hook_settings
):
    good, wrong_name = tls_receivers
    https = {"events": ["TICKET_CREATED"], "account_id": gid("Employee", world.staff.pk)}
    ok = await make_webhook(world, f"https://localhost:{good.port}/tls", https["events"], https["account_id"])
    bad = await make_webhook(world, f"https://localhost:{wrong_name.port}/tls", https["events"], https["account_id"])
    await world.as_(world.alice).ok(
        CREATE_TICKET,
        {
            "input": {
                "objectId": gid("SiteObject", world.a1.id),
                "ticketTypeId": gid("TicketType", world.defect.id),
                "title": "TLS",
            }
        },
    )
    result = await run_round(hook_settings)
    assert (result.delivered, result.retrying) == (1, 1)
    [got] = good.to("/tls")
    assert got.headers["host"] == f"localhost:{good.port}" and got.json["type"] == "TICKET_CREATED"
    assert wrong_name.to("/tls") == []  # its certificate names partner.example, not localhost
    [refused] = await deliveries(world, bad["webhook"]["id"])
    assert refused["status"] == "RETRYING" and "Hostname mismatch" in refused["lastError"], refused["lastError"]
    [delivered] = await deliveries(world, ok["webhook"]["id"])
    assert delivered["status"] == "DELIVERED"
