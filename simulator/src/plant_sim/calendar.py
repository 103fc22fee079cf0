"""The plant calendar as the simulator plans with it: shifts on working days, their breaks, and working time.

The same rules as workforce publishes and reporting buckets by: shift times are local wall-clock times in the
calendar's zone; a shift whose end is at or before its start crosses midnight and belongs to the date it
started on; a break lies inside its shift. A shift's span [start, end) holds the events of that shift
(breaks included); working time is the span minus the breaks. Every instant is an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    code: str
    start: time
    end: time
    breaks: tuple[tuple[time, time], ...] = ()

    @property
    def span_minutes(self) -> int:
        return _span(self.start, self.end)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _span(start: time, end: time) -> int:
    """Minutes from start to end on a daily clock (crossing midnight when end <= start)."""
    return (_minutes(end) - _minutes(start)) % (24 * 60) or 24 * 60


@dataclass(frozen=True, slots=True)
class ShiftInstance:
    """One shift on one date, as UTC instants."""

    date: date
    code: str
    start: datetime
    end: datetime
    breaks: tuple[tuple[datetime, datetime], ...]

    @property
    def label(self) -> str:
        """How reporting names it: '2026-03-02 A'."""
        return f"{self.date.isoformat()} {self.code}"

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    @property
    def working(self) -> tuple[tuple[datetime, datetime], ...]:
        """The span minus its breaks, in order."""
        pieces, cursor = [], self.start
        for lo, hi in sorted(self.breaks):
            if lo > cursor:
                pieces.append((cursor, lo))
            cursor = max(cursor, hi)
        if cursor < self.end:
            pieces.append((cursor, self.end))
        return tuple(pieces)

    @property
    def working_minutes(self) -> float:
        return sum((hi - lo).total_seconds() for lo, hi in self.working) / 60


class PlantCalendar:
    """Working days, holidays and shifts of one line in one time zone (one calendar version)."""

    def __init__(
        self,
        *,
        time_zone: str,
        working_days: frozenset[int],
        holidays: frozenset[date],
        shifts: tuple[ShiftPattern, ...],
        valid_from: date,
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self.time_zone = time_zone
        self.working_days = working_days
        self.holidays = holidays
        self.shifts = tuple(sorted(shifts, key=lambda s: _minutes(s.start)))
        self.valid_from = valid_from
        self._cache: dict[date, tuple[ShiftInstance, ...]] = {}

    # ---- dates -----------------------------------------------------------------------------------

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def local(self, day: date, clock: time) -> datetime:
        """The UTC instant of a wall-clock time on a local date."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def day_start(self, day: date) -> datetime:
        return self.local(day, time(0))

    def is_working_day(self, day: date) -> bool:
        return day >= self.valid_from and day.isoweekday() in self.working_days and day not in self.holidays

    @cached_property
    def daily_working_minutes(self) -> float:
        """Working minutes of an ordinary working day (no daylight-saving change)."""
        return float(sum(s.span_minutes - sum(_span(b0, b1) for b0, b1 in s.breaks) for s in self.shifts))

    # ---- shifts ----------------------------------------------------------------------------------

    def shifts_on(self, day: date) -> tuple[ShiftInstance, ...]:
        """The shifts that start on `day`, in start order (none on a day off)."""
        found = self._cache.get(day)
        if found is None:
            found = tuple(self._instance(day, s) for s in self.shifts) if self.is_working_day(day) else ()
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[day] = found
        return found

    def _instance(self, day: date, pattern: ShiftPattern) -> ShiftInstance:
        start = self.local(day, pattern.start)
        end = self.local(day + ONE_DAY if _minutes(pattern.end) <= _minutes(pattern.start) else day, pattern.end)
        breaks = []
        for b0, b1 in pattern.breaks:
            # A break whose clock time is before the shift's start happens after midnight.
            on = day if _minutes(b0) >= _minutes(pattern.start) else day + ONE_DAY
            lo = self.local(on, b0)
            hi = self.local(on if _minutes(b1) > _minutes(b0) else on + ONE_DAY, b1)
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                breaks.append((lo, hi))
        return ShiftInstance(day, pattern.code, start, end, tuple(sorted(breaks)))

    def shifts_between(self, start: datetime, end: datetime) -> Iterator[ShiftInstance]:
        """Shift instances overlapping [start, end), in start order."""
        day = self.local_date(start) - ONE_DAY  # a night shift of the day before may still run
        last = self.local_date(end)
        while day <= last:
            for shift in self.shifts_on(day):
                if shift.end > start and shift.start < end:
                    yield shift
            day += ONE_DAY

    def shift_at(self, at: datetime) -> ShiftInstance | None:
        """The shift whose span (breaks included) contains `at`."""
        return next((s for s in self.shifts_between(at, at + timedelta(microseconds=1)) if s.contains(at)), None)

    def next_shift_start(self, after: datetime, *, limit_days: int = 400) -> ShiftInstance | None:
        """The first shift that starts at or after `after`."""
        day = self.local_date(after) - ONE_DAY
        for _ in range(limit_days):
            for shift in self.shifts_on(day):
                if shift.start >= after:
                    return shift
            day += ONE_DAY
        return None

    # ---- working time ----------------------------------------------------------------------------

    def working_intervals(self, start: datetime, *, limit_days: int = 400) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (shift spans minus breaks) from `start` on, clipped to start at `start`."""
        day = self.local_date(start) - ONE_DAY
        for _ in range(limit_days):
            for shift in self.shifts_on(day):
                for lo, hi in shift.working:
                    if hi > start:
                        yield max(lo, start), hi
            day += ONE_DAY

    def is_working(self, at: datetime) -> bool:
        shift = self.shift_at(at)
        return shift is not None and any(lo <= at < hi for lo, hi in shift.working)

    def next_working(self, at: datetime) -> datetime:
        """`at` when it is working time, else the start of the next working interval."""
        for lo, _ in self.working_intervals(at):
            return lo
        raise ValueError(f"no working time within 400 days after {at.isoformat()}")

    def add_working(self, at: datetime, minutes: float) -> datetime:
        """The instant after `minutes` of working time from `at` (breaks and time off do not count).

        With minutes == 0 this is the next working instant. The result never lies in a break or off
        shift, except exactly at the end of a working interval that the work fills completely."""
        remaining = timedelta(minutes=max(0.0, minutes))
        for lo, hi in self.working_intervals(at):
            available = hi - lo
            if remaining < available or (remaining == available and remaining > timedelta(0)):
                return lo + remaining
            remaining -= available
        raise ValueError(f"no working time within 400 days after {at.isoformat()}")

    def working_minutes_between(self, start: datetime, end: datetime) -> float:
        total = 0.0
        for lo, hi in self.working_intervals(start):
            if lo >= end:
                break
            total += (min(hi, end) - lo).total_seconds() / 60
        return total

    def working_days_between(self, first: date, last_exclusive: date) -> int:
        count, day = 0, first
        while day < last_exclusive:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count

    def nth_working_day(self, first: date, n: int, *, limit_days: int = 3660) -> date:
        """The n-th working day (1-based) counting from `first` (itself included when working)."""
        day, seen = first, 0
        for _ in range(limit_days):
            if self.is_working_day(day):
                seen += 1
                if seen == n:
                    return day
            day += ONE_DAY
        raise ValueError(f"fewer than {n} working days within {limit_days} days after {first}")
