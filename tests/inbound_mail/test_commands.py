"""`sitedesk mail-in` (a pipe transport), `sitedesk mail-in --listen` and `sitedesk serve` with
SITEDESK_INBOUND_SMTP, as separate processes on the run's database."""

from __future__ import annotations

import asyncio
import smtplib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid

import pytest

from core.settings import Settings
from mail.inbound.tokens import ReplyToken, reply_address
from tests.conftest import World
from tests.factories import make_ticket
from tests.hardening.servers import ROOT, free_port, running_servers, server_env
from tests.inbound_mail.conftest import DOMAIN, comments_of


def message(settings: Settings, ticket_id: int, account_id: int, sender: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = reply_address(settings, DOMAIN, ReplyToken(ticket_id, account_id, False))
    mail["Subject"] = "Re: [#1] Flur"
    mail["Message-ID"] = make_msgid(domain="kunde.test")
    mail.set_content(body + "\n\nAm Mo., 7. Dez. 2026 um 10:15 Uhr schrieb Sitedesk:\n> alt\n")
    return mail


def mail_in(env: dict[str, str], raw: bytes, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "mail-in", *args],
        cwd=ROOT,
        env=env,
        input=raw,
        capture_output=True,
        timeout=60,
    )


def wait_for_smtp(port: int, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("the receiver exited early")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
                client.noop()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("no SMTP receiver came up")


def send(port: int, mail: EmailMessage) -> str:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        try:
            client.sendmail("", [str(mail["To"])], mail.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPResponseException as exc:
            return str(exc.smtp_code)
    return "250"


async def test_mail_in_reads_one_message_from_standard_input(settings: Settings, world: World) -> None:
    ticket = await make_ticket(world.a1, world.defect, "Flur", by=world.alice)
    env = server_env(settings, SITEDESK_INBOUND_DOMAIN=DOMAIN)
    mail = message(settings, ticket.id, world.alice.account.id, world.alice.email, "Per Pipe.")
    done = await asyncio.to_thread(mail_in, env, mail.as_bytes(), "--recipient", str(mail["To"]))
    assert done.returncode == 0, done.stderr
    assert b"accepted" in done.stderr
    assert [c.body for c in await comments_of(ticket.id)] == ["Per Pipe."]
    # Without --recipient the To header names the address; the same message again is a duplicate, exit 0.
    again = await asyncio.to_thread(mail_in, env, mail.as_bytes())
    assert again.returncode == 0 and b"duplicate" in again.stderr
    # A refusal is no failure for the MTA: exit 0, nothing stored.
    forged = message(settings, ticket.id, world.alice.account.id, world.bob.email, "Als Bob.")
    refused = await asyncio.to_thread(mail_in, env, forged.as_bytes())
    assert refused.returncode == 0 and b"refused_sender" in refused.stderr
    assert len(await comments_of(ticket.id)) == 1


def test_mail_in_exits_75_when_the_database_is_down(settings: Settings, tmp_path) -> None:
    env = server_env(
        settings,
        SITEDESK_INBOUND_DOMAIN=DOMAIN,
        SITEDESK_DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
    )
    mail = message(settings, 1, 1, "someone@kunde.test", "Später bitte.")
    done = mail_in(env, mail.as_bytes())
    assert done.returncode == 75, done.stderr
    assert b"temporary failure" in done.stderr


async def test_mail_in_listen_serves_smtp(settings: Settings, world: World, tmp_path) -> None:
    ticket = await make_ticket(world.a1, world.defect, "Flur", by=world.alice)
    port = free_port()
    env = server_env(settings, SITEDESK_INBOUND_DOMAIN=DOMAIN)
    with open(tmp_path / "mail-in.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "mail-in", "--listen", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await asyncio.to_thread(wait_for_smtp, port, process)
        mail = message(settings, ticket.id, world.alice.account.id, world.alice.email, "Per SMTP-Dienst.")
        assert await asyncio.to_thread(send, port, mail) == "250"
        assert [c.body for c in await comments_of(ticket.id)] == ["Per SMTP-Dienst."]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0, (tmp_path / "mail-in.log").read_text()


async def test_serve_starts_the_receiver_when_sitedesk_inbound_smtp_is_set(
    settings: Settings, world: World, tmp_path
) -> None:
    ticket = await make_ticket(world.a1, world.defect, "Flur", by=world.alice)
    port = free_port()
    env = server_env(settings, SITEDESK_INBOUND_DOMAIN=DOMAIN, SITEDESK_INBOUND_SMTP=f"127.0.0.1:{port}")
    with running_servers(env, 1, tmp_path):
        await asyncio.to_thread(wait_for_smtp, port)
        mail = message(settings, ticket.id, world.alice.account.id, world.alice.email, "Über serve.")
        assert await asyncio.to_thread(send, port, mail) == "250"
    assert [c.body for c in await comments_of(ticket.id)] == ["Über serve."]


async def test_two_server_processes_store_a_message_once(settings: Settings, world: World, tmp_path) -> None:
    """PostgreSQL: two `serve` processes on one inbound port (SO_REUSEPORT) get the same message at once."""
    if settings.is_sqlite:
        pytest.skip("several server processes need PostgreSQL")
    ticket = await make_ticket(world.a1, world.defect, "Flur", by=world.alice)
    port = free_port()
    env = server_env(settings, SITEDESK_INBOUND_DOMAIN=DOMAIN, SITEDESK_INBOUND_SMTP=f"127.0.0.1:{port}")
    with running_servers(env, 2, tmp_path):
        await asyncio.to_thread(wait_for_smtp, port)
        mail = message(settings, ticket.id, world.alice.account.id, world.alice.email, "Zweimal zugestellt.")
        with ThreadPoolExecutor(8) as pool:
            answers = await asyncio.gather(
                *(asyncio.get_running_loop().run_in_executor(pool, send, port, mail) for _ in range(8))
            )
    assert answers == ["250"] * 8
    assert [c.body for c in await comments_of(ticket.id)] == ["Zweimal zugestellt."]
