"""Periods as instant ranges in local time, and the time-range parameters of the queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from reporting.domain.calendar import BreakWindow, CalendarVersion, LineCalendar, ShiftDefinition
from reporting.domain.errors import InvalidInput
from reporting.domain.periods import period_at, periods_between
from reporting.service.ranges import resolve_range

BERLIN = ZoneInfo("Europe/Berlin")
SHIFTS = (
    ShiftDefinition("A", time(6), time(14), (BreakWindow(time(10), time(10, 30)),)),
    ShiftDefinition("B", time(14), time(22), ()),
)
CAL = LineCalendar(
    "L1",
    [CalendarVersion("L1", 1, "Europe/Berlin", date(2026, 1, 1), frozenset({1, 2, 3, 4, 5}), frozenset(), SHIFTS)],
    "UTC",
)


def berlin(m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, y: int = 2026) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BERLIN).astimezone(UTC)


def test_periods_containing_an_instant() -> None:
    at = berlin(11, 26, 14, 0)  # the B shift has just started
    assert period_at("shift", CAL, at).label == "2026-11-26 B"
    assert period_at("shift", CAL, berlin(11, 26, 13, 59, 59)).label == "2026-11-26 A"
    day = period_at("day", CAL, at)
    assert (day.label, day.start, day.end) == ("2026-11-26", berlin(11, 26), berlin(11, 27))
    week = period_at("week", CAL, at)
    assert (week.label, week.start, week.end) == ("2026-W48", berlin(11, 23), berlin(11, 30))
    month = period_at("month", CAL, at)
    assert (month.label, month.start, month.end) == ("2026-11", berlin(11, 1), berlin(12, 1))
    year = period_at("year", CAL, at)
    assert (year.start, year.end) == (berlin(1, 1), berlin(1, 1, y=2027))


def test_the_iso_week_of_new_year() -> None:
    week = period_at("week", CAL, berlin(1, 1, 12, y=2027))  # a Friday
    assert week.label == "2026-W53"
    assert week.start == berlin(12, 28)


def test_periods_between_cover_a_range_in_order() -> None:
    days = list(periods_between("day", CAL, berlin(11, 25, 12), berlin(11, 27, 1)))
    assert [d.label for d in days] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    shifts = list(periods_between("shift", CAL, berlin(11, 27), berlin(11, 30)))  # Friday to Monday 00:00
    assert [s.label for s in shifts] == ["2026-11-27 A", "2026-11-27 B"]
    months = list(periods_between("month", CAL, berlin(11, 15), berlin(12, 15)))
    assert [m.label for m in months] == ["2026-11", "2026-12"]


def test_a_date_range_includes_the_whole_last_day_and_a_datetime_end_is_exclusive() -> None:
    at = berlin(11, 26, 12)
    span = resolve_range(CAL, at, start=date(2026, 11, 2), end=date(2026, 11, 6), period=None)
    assert (span.start, span.end) == (berlin(11, 2), berlin(11, 7))
    exact = resolve_range(CAL, at, start=berlin(11, 2, 6), end=berlin(11, 2, 7), period=None)
    assert (exact.start, exact.end) == (berlin(11, 2, 6), berlin(11, 2, 7))
    open_ended = resolve_range(CAL, at, start=date(2026, 11, 20), end=None, period=None)
    assert open_ended.end == at
    default = resolve_range(CAL, at, start=None, end=None, period=None)
    assert default.label == "2026-11-26"
    assert resolve_range(CAL, at, start=None, end=None, period="shift").label == "2026-11-26 A"


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({"start": date(2026, 11, 2), "end": None, "period": "day"}, "range.ambiguous"),
        ({"start": None, "end": date(2026, 11, 2), "period": None}, "range.from-required"),
        ({"start": date(2026, 11, 5), "end": date(2026, 11, 4), "period": None}, "range.empty"),
        ({"start": date(2025, 1, 1), "end": date(2026, 11, 4), "period": None}, "range.too-long"),
    ],
)
def test_refused_ranges(kwargs: dict[str, object], rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        resolve_range(CAL, berlin(11, 26, 12), **kwargs)  # type: ignore[arg-type]
    assert refused.value.rule == rule


def test_a_shift_range_needs_a_calendar() -> None:
    with pytest.raises(InvalidInput) as refused:
        resolve_range(LineCalendar("", [], "UTC"), berlin(11, 26), start=None, end=None, period="shift")
    assert refused.value.rule == "range.shift-needs-calendar"
