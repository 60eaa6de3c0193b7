"""Dates and instants as they enter: one plausible range, and UTC everywhere.

Every date or instant a client sends that the service stores or compares with
stored ones (imported `createdAt`/`doneAt`, the ticket filter's
`createdAfter`/`createdBefore`, an evaluation's `from`/`to`) must lie within
`EARLIEST_DATE` … `LATEST_DATE` (UTC days, both inclusive); outside it is
`BAD_USER_INPUT` with `extensions.field`. Instants are stored and compared in
UTC: SQLite keeps a datetime as ISO text with the offset it came with, so
`2026-03-01T10:00:00+02:00` would compare as text against
`2026-03-01T08:30:00+00:00` and lose. A value without an offset is UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.errors import BadUserInput

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
RANGE_TEXT = f"{EARLIEST_DATE.isoformat()} … {LATEST_DATE.isoformat()}"


def _refused(field: str | None, what: str) -> BadUserInput:
    return BadUserInput(
        f"{what} must lie within {RANGE_TEXT} (UTC).",
        field=field,
        earliest=EARLIEST_DATE.isoformat(),
        latest=LATEST_DATE.isoformat(),
    )


def utc(value: datetime, field: str | None = None) -> datetime:
    """`value` as an aware UTC datetime (naive means UTC); an instant beyond what Python can hold is refused."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise _refused(field, "The time") from None


def plausible_instant(value: datetime, field: str) -> datetime:
    """`value` in UTC when its UTC day lies within the plausible range, else `BAD_USER_INPUT` at `field`."""
    instant = utc(value, field)
    if not EARLIEST_DATE <= instant.date() <= LATEST_DATE:
        raise _refused(field, "The time")
    return instant


def plausible_date(value: date, field: str) -> date:
    """`value` when it lies within the plausible range, else `BAD_USER_INPUT` at `field`."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _refused(field, "The date")
    return value
