"""Service levels in the demo (issue 26): two calendars, two policies, a pausing state, and tickets in
every service-level state, so the portal and GraphiQL show them at once.

- "Werktage NRW": Monday to Friday 07:00–18:00 in Europe/Berlin, NRW's public holidays off.
  The policy "Standard" (any customer, any type) counts in it.
- "Rund um die Uhr": every hour of every day. The policy "Stadtwerke Bereitschaft" (Stadtwerke
  Musterstadt's damage reports: a water damage within the hour) counts in it, so the showcase
  tickets are in the state they are named for whenever the demo is seeded.
- "Wartet auf Kunde" on "Schaden" stops the resolution clock.

The showcase tickets are made through the ticket services at their moments (`at`), like the rest
of the demo's history; one round of the background check then records what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.service_levels import TicketPriority
from models.tickets import TicketStatus, TicketType
from permissions.viewer import Viewer
from resolvers.service_levels import configure
from resolvers.service_levels.check import check_round
from resolvers.tickets import add_comment, create_ticket, set_ticket_status
from resolvers.tickets import states as ticket_states
from resolvers.tickets.workflow import set_ticket_state

WORKDAYS = [{"weekday": d, "start": "07:00", "end": "18:00"} for d in range(1, 6)]
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
WAITING = "Wartet auf Kunde"


def _targets(*rows: tuple[TicketPriority, int, int]) -> list[dict[str, Any]]:
    return [{"priority": p, "first_response_minutes": f, "resolution_minutes": r} for p, f, r in rows]


async def seed_service_levels(types: dict[str, TicketType], stadtwerke_id: int) -> None:
    """The calendars, the policies and the pausing state (before any ticket, so all of them get one)."""
    workdays = await configure.create_business_calendar(
        name="Werktage NRW", time_zone="Europe/Berlin", hours=WORKDAYS, holiday_region="DE-NW"
    )
    always = await configure.create_business_calendar(name="Rund um die Uhr", time_zone="Europe/Berlin", hours=ALWAYS)
    await configure.create_service_level_policy(
        name="Standard",
        calendar_id=workdays.id,
        warn_at_percent=80,
        targets=_targets(
            (TicketPriority.LOW, 960, 4800),
            (TicketPriority.NORMAL, 480, 2400),
            (TicketPriority.HIGH, 240, 960),
            (TicketPriority.URGENT, 60, 480),
        ),
    )
    await configure.create_service_level_policy(
        name="Stadtwerke Bereitschaft",
        calendar_id=always.id,
        customer_id=stadtwerke_id,
        ticket_type_ids=[types["Schaden"].id],
        warn_at_percent=75,
        targets=_targets(
            (TicketPriority.NORMAL, 240, 1440),
            (TicketPriority.HIGH, 120, 480),
            (TicketPriority.URGENT, 30, 240),
        ),
    )
    await ticket_states.create_ticket_state(
        types["Schaden"].id, WAITING, TicketStatus.IN_PROGRESS, position=3, pauses_service_level=True
    )


@dataclass(frozen=True)
class Showcase:
    """One ticket of the showcase: how long ago it came, and what happened to it since (minutes after creation)."""

    title: str
    priority: TicketPriority
    minutes_ago: int
    answered: int | None = None
    paused: int | None = None
    done: int | None = None


SHOWCASE = [
    Showcase("Wasser tritt aus der Decke im Archiv", TicketPriority.URGENT, 10),  # running, no warning yet
    Showcase("Heizungsrohr tropft im Serverraum", TicketPriority.URGENT, 25),  # first response warned
    Showcase("Rückstau im Keller, Abfluss läuft über", TicketPriority.URGENT, 190),  # first response breached
    Showcase("Glasscheibe im Foyer gesprungen", TicketPriority.HIGH, 600, answered=45),  # resolution breached
    Showcase("Tür zum Technikraum klemmt", TicketPriority.HIGH, 300, answered=30, paused=90),  # paused
    Showcase("Sturmschaden am Fahrradunterstand", TicketPriority.NORMAL, 2880, answered=60, done=1200),  # met
]


async def seed_showcase(
    settings: Any,
    types: dict[str, TicketType],
    reporter: Viewer,
    worker: Viewer,
    object_id: int,
    now: datetime,
) -> list[int]:
    """The showcase tickets (Stadtwerke's damage reports) and one check round at `now`; their ids."""
    waiting = next(
        s for s in (await ticket_states.states_of([types["Schaden"].id]))[types["Schaden"].id] if s.name == WAITING
    )
    ids = []
    for item in SHOWCASE:
        created = now - timedelta(minutes=item.minutes_ago)
        ticket = await create_ticket(
            reporter,
            settings,
            object_id=object_id,
            ticket_type_id=types["Schaden"].id,
            title=item.title,
            description="Bitte dringend ansehen.",
            priority=item.priority,
            at=created,
        )
        if item.answered is not None:
            at = created + timedelta(minutes=item.answered)
            await add_comment(worker, ticket.id, "Wir sind informiert und kümmern uns.", at=at)
        if item.paused is not None:
            at = created + timedelta(minutes=item.paused)
            await add_comment(worker, ticket.id, "Bitte schicken Sie uns ein Foto der Tür.", at=at)
            await set_ticket_state(worker, ticket.id, waiting.id, at=at)
        if item.done is not None:
            await set_ticket_status(worker, ticket.id, TicketStatus.DONE, at=created + timedelta(minutes=item.done))
        ids.append(ticket.id)
    while await check_round(now=now):
        pass
    return ids
