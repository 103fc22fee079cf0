"""A line's plant calendar: working days, shifts and breaks in the line's time zone, as published by workforce.

Pure: no I/O. Every instant is an aware UTC datetime; local wall-clock times are turned into instants
with the zone of the calendar version in force, so daylight-saving days have 23 or 25 hours and a shift
that crosses midnight belongs to the day it started on.

Versions: a working day `d` is governed by the highest version whose `valid_from` is on or before `d`
("a new version replaces the previous one from valid_from on"). Before the first version there is no
working time; local dates then use the zone of the earliest version, or the plant's default zone when a
line has no calendar at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from reporting.domain.intervals import Interval, clip, subtract

ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ZoneInfoNotFoundError (a KeyError) or ValueError for an unknown one."""
    return ZoneInfo(name)


def local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BreakWindow:
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ShiftDefinition:
    """Local wall-clock times; `end` at or before `start` crosses midnight."""

    code: str
    start: time
    end: time
    breaks: tuple[BreakWindow, ...] = ()


@dataclass(frozen=True)
class CalendarVersion:
    line_id: str
    version: int
    time_zone: str
    valid_from: date
    working_days: frozenset[int]  # ISO weekdays, 1 = Monday
    holidays: frozenset[date]
    shifts: tuple[ShiftDefinition, ...]

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays


@dataclass(frozen=True)
class ShiftWindow:
    """One shift on one working day, as instants: its span, its breaks and the planned time between."""

    line_id: str
    date: date
    code: str
    start: datetime
    end: datetime
    breaks: tuple[Interval, ...]
    planned: tuple[Interval, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.date.isoformat()} {self.code}"

    @property
    def planned_seconds(self) -> float:
        return sum((hi - lo).total_seconds() for lo, hi in self.planned)

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def shift_window(line_id: str, day: date, shift: ShiftDefinition, tz: ZoneInfo) -> ShiftWindow:
    start = local_instant(day, shift.start, tz)
    end = local_instant(day if shift.end > shift.start else day + ONE_DAY, shift.end, tz)
    breaks: list[Interval] = []
    for pause in shift.breaks:
        # A break whose clock time is before the shift's start happens after midnight.
        pause_day = day if pause.start >= shift.start else day + ONE_DAY
        lo = local_instant(pause_day, pause.start, tz)
        hi = local_instant(pause_day if pause.end > pause.start else pause_day + ONE_DAY, pause.end, tz)
        clipped = clip((lo, hi), start, end)
        if clipped is not None:
            breaks.append(clipped)
    planned = tuple(subtract((start, end), breaks))
    return ShiftWindow(line_id, day, shift.code, start, end, tuple(sorted(breaks)), planned)


