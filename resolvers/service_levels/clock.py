"""A ticket's service-level clock: the rules, as pure functions over its `sla_*` columns.

- At creation the most specific policy's current terms are fixed on the ticket; the due
  times come from `createdAt` and the target of the ticket's priority (`started`).
- A priority change recomputes them from `createdAt` with the terms' other target.
- First response: an employee's first public comment, or an employee's first move into an
  IN_PROGRESS or DONE state (`responded`). Resolution: the move into DONE (`moved`).
- A state with `pausesServiceLevel` stops the resolution clock; leaving it moves the
  resolution due time later by the business time spent there.
- Leaving DONE restarts the resolution clock from that moment; a breach recorded stays.
- A met target is breached when it was met after its due time; an unmet one from its due time on.

`SlaState.columns()` is what the ticket row stores, including when the background check must
look next (`sla_next_check_at`) and the RESOLUTION_DUE sort keys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntFlag
from typing import Any

from core.business_time import (
    Calendar,
    NoWorkingTime,
    Window,
    add_business_seconds,
    business_seconds,
    parse_clock,
)
from models.service_levels import TicketPriority
from models.tickets import NO_DUE_LAST_ASCENDING, NO_DUE_LAST_DESCENDING


class Notice(IntFlag):
    """The four announcements of a ticket, each made at most once (`ticket.sla_notified` bits)."""

    FIRST_RESPONSE_WARNING = 1
    FIRST_RESPONSE_BREACHED = 2
    RESOLUTION_WARNING = 4
    RESOLUTION_BREACHED = 8

    @property
    def target(self) -> str:
        return (
            "FIRST_RESPONSE"
            if self & (Notice.FIRST_RESPONSE_WARNING | Notice.FIRST_RESPONSE_BREACHED)
            else "RESOLUTION"
        )

    @property
    def is_breach(self) -> bool:
        return bool(self & (Notice.FIRST_RESPONSE_BREACHED | Notice.RESOLUTION_BREACHED))


def calendar_of(snapshot: dict[str, Any]) -> Calendar:
    """A stored calendar (`BusinessCalendar` columns or a terms snapshot) as `core.business_time.Calendar`."""
    windows = []
    for item in snapshot["hours"]:
        start, end = parse_clock(item["start"]), parse_clock(item["end"])
        assert start is not None and end is not None  # validated when saved
        windows.append(Window(int(item["weekday"]), start, end))
    return Calendar(
        time_zone=snapshot["time_zone"],
        windows=tuple(sorted(windows)),
        holidays=frozenset(date.fromisoformat(d) for d in snapshot["holidays"]),
        holiday_region=snapshot.get("holiday_region"),
    )


@dataclass(frozen=True)
class Terms:
    """A `ServiceLevelTerms` row, ready to compute with."""

    id: int
    policy_name: str
    calendar: Calendar
    # priority -> (first response minutes, resolution minutes)
    targets: dict[str, tuple[int, int]]
    warn_at_percent: int

    @classmethod
    def of(cls, row: Any) -> Terms:
        """From a `ServiceLevelTerms` row (a model or a values dict)."""
        values: dict[str, Any] = row if isinstance(row, dict) else row.__dict__
        return cls(
            id=int(values["id"]),
            policy_name=str(values["policy_name"]),
            calendar=calendar_of(values["calendar"]),
            targets={
                t["priority"]: (int(t["first_response_minutes"]), int(t["resolution_minutes"]))
                for t in values["targets"]
            },
            warn_at_percent=int(values["warn_at_percent"]),
        )


# The ticket columns this module reads and writes.
COLUMNS = (
    "priority",
    "created_at",
    "sla_terms_id",
    "sla_first_response_due_at",
    "sla_first_response_warn_at",
    "sla_first_responded_at",
    "sla_first_response_breached",
    "sla_resolution_started_at",
    "sla_paused_seconds",
    "sla_paused_since",
    "sla_resolution_due_at",
    "sla_resolution_warn_at",
    "sla_resolved_at",
    "sla_resolution_breached",
    "sla_notified",
    "sla_next_check_at",
)


def _priority(value: Any) -> str:
    return str(getattr(value, "value", value))


@dataclass
class SlaState:
    """A ticket's `sla_*` columns (and its priority and creation time)."""

    priority: str
    created_at: datetime
    terms_id: int | None = None
    first_response_due_at: datetime | None = None
    first_response_warn_at: datetime | None = None
    first_responded_at: datetime | None = None
    first_response_breached: bool = False
    resolution_started_at: datetime | None = None
    paused_seconds: float = 0.0
    paused_since: datetime | None = None
    resolution_due_at: datetime | None = None
    resolution_warn_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution_breached: bool = False
    notified: int = 0

    @classmethod
    def of(cls, row: Any) -> SlaState:
        """From a ticket model or a values dict holding `COLUMNS`."""
        get: Any = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        return cls(
            priority=_priority(get("priority")),
            created_at=get("created_at"),
            terms_id=get("sla_terms_id"),
            first_response_due_at=get("sla_first_response_due_at"),
            first_response_warn_at=get("sla_first_response_warn_at"),
            first_responded_at=get("sla_first_responded_at"),
            first_response_breached=bool(get("sla_first_response_breached")),
            resolution_started_at=get("sla_resolution_started_at"),
            paused_seconds=float(get("sla_paused_seconds") or 0.0),
            paused_since=get("sla_paused_since"),
            resolution_due_at=get("sla_resolution_due_at"),
            resolution_warn_at=get("sla_resolution_warn_at"),
            resolved_at=get("sla_resolved_at"),
            resolution_breached=bool(get("sla_resolution_breached")),
            notified=int(get("sla_notified") or 0),
        )

    # ------------------------------------------------------------ derived

    def pending(self) -> list[tuple[datetime, Notice]]:
        """The announcements still to come, with their moments."""
        found: list[tuple[datetime, Notice]] = []
        notified = Notice(self.notified)
        if self.first_responded_at is None and self.first_response_due_at is not None:
            if self.first_response_warn_at is not None and Notice.FIRST_RESPONSE_WARNING not in notified:
                found.append((self.first_response_warn_at, Notice.FIRST_RESPONSE_WARNING))
            if Notice.FIRST_RESPONSE_BREACHED not in notified:
                found.append((self.first_response_due_at, Notice.FIRST_RESPONSE_BREACHED))
        if self.resolved_at is None and self.paused_since is None and self.resolution_due_at is not None:
            if self.resolution_warn_at is not None and Notice.RESOLUTION_WARNING not in notified:
                found.append((self.resolution_warn_at, Notice.RESOLUTION_WARNING))
            if Notice.RESOLUTION_BREACHED not in notified:
                found.append((self.resolution_due_at, Notice.RESOLUTION_BREACHED))
        return found

    def next_check_at(self) -> datetime | None:
        moments = [at for at, _ in self.pending()]
        return min(moments) if moments else None

    def due_notices(self, now: datetime) -> tuple[Notice, Notice]:
        """(what to claim, what to announce) at `now`: a warning whose breach is due as well is
        claimed without being announced (the breach says more)."""
        due = Notice(0)
        for at, notice in self.pending():
            if at <= now:
                due |= notice
        announce = due
        if Notice.FIRST_RESPONSE_BREACHED in due:
            announce &= ~Notice.FIRST_RESPONSE_WARNING
        if Notice.RESOLUTION_BREACHED in due:
            announce &= ~Notice.RESOLUTION_WARNING
        return due, announce

    def first_response_breached_at(self, now: datetime) -> bool:
        if self.first_response_due_at is None:
            return False
        if self.first_response_breached:
            return True
        return self.first_responded_at is None and self.first_response_due_at <= now

    def resolution_breached_at(self, now: datetime) -> bool:
        if self.resolution_due_at is None:
            return False
        if self.resolution_breached:
            return True
        return self.resolved_at is None and self.paused_since is None and self.resolution_due_at <= now

    def columns(self) -> dict[str, Any]:
        """The ticket's `sla_*` columns for an UPDATE (or a create)."""
        due = self.resolution_due_at
        return {
            "sla_terms_id": self.terms_id,
            "sla_first_response_due_at": self.first_response_due_at,
            "sla_first_response_warn_at": self.first_response_warn_at,
            "sla_first_responded_at": self.first_responded_at,
            "sla_first_response_breached": self.first_response_breached,
            "sla_resolution_started_at": self.resolution_started_at,
            "sla_paused_seconds": self.paused_seconds,
            "sla_paused_since": self.paused_since,
            "sla_resolution_due_at": due,
            "sla_resolution_warn_at": self.resolution_warn_at,
            "sla_resolved_at": self.resolved_at,
            "sla_resolution_breached": self.resolution_breached,
            "sla_notified": self.notified,
            "sla_next_check_at": self.next_check_at(),
            "sla_due_ascending": due if due is not None else NO_DUE_LAST_ASCENDING,
            "sla_due_descending": due if due is not None else NO_DUE_LAST_DESCENDING,
        }

    # ------------------------------------------------------------ the rules

    def computed(self, terms: Terms | None) -> SlaState:
        """Due and warning times from the terms' target for the priority (none without one)."""
        target = terms.targets.get(self.priority) if terms is not None else None
        if terms is None or target is None:
            return dataclasses.replace(
                self,
                first_response_due_at=None,
                first_response_warn_at=None,
                resolution_due_at=None,
                resolution_warn_at=None,
            )
        first_minutes, resolution_minutes = target
        share = terms.warn_at_percent / 100
        calendar = terms.calendar
        started = self.resolution_started_at or self.created_at
        try:
            return dataclasses.replace(
                self,
                first_response_due_at=add_business_seconds(calendar, self.created_at, first_minutes * 60),
                first_response_warn_at=add_business_seconds(calendar, self.created_at, first_minutes * 60 * share),
                resolution_started_at=started,
                resolution_due_at=add_business_seconds(
                    calendar, started, resolution_minutes * 60 + self.paused_seconds
                ),
                resolution_warn_at=add_business_seconds(
                    calendar, started, resolution_minutes * 60 * share + self.paused_seconds
                ),
            )
        except NoWorkingTime:  # a calendar whose holidays leave no working time for years: no due times
            return self.computed(None)

    def met_late(self) -> SlaState:
        """The breach flags of targets met after their due time."""
        first = self.first_response_breached or (
            self.first_responded_at is not None
            and self.first_response_due_at is not None
            and self.first_responded_at > self.first_response_due_at
        )
        resolution = self.resolution_breached or (
            self.resolved_at is not None
            and self.resolution_due_at is not None
            and self.resolved_at > self.resolution_due_at
        )
        return dataclasses.replace(self, first_response_breached=first, resolution_breached=resolution)


