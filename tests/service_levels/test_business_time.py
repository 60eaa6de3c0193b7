"""Business minutes (`core/business_time.py`): examples, then properties against a naive reference.

The reference walks UTC minute by minute and asks of each minute what the rule says: its local
date is no holiday and its local time of day lies in a window of that weekday. Windows, holidays
and time-zone transitions all fall on whole minutes, so from a whole-minute start the module and
the reference must agree exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.business_time import (
    Calendar,
    NoWorkingTime,
    Window,
    add_business_seconds,
    business_seconds,
    is_holiday,
    known_holiday_region,
    known_time_zone,
    parse_clock,
)

BERLIN = "Europe/Berlin"
OFFICE = tuple(Window(day, 8 * 60, 17 * 60) for day in range(1, 6))  # Mon–Fri 08:00–17:00


def at(text: str, zone: str = BERLIN) -> datetime:
    """A local wall-clock time as an aware UTC instant (first occurrence)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def minutes(calendar: Calendar, start: datetime, count: int) -> datetime:
    return add_business_seconds(calendar, start, count * 60)


# ---------------------------------------------------------------- examples


def test_a_target_runs_over_the_night_and_the_weekend():
    office = Calendar(BERLIN, OFFICE)
    # Friday 16:00 + 4 business hours: 1 h on Friday, 3 h on Monday.
    assert minutes(office, at("2026-03-06T16:00"), 240) == at("2026-03-09T11:00")
    # Saturday counts nothing; the clock starts on Monday at 08:00.
    assert minutes(office, at("2026-03-07T12:00"), 60) == at("2026-03-09T09:00")
    # Ending exactly when a window closes is that moment, not the next opening.
    assert minutes(office, at("2026-03-06T16:00"), 60) == at("2026-03-06T17:00")


def test_explicit_holidays_and_a_region_s_public_holidays_count_nothing():
    region = Calendar(BERLIN, OFFICE, holiday_region="DE-NW")
    # Fronleichnam (Corpus Christi) 2026-06-04 is a holiday in NRW, not in Berlin.
    assert is_holiday(region, date(2026, 6, 4))
    assert not is_holiday(Calendar(BERLIN, OFFICE, holiday_region="DE-BE"), date(2026, 6, 4))
    assert minutes(region, at("2026-06-03T16:00"), 120) == at("2026-06-05T09:00")
    # Christmas and a bridge day given by hand: 2026-12-24 (Thu) by hand, 25 (Fri) public, then the weekend.
    explicit = Calendar(BERLIN, OFFICE, holidays=frozenset({date(2026, 12, 24)}), holiday_region="DE")
    assert minutes(explicit, at("2026-12-23T16:30"), 60) == at("2026-12-28T08:30")


def test_several_windows_a_day_and_24_00():
    split = Calendar(BERLIN, (Window(1, 8 * 60, 12 * 60), Window(1, 13 * 60, 17 * 60)))
    assert minutes(split, at("2026-03-02T11:30"), 60) == at("2026-03-02T13:30")
    late = Calendar(BERLIN, (Window(1, 20 * 60, 24 * 60), Window(2, 0, 2 * 60)))
    # Monday 23:00 + 2 h: across midnight into Tuesday's window.
    assert minutes(late, at("2026-03-02T23:00"), 120) == at("2026-03-03T01:00")
    always = Calendar(BERLIN, tuple(Window(d, 0, 24 * 60) for d in range(1, 8)))
    assert business_seconds(always, at("2026-03-02T00:00"), at("2026-03-09T00:00")) == 7 * 24 * 3600


def test_daylight_saving_days_count_the_hours_the_clock_shows():
    always = Calendar(BERLIN, tuple(Window(d, 0, 24 * 60) for d in range(1, 8)))
    # 2026-03-29 has 23 hours in Berlin, 2026-10-25 has 25.
    assert business_seconds(always, at("2026-03-29T00:00"), at("2026-03-30T00:00")) == 23 * 3600
    assert business_seconds(always, at("2026-10-25T00:00"), at("2026-10-26T00:00")) == 25 * 3600
    night = Calendar(BERLIN, (Window(7, 1 * 60, 4 * 60),))  # Sunday 01:00–04:00
    assert business_seconds(night, at("2026-03-29T00:00"), at("2026-03-30T00:00")) == 2 * 3600  # 02:xx never shows
    assert business_seconds(night, at("2026-10-25T00:00"), at("2026-10-26T00:00")) == 4 * 3600  # 02:xx shows twice
    # Counting into the gap: 01:00 + 90 min lands after the jump, at 03:30 summer time.
    assert minutes(night, at("2026-03-29T01:00"), 90) == at("2026-03-29T03:30")


