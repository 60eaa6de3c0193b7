"""What became of a received message, and the SMTP answer for it."""

from __future__ import annotations

from dataclasses import dataclass

from models.inbound_mail import InboundOutcome


@dataclass(frozen=True)
class Received:
    """The outcome (the counter's label), the SMTP code and text, and what was stored."""

    outcome: InboundOutcome
    code: int = 250
    text: str = "2.0.0 OK"
    ticket_id: int | None = None
    comment_id: int | None = None

    @property
    def smtp_reply(self) -> str:
        return f"{self.code} {self.text}"
