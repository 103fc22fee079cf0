"""Reporting periods as half-open instant ranges [start, end) in a line's local time.

A day runs from local midnight to local midnight, a week from Monday (ISO), a month and a year from the
first local midnight. A shift runs from its start to its end, breaks included. Actuals and targets of a
period are both taken over the same instants, so a night shift split by midnight is split alike in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from reporting.domain.calendar import LineCalendar, ShiftWindow

PeriodKind = Literal["shift", "day", "week", "month", "year"]
KINDS: tuple[PeriodKind, ...] = ("shift", "day", "week", "month", "year")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    label: str
    start: datetime
    end: datetime
    shift: ShiftWindow | None = None

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def day_period(cal: LineCalendar, day: date) -> Period:
    start, end = cal.day_bounds(day)
    return Period("day", day.isoformat(), start, end)


def week_period(cal: LineCalendar, day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Period("week", f"{year}-W{week:02d}", cal.day_start(monday), cal.day_start(monday + timedelta(days=7)))


def month_period(cal: LineCalendar, year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period("month", f"{year}-{month:02d}", cal.day_start(first), cal.day_start(following))


def year_period(cal: LineCalendar, year: int) -> Period:
    return Period("year", str(year), cal.day_start(date(year, 1, 1)), cal.day_start(date(year + 1, 1, 1)))


def shift_period(window: ShiftWindow) -> Period:
    return Period("shift", window.label, window.start, window.end, window)


def period_at(kind: PeriodKind, cal: LineCalendar, at: datetime) -> Period | None:
    """The period of `kind` containing `at`; for a shift, the one running or else the last one ended."""
    if kind == "shift":
        window = cal.current_or_last_shift(at)
        return shift_period(window) if window is not None else None
    day = cal.local_date(at)
    if kind == "day":
        return day_period(cal, day)
    if kind == "week":
        return week_period(cal, day)
    if kind == "month":
        return month_period(cal, day.year, day.month)
    return year_period(cal, day.year)


def periods_between(kind: PeriodKind, cal: LineCalendar, start: datetime, end: datetime) -> Iterator[Period]:
    """Every period of `kind` overlapping [start, end), in order (shifts: only working shifts)."""
    if kind == "shift":
        for window in cal.windows(start, end):
            yield shift_period(window)
        return
    first = cal.local_date(start)
    current: Period | None = period_at(kind, cal, cal.day_start(first))
    while current is not None and current.start < end:
        yield current
        current = period_at(kind, cal, current.end)