def test_a_calendar_without_working_time_is_refused_rather_than_searched_forever():
    nothing = Calendar(BERLIN, (Window(1, 8 * 60, 17 * 60),), holidays=frozenset())
    assert minutes(nothing, at("2026-03-02T08:00"), 60) == at("2026-03-02T09:00")
    every_monday = frozenset(date(2026, 3, 2) + timedelta(weeks=w) for w in range(700))
    with pytest.raises(NoWorkingTime):
        add_business_seconds(Calendar(BERLIN, (Window(1, 0, 60),), holidays=every_monday), at("2026-03-01T00:00"), 60)


def test_checks_used_by_validation():
    assert known_time_zone("Europe/Berlin") and known_time_zone("America/New_York")
    assert not known_time_zone("Mars/Olympus") and not known_time_zone("CET+1") and not known_time_zone("")
    assert known_holiday_region("DE") and known_holiday_region("DE-NW")
    assert not known_holiday_region("DE-XX") and not known_holiday_region("XX") and not known_holiday_region("de-nw")
    assert parse_clock("00:00") == 0 and parse_clock("24:00") == 1440 and parse_clock("08:30") == 510
    assert parse_clock("24:01") is None and parse_clock("8:30") is None and parse_clock("12:60") is None


# ---------------------------------------------------------------- properties


def counts(calendar: Calendar, instant: datetime) -> bool:
    """The rule, for one instant: a working day's window holds its local time of day."""
    local = instant.astimezone(ZoneInfo(calendar.time_zone))
    if is_holiday(calendar, local.date()):
        return False
    minute = local.hour * 60 + local.minute
    return any(w.weekday == local.isoweekday() and w.start <= minute < w.end for w in calendar.windows)


def reference_minutes(calendar: Calendar, start: datetime, end: datetime) -> int:
    total, t = 0, start
    while t < end:
        total += counts(calendar, t)
        t += timedelta(minutes=1)
    return total


def reference_add(calendar: Calendar, start: datetime, count: int) -> datetime:
    t = start
    while True:
        if counts(calendar, t):
            count -= 1
            if count == 0:
                return t + timedelta(minutes=1)
        t += timedelta(minutes=1)


# Zones with the interesting cases: European DST, a southern-hemisphere zone, half-hour DST
# (Lord Howe), a 45-minute offset (Chatham), no DST at all (Kolkata).
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
]
# Starts near the transitions of 2026 (both hemispheres) and around new year.
ANCHORS = [
    datetime(2026, 3, 27, tzinfo=UTC),
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 4, 3, tzinfo=UTC),
    datetime(2026, 9, 25, tzinfo=UTC),
    datetime(2026, 10, 23, tzinfo=UTC),
    datetime(2026, 10, 30, tzinfo=UTC),
    datetime(2026, 12, 30, tzinfo=UTC),
]


@st.composite
def windows(draw: st.DrawFn) -> tuple[Window, ...]:
    found = []
    for weekday in range(1, 8):
        for _ in range(draw(st.integers(0, 2))):
            # Any window, but with at least an hour a week in all (a target must fit in the search range).
            start = draw(st.integers(0, 23 * 60 + 59))
            end = draw(st.integers(start + 1, 24 * 60))
            found.append(Window(weekday, start, end))
    if sum(w.end - w.start for w in found) < 60:
        found.append(Window(draw(st.integers(1, 7)), 0, 24 * 60))
    return tuple(found)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    holidays = frozenset(draw(st.lists(st.dates(date(2026, 3, 1), date(2027, 1, 10)), max_size=4)))
    region = draw(st.sampled_from([None, "DE-NW", "US", "AU-NSW"]))
    return Calendar(zone, draw(windows()), holidays, region)


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    return draw(st.sampled_from(ANCHORS)) + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)))


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(calendars(), starts(), st.integers(0, 4 * 24 * 60))
def test_business_seconds_match_the_minute_by_minute_reference(calendar, start, span):
    end = start + timedelta(minutes=span)
    assert business_seconds(calendar, start, end) == reference_minutes(calendar, start, end) * 60


@PROPERTY_SETTINGS
@given(calendars(), starts(), st.integers(1, 3 * 24 * 60))
def test_adding_matches_the_reference_and_counts_back(calendar, start, count):
    due = minutes(calendar, start, count)
    assert due == reference_add(calendar, start, count)
    assert business_seconds(calendar, start, due) == count * 60


@PROPERTY_SETTINGS
@given(calendars(), starts(), st.integers(1, 2000), st.integers(1, 2000))
def test_adding_in_two_steps_is_adding_once(calendar, start, first, second):
    # What pausing relies on: moving a due time later by b equals counting a + b from the start.
    assert minutes(calendar, minutes(calendar, start, first), second) == minutes(calendar, start, first + second)


@PROPERTY_SETTINGS
@given(calendars(), starts(), st.floats(1, 10 * 24 * 3600))
def test_seconds_are_exact_too(calendar, start, seconds):
    due = add_business_seconds(calendar, start, seconds)
    assert abs(business_seconds(calendar, start, due) - seconds) < 1e-3