class LineCalendar:
    """All calendar versions of one line, answering questions about instants and local dates."""

    def __init__(self, line_id: str, versions: Iterable[CalendarVersion], default_zone: str) -> None:
        self.line_id = line_id
        self.versions = tuple(sorted(versions, key=lambda v: v.version, reverse=True))
        earliest = min(self.versions, key=lambda v: (v.valid_from, v.version), default=None)
        self._fallback = earliest.zone if earliest is not None else zone(default_zone)
        self._shifts: dict[date, tuple[ShiftWindow, ...]] = {}

    @property
    def has_calendar(self) -> bool:
        return bool(self.versions)

    @property
    def current_version(self) -> CalendarVersion | None:
        return self.versions[0] if self.versions else None

    # ---- zones and local dates -----------------------------------------------------------------

    def version_on(self, day: date) -> CalendarVersion | None:
        for version in self.versions:
            if version.valid_from <= day:
                return version
        return None

    def zone_on(self, day: date) -> ZoneInfo:
        version = self.version_on(day)
        return version.zone if version is not None else self._fallback

    def zone_at(self, instant: datetime) -> ZoneInfo:
        for version in self.versions:
            if instant.astimezone(version.zone).date() >= version.valid_from:
                return version.zone
        return self._fallback

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone_at(instant)).date()

    def local_time(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone_at(instant))

    def day_start(self, day: date) -> datetime:
        return local_instant(day, time(0), self.zone_on(day))

    def day_bounds(self, day: date) -> Interval:
        return self.day_start(day), self.day_start(day + ONE_DAY)

    # ---- working time --------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        version = self.version_on(day)
        return version is not None and version.is_working_day(day)

    def shifts_on(self, day: date) -> tuple[ShiftWindow, ...]:
        """The shifts that start on `day` (empty on a day off or before the first calendar)."""
        cached = self._shifts.get(day)
        if cached is None:
            version = self.version_on(day)
            if version is None or not version.is_working_day(day):
                cached = ()
            else:
                windows = (shift_window(self.line_id, day, s, version.zone) for s in version.shifts)
                cached = tuple(sorted(windows, key=lambda w: (w.start, w.code)))
            self._shifts[day] = cached
        return cached

    def windows(self, start: datetime, end: datetime) -> Iterator[ShiftWindow]:
        """Shift windows overlapping [start, end), in start order."""
        if start >= end:
            return
        day = self.local_date(start) - ONE_DAY  # a night shift of the day before may still run
        last = self.local_date(end)
        while day <= last:
            for window in self.shifts_on(day):
                if window.end > start and window.start < end:
                    yield window
            day += ONE_DAY

    def planned_intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Planned working time (shifts minus breaks) inside [start, end)."""
        out: list[Interval] = []
        for window in self.windows(start, end):
            for piece in window.planned:
                clipped = clip(piece, start, end)
                if clipped is not None:
                    out.append(clipped)
        return out

    def planned_seconds(self, start: datetime, end: datetime) -> float:
        return sum((hi - lo).total_seconds() for lo, hi in self.planned_intervals(start, end))

    def shift_at(self, instant: datetime) -> ShiftWindow | None:
        """The shift whose span (breaks included) contains `instant`, if any."""
        for window in self.windows(instant, instant + timedelta(microseconds=1)):
            if window.contains(instant):
                return window
        return None

    def current_or_last_shift(self, instant: datetime, lookback_days: int = 31) -> ShiftWindow | None:
        """The shift running at `instant`, else the last one that ended before it."""
        running = self.shift_at(instant)
        if running is not None:
            return running
        day = self.local_date(instant)
        for back in range(lookback_days + 1):
            ended = [w for w in self.shifts_on(day - timedelta(days=back)) if w.end <= instant]
            if ended:
                return max(ended, key=lambda w: w.end)
        return None

    def working_days(self, first: date, last_exclusive: date) -> list[date]:
        days, day = [], first
        while day < last_exclusive:
            if self.is_working_day(day):
                days.append(day)
            day += ONE_DAY
        return days

    def day_planned_seconds(self, day: date) -> float:
        """Planned time of the shifts that start on `day`."""
        return sum(w.planned_seconds for w in self.shifts_on(day))

    def remaining_working_days(self, instant: datetime, end: datetime) -> float:
        """Working days from `instant` until `end`: each later working day counts 1, the current one the
        share of its planned time still ahead."""
        total = 0.0
        day = self.local_date(instant) - ONE_DAY
        last = self.local_date(end)
        while day <= last:
            windows = self.shifts_on(day)
            planned = sum(w.planned_seconds for w in windows)
            if planned > 0:
                ahead = sum(
                    (hi - lo).total_seconds()
                    for w in windows
                    for piece in w.planned
                    if (c := clip(piece, instant, end)) is not None
                    for lo, hi in [c]
                )
                total += ahead / planned
            day += ONE_DAY
        return total

    def remaining_working_days_until(self, instant: datetime, ends: list[datetime]) -> list[float]:
        """`remaining_working_days(instant, end)` for each of the ascending `ends`, in one pass (the
        year's curve asks for every remaining day)."""
        if not ends:
            return []
        items: list[tuple[ShiftWindow, float]] = []
        day, last = self.local_date(instant) - ONE_DAY, self.local_date(ends[-1])
        while day <= last:
            windows = self.shifts_on(day)
            planned = sum(w.planned_seconds for w in windows)
            items.extend((w, planned) for w in windows if planned > 0)
            day += ONE_DAY
        items.sort(key=lambda item: item[0].end)

        def ahead(window: ShiftWindow, end: datetime) -> float:
            return sum(
                (c[1] - c[0]).total_seconds()
                for piece in window.planned
                if (c := clip(piece, instant, end)) is not None
            )

        out, done, k = [], 0.0, 0
        for end in ends:
            while k < len(items) and items[k][0].end <= end:
                window, planned = items[k]
                done += ahead(window, window.end) / planned
                k += 1
            partial, j = 0.0, k
            # A shift lasts at most a day: only windows ending within a day after `end` can straddle it.
            while j < len(items) and items[j][0].end <= end + ONE_DAY:
                window, planned = items[j]
                if window.start < end:
                    partial += ahead(window, end) / planned
                j += 1
            out.append(done + partial)
        return out

    def last_working_days(self, before: date, count: int, limit_days: int = 400) -> list[date]:
        """The `count` most recent working days strictly before `before`, oldest first."""
        found: list[date] = []
        day = before - ONE_DAY
        for _ in range(limit_days):
            if len(found) == count:
                break
            if self.is_working_day(day):
                found.append(day)
            day -= ONE_DAY
        return list(reversed(found))
