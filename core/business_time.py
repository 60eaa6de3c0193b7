"""Business time: arithmetic in the working hours of a calendar (pure; no database).

A `Calendar` is an IANA time zone, working windows per weekday (several a day, an end of
24:00 allowed, overlapping windows merged), explicit holidays and an optional holiday
region of the `holidays` package (`DE-NW`: Germany, North Rhine-Westphalia). On a holiday
nothing counts.

What counts is wall-clock time: an instant is working time when its local date is a
working day and its local time of day lies in one of that weekday's windows (`start <=
time < end`). Durations are real elapsed seconds of such instants, so a window that the
spring-forward gap cuts is shorter, and one the autumn fall-back repeats is longer (both
02:00–03:00 hours count). `tests/service_levels/test_business_time.py` checks this module
against a naive minute-by-minute reference of exactly that rule.

- `business_seconds(calendar, a, b)`: working seconds in [a, b).
- `add_business_seconds(calendar, start, seconds)`: the first instant by which `seconds`
  working seconds have passed since `start`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_package

DAY_MINUTES = 24 * 60
# How far `add_business_seconds` looks for working time before giving up (a calendar whose
# windows all fall on holidays): longer than any target (525,600 minutes) could need.
MAX_SEARCH_DAYS = 366 * 12


class NoWorkingTime(ValueError):
    """The calendar has no working time within `MAX_SEARCH_DAYS` of the start."""


@dataclass(frozen=True, order=True)
class Window:
    """Working time on one weekday (1 = Monday … 7 = Sunday), minutes after local midnight, end exclusive."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    windows: tuple[Window, ...]
    holidays: frozenset[date] = frozenset()
    holiday_region: str | None = None


# ---------------------------------------------------------------- parsing and checks (used by validation)


def parse_clock(text: str) -> int | None:
    """Minutes after midnight of "HH:MM" (00:00 … 24:00), or None when it is not such a time."""
    if len(text) != 5 or text[2] != ":" or not (text[:2].isdigit() and text[3:].isdigit()):
        return None
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def known_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows (not a bare offset or abbreviation)."""
    if name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def known_holiday_region(region: str) -> bool:
    """Whether `region` is a country ("DE") or a country and one of its subdivisions ("DE-NW")."""
    try:
        _region_holidays(region)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


@functools.cache
def _region_holidays(region: str) -> holidays_package.HolidayBase:
    country, _, subdivision = region.partition("-")
    if not country or country != country.upper() or (subdivision and subdivision != subdivision.upper()):
        raise ValueError(region)
    # `country_holidays` raises NotImplementedError for an unknown country and for an unknown subdivision.
    return holidays_package.country_holidays(country, subdiv=subdivision or None)


def is_holiday(calendar: Calendar, day: date) -> bool:
    if day in calendar.holidays:
        return True
    return calendar.holiday_region is not None and day in _region_holidays(calendar.holiday_region)


# ---------------------------------------------------------------- wall clock to instants


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _segments(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset) with one offset each.

    The change points are found by bisection to the second (zones change offset on whole seconds).
    """
    first, last = _offset(zone, start), _offset(zone, end - timedelta(seconds=1))
    if first == last:
        # Two changes within one day that cancel out do not exist in the tz database.
        return [(start, end, first)]
    low, high = start, end - timedelta(seconds=1)  # offset(low) == first, offset(high) != first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if _offset(zone, middle) == first:
            low = middle
        else:
            high = middle
    return [(start, high, first), *_segments(zone, high, end)]


@functools.lru_cache(maxsize=65536)
def day_intervals(calendar: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The working time of local date `day` as UTC instants [from, to), in order (empty on a holiday)."""
    if is_holiday(calendar, day):
        return ()
    minutes = _merged(calendar.windows, day.isoweekday())
    if not minutes:
        return ()
    zone = _zone(calendar.time_zone)
    midnight = datetime.combine(day, time(0))
    # Every instant whose local date is `day` lies within its UTC day widened by the largest
    # offsets there are (UTC-12 … UTC+14).
    search_from = (midnight - timedelta(hours=15)).replace(tzinfo=UTC)
    search_to = (midnight + timedelta(hours=24 + 13)).replace(tzinfo=UTC)
    found: list[tuple[datetime, datetime]] = []
    for seg_from, seg_to, offset in _segments(zone, search_from, search_to):
        for start, end in minutes:
            # Within one segment the wall clock is instant + offset, which runs steadily.
            wall_from = (midnight + timedelta(minutes=start) - offset).replace(tzinfo=UTC)
            wall_to = (midnight + timedelta(minutes=end) - offset).replace(tzinfo=UTC)
            lo, hi = max(seg_from, wall_from), min(seg_to, wall_to)
            if lo < hi:
                found.append((lo, hi))
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _merged(windows: tuple[Window, ...], weekday: int) -> list[tuple[int, int]]:
    spans = sorted((w.start, w.end) for w in windows if w.weekday == weekday and w.start < w.end)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _local_date(calendar: Calendar, instant: datetime) -> date:
    return instant.astimezone(_zone(calendar.time_zone)).date()


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the arithmetic


def business_seconds(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working seconds of `calendar` in [start, end) (0 when end is not after start)."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if end <= start:
        return 0.0
    total = 0.0
    day = _local_date(calendar, start)
    last = _local_date(calendar, end)
    while day <= last:
        for lo, hi in day_intervals(calendar, day):
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def add_business_seconds(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The first instant by which `seconds` working seconds of `calendar` have passed since `start`.

    0 seconds is `start` itself. Raises `NoWorkingTime` when the calendar has none for years.
    """
    start = _aware(start).astimezone(UTC)
    if seconds <= 0:
        return start
    remaining = timedelta(seconds=seconds)
    day = _local_date(calendar, start)
    for _ in range(MAX_SEARCH_DAYS):
        for lo, hi in day_intervals(calendar, day):
            lo = max(lo, start)
            if lo >= hi:
                continue
            if hi - lo >= remaining:
                return lo + remaining
            remaining -= hi - lo
        day += timedelta(days=1)
    raise NoWorkingTime("the calendar has no working time left within the search range")
