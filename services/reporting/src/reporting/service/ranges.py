"""Time ranges of queries: either `from`/`to` or a `period` containing `at` (default: the day of `at`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from reporting.domain.calendar import LineCalendar
from reporting.domain.errors import InvalidInput
from reporting.domain.periods import PeriodKind, period_at

MAX_RANGE = timedelta(days=400)


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime
    label: str

    def until(self, at: datetime) -> datetime:
        """The exclusive end of what has happened by `at` (an event at exactly `at` counts)."""
        return min(self.end, through(at))


def through(at: datetime) -> datetime:
    """The exclusive end that still includes an event at exactly `at`."""
    return at + timedelta(microseconds=1)


def _instant(cal: LineCalendar, value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    # A date `to` includes that whole day.
    return cal.day_start(value + timedelta(days=1) if end else value)


def resolve_range(
    cal: LineCalendar,
    at: datetime,
    *,
    start: date | datetime | None,
    end: date | datetime | None,
    period: PeriodKind | None,
) -> Range:
    if period is not None and (start is not None or end is not None):
        raise InvalidInput("range.ambiguous", "give either period (with at) or from/to, not both")
    if start is None and end is not None:
        raise InvalidInput("range.from-required", "to needs from")
    if start is not None:
        lo = _instant(cal, start, end=False)
        hi = _instant(cal, end, end=True) if end is not None else at
        if lo >= hi:
            raise InvalidInput("range.empty", f"from ({lo.isoformat()}) must be before to ({hi.isoformat()})")
        if hi - lo > MAX_RANGE:
            raise InvalidInput("range.too-long", f"a range may span at most {MAX_RANGE.days} days")
        return Range(lo, hi, f"{lo.isoformat()}/{hi.isoformat()}")
    kind: PeriodKind = period or "day"
    if kind == "shift" and not cal.has_calendar:
        raise InvalidInput("range.shift-needs-calendar", "period=shift needs a line with a published calendar")
    found = period_at(kind, cal, at)
    if found is None:
        raise InvalidInput("range.no-shift", "the line's calendar has no shift before this instant")
    return Range(found.start, found.end, found.label)
