"""The email channel's receivers (issue 27): an SMTP server for an MTA to relay to, and a pipe.

Both hand the raw message to `resolvers.inbound_mail.receive_message`:

- `start_receiver` serves SMTP (aiosmtpd's protocol) on the running event loop, so the handler
  shares the process's database connections; `sitedesk serve` starts it when
  `SITEDESK_INBOUND_SMTP` is set, `sitedesk mail-in --listen host:port` runs it alone. The
  answer to DATA comes only after what the message caused is committed: 250 (stored, refused,
  duplicate), 552 (too large), 451 when the database fails (the MTA keeps the message and
  retries; a retry after a commit it did not hear of is recognised as a duplicate).
- `deliver_stdin` reads one message on standard input (`sitedesk mail-in`, a pipe transport):
  exit 0 when stored or refused, 75 (EX_TEMPFAIL) on a temporary failure.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP, Envelope, Session

from core.metrics import INBOUND_MAIL
from core.settings import Settings, split_host_port
from models.inbound_mail import InboundOutcome
from resolvers.inbound_mail import receive_message
from resolvers.inbound_mail.receive import transport_limit

logger = logging.getLogger("sitedesk.inbound_mail")

EX_TEMPFAIL = 75
TEMPORARY = "451 4.3.0 Temporary failure, please try again later"


class InboundHandler:
    """aiosmtpd handler: any recipient of our domain, each message to `receive_message`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower().rstrip(">")
        if self.settings.inbound_domain and domain != self.settings.inbound_domain:
            return "550 5.1.1 Not a local address: Sitedesk relays nothing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        try:
            received = await receive_message(self.settings, raw, list(envelope.rcpt_tos), envelope.mail_from)
        except Exception:  # the database or the file storage failed: nothing committed, the MTA retries
            logger.exception("inbound mail from %s could not be handled now; answered 451", envelope.mail_from)
            return TEMPORARY
        return received.smtp_reply


class _Protocol(SMTP):
    """aiosmtpd's SMTP session; a message beyond the transport limit is counted as `refused_size` too.

    Lines may be as long as a message may be: clients that send a message with bare LF line ends
    (smtplib sends bytes unchanged) arrive as one long "line" and are still read, not refused.
    """

    def __init__(self, handler: InboundHandler, **options: Any) -> None:
        # Before aiosmtpd's __init__, which builds its stream reader with this limit.
        self.line_length_limit = options.get("data_size_limit") or SMTP.line_length_limit
        super().__init__(handler, **options)

    async def push(self, status: AnyStr) -> None:
        # aiosmtpd's own refusals ("552 Error: …": MAIL FROM with a SIZE over the limit, or DATA beyond
        # it); the handler's 552 ("552 5.3.4 …") was counted by receive_message already.
        if isinstance(status, str) and status.startswith("552 Error"):
            INBOUND_MAIL.labels(outcome=InboundOutcome.REFUSED_SIZE.value).inc()
            logger.info("inbound mail refused (refused_size): over the transport limit")
            await super().push("552 5.3.4 Message too big: nothing was stored")
            return
        await super().push(status)


async def start_receiver(settings: Settings, address: str | None = None) -> asyncio.Server:
    """Serve SMTP on `address` (host:port; default SITEDESK_INBOUND_SMTP) on the running loop."""
    host, port = split_host_port(address or settings.inbound_smtp or "")
    handler = InboundHandler(settings)
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        # Twice the transport limit: a larger message is cut off by aiosmtpd itself (552), a smaller
        # one reaches the handler, which counts, explains and answers 552 above the limit.
        return _Protocol(
            handler,
            data_size_limit=2 * transport_limit(settings),
            enable_SMTPUTF8=True,
            hostname=settings.inbound_domain or host,
            ident="Sitedesk",
            loop=loop,
        )

    # reuse_port: the processes of `serve --workers N` each listen, the kernel spreads connections.
    options: dict[str, Any] = {"reuse_port": True} if hasattr(socket, "SO_REUSEPORT") else {}
    server = await loop.create_server(protocol, host, port, **options)
    logger.info("inbound SMTP listening on %s:%s (domain %s)", host, port, settings.inbound_domain or "unset")
    return server


async def stop_receiver(server: asyncio.Server) -> None:
    server.close()
    try:
        async with asyncio.timeout(5):
            await server.wait_closed()
    except TimeoutError:  # a session in the middle of DATA: its MTA retries what was not answered
        pass


async def serve_forever(settings: Settings, address: str) -> None:
    """`sitedesk mail-in --listen`: the database open, SMTP served until SIGTERM or Ctrl+C."""
    import signal

    from core.database import database

    async with database(settings):
        server = await start_receiver(settings, address)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await stop_receiver(server)


async def deliver_stdin(settings: Settings, recipient: str | None) -> int:
    """`sitedesk mail-in`: one message from standard input; the exit code for the MTA."""
    from core.database import database

    raw = sys.stdin.buffer.read(2 * transport_limit(settings) + 1)
    try:
        async with database(settings):
            received = await receive_message(settings, raw, [recipient] if recipient else None)
    except Exception as exc:
        print(f"sitedesk mail-in: temporary failure, try again later: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    print(f"sitedesk mail-in: {received.outcome.value} ({received.smtp_reply})", file=sys.stderr)
    return 0