def started(terms: Terms | None, priority: TicketPriority | str, at: datetime) -> SlaState:
    """The clock of a ticket created at `at` under `terms` (None: no policy applies)."""
    state = SlaState(priority=_priority(priority), created_at=at, terms_id=terms.id if terms else None)
    if terms is None:
        return state
    return dataclasses.replace(state, resolution_started_at=at).computed(terms)


def reprioritised(state: SlaState, terms: Terms | None, priority: TicketPriority | str) -> SlaState:
    """Due times recomputed from createdAt with the target of the new priority."""
    return dataclasses.replace(state, priority=_priority(priority)).computed(terms).met_late()


def responded(state: SlaState, at: datetime) -> SlaState:
    """The first response at `at` (nothing changes after the first)."""
    if state.first_responded_at is not None or state.first_response_due_at is None:
        return state
    return dataclasses.replace(state, first_responded_at=at).met_late()


def moved(
    state: SlaState,
    terms: Terms | None,
    at: datetime,
    *,
    leaves_done: bool,
    enters_done: bool,
    pauses: bool,
) -> SlaState:
    """A move into another state at `at` (`pauses`: the target state has `pausesServiceLevel`)."""
    if state.resolution_due_at is None or terms is None:
        return state
    if leaves_done:  # a reopening: the resolution clock starts again from here, a recorded breach stays
        state = dataclasses.replace(
            state, resolution_started_at=at, paused_seconds=0.0, paused_since=None, resolved_at=None
        ).computed(terms)
    if state.paused_since is not None and (enters_done or not pauses):
        spent = business_seconds(terms.calendar, state.paused_since, at)
        state = dataclasses.replace(state, paused_seconds=state.paused_seconds + spent, paused_since=None).computed(
            terms
        )
    if enters_done:
        if state.resolved_at is None:
            state = dataclasses.replace(state, resolved_at=at).met_late()
    elif pauses and state.paused_since is None and state.resolved_at is None:
        state = dataclasses.replace(state, paused_since=at)
    return state
