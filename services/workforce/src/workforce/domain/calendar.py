"""The plant calendar of a line: time zone, working days, holidays, shifts with their breaks.

It is the source of planned working time. A shift is a daily pattern of local wall-clock times in the
calendar's time zone; an `end` at or before `start` crosses midnight, and such a shift belongs to the
date it started on. A shift runs on a date when that date is a working day (ISO weekday in
`working_days`) and not a holiday. Planned time is the shift's span minus its breaks, measured between
real instants, so a night shift across a daylight-saving change is an hour shorter or longer.

Shifts of one calendar may not overlap, checked on the daily pattern (a night shift 22:00-06:00 and a
morning shift starting 05:00 overlap, whatever the working days). Breaks lie inside their shift and do
not overlap each other. A local time skipped by a daylight-saving change resolves like Python's zoneinfo
does (the offset before the change).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .guards import require_aware, require_code

DAY = 24 * 60  # minutes
MAX_HOLIDAYS = 400


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _span(start: time, end: time) -> int:
    """Minutes from start to end on a daily clock (crossing midnight when end <= start)."""
    return (_minutes(end) - _minutes(start)) % DAY


def _whole_minutes(t: time, what: str) -> time:
    if t.second or t.microsecond or t.tzinfo is not None:
        raise InvalidInput("calendar.time.not-whole-minutes", f"{what} must be a local time in whole minutes, got {t}")
    return t


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            "calendar.time-zone.unknown", f"time zone {name!r} is not an IANA time zone (e.g. Europe/Berlin)"
        ) from exc


@dataclass(frozen=True, slots=True)
class BreakWindow:
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    code: str
    start: time
    end: time
    breaks: tuple[BreakWindow, ...] = ()

    @property
    def span_minutes(self) -> int:
        return _span(self.start, self.end)

    @property
    def crosses_midnight(self) -> bool:
        return _minutes(self.end) <= _minutes(self.start)

    def break_offsets(self) -> list[tuple[int, int]]:
        """Each break as minutes after the shift's start: (from, to)."""
        return [(_span(self.start, b.start), _span(self.start, b.start) + _span(b.start, b.end)) for b in self.breaks]


@dataclass(frozen=True, slots=True)
class ShiftInstance:
    """One shift on one date: real instants (UTC)."""

    line_id: str
    shift_date: date
    code: str
    start: datetime
    end: datetime
    breaks: tuple[tuple[datetime, datetime], ...]

    @property
    def key(self) -> tuple[date, str]:
        return self.shift_date, self.code

    @property
    def planned_minutes(self) -> float:
        total = self.end - self.start - sum((e - s for s, e in self.breaks), timedelta())
        return total.total_seconds() / 60

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def overlaps(self, other: ShiftInstance) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Calendar:
    line_id: str
    time_zone: str
    valid_from: date
    working_days: frozenset[int]
    holidays: frozenset[date]
    shifts: tuple[ShiftPattern, ...]

    @classmethod
    def define(
        cls,
        *,
        line_id: str,
        time_zone: str,
        valid_from: date,
        working_days: Iterable[int],
        holidays: Iterable[date],
        shifts: Sequence[ShiftPattern],
    ) -> Calendar:
        """A validated calendar; raises InvalidInput naming the first broken rule."""
        require_code(line_id, "line id")
        zone(time_zone)
        days = list(working_days)
        if not days:
            raise InvalidInput("calendar.working-days.empty", "a calendar needs at least one working day")
        if any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days):
            raise InvalidInput(
                "calendar.working-days.invalid", f"working days are ISO weekdays 1 (Monday) to 7 (Sunday), got {days}"
            )
        if len(set(days)) != len(days):
            raise InvalidInput("calendar.working-days.duplicate", f"working days list a weekday twice: {days}")
        off = list(holidays)
        if len(set(off)) != len(off):
            twice = sorted({d for d in off if off.count(d) > 1})
            raise InvalidInput(
                "calendar.holidays.duplicate", "holidays list a date twice: " + ", ".join(map(str, twice))
            )
        if len(off) > MAX_HOLIDAYS:
            raise InvalidInput("calendar.holidays.too-many", f"at most {MAX_HOLIDAYS} holidays per calendar")
        _check_shifts(shifts)
        return cls(
            line_id=line_id,
            time_zone=time_zone,
            valid_from=valid_from,
            working_days=frozenset(days),
            holidays=frozenset(off),
            shifts=tuple(shifts),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_working_day(self, d: date) -> bool:
        return d.isoweekday() in self.working_days and d not in self.holidays

    def shift(self, code: str) -> ShiftPattern | None:
        return next((s for s in self.shifts if s.code == code), None)

    def instance(self, d: date, code: str) -> ShiftInstance | None:
        """The shift `code` that starts on `d`, or None when it does not run that day."""
        pattern = self.shift(code)
        if pattern is None or not self.is_working_day(d):
            return None
        return self._instance(d, pattern)

    def instances_on(self, d: date) -> list[ShiftInstance]:
        """Every shift that starts on `d`, in start order."""
        if not self.is_working_day(d):
            return []
        return sorted((self._instance(d, p) for p in self.shifts), key=lambda i: i.start)

    def planned_minutes(self, d: date) -> float:
        return sum(i.planned_minutes for i in self.instances_on(d))

    def _instance(self, d: date, pattern: ShiftPattern) -> ShiftInstance:
        start_local = datetime.combine(d, pattern.start)
        at = self._instant
        breaks = tuple(
            (at(start_local + timedelta(minutes=s)), at(start_local + timedelta(minutes=e)))
            for s, e in pattern.break_offsets()
        )
        return ShiftInstance(
            line_id=self.line_id,
            shift_date=d,
            code=pattern.code,
            start=at(start_local),
            end=at(start_local + timedelta(minutes=pattern.span_minutes)),
            breaks=breaks,
        )

    def _instant(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def content(self) -> tuple[object, ...]:
        """What the calendar says, for telling a republished calendar from a new one."""
        return (
            self.time_zone,
            self.valid_from,
            tuple(sorted(self.working_days)),
            tuple(sorted(self.holidays)),
            self.shifts,
        )


def _check_shifts(shifts: Sequence[ShiftPattern]) -> None:
    if not shifts:
        raise InvalidInput("calendar.shifts.empty", "a calendar needs at least one shift")
    codes = [s.code for s in shifts]
    for code in codes:
        require_code(code, "shift code")
    if len(set(codes)) != len(codes):
        twice = sorted({c for c in codes if codes.count(c) > 1})
        raise InvalidInput("calendar.shifts.duplicate-code", "shift codes are used twice: " + ", ".join(twice))
    for s in shifts:
        _whole_minutes(s.start, f"start of shift {s.code}")
        _whole_minutes(s.end, f"end of shift {s.code}")
        if s.start == s.end:
            raise InvalidInput(
                "calendar.shift.empty", f"shift {s.code} starts and ends at {s.start}: a shift lasts less than a day"
            )
        _check_breaks(s)
    for i, a in enumerate(shifts):
        for b in shifts[i + 1 :]:
            if _patterns_overlap(a, b):
                raise InvalidInput(
                    "calendar.shifts.overlap",
                    f"shifts {a.code} ({a.start:%H:%M}-{a.end:%H:%M}) and {b.code} ({b.start:%H:%M}-{b.end:%H:%M}) "
                    "overlap",
                    shifts=[a.code, b.code],
                )


def _check_breaks(s: ShiftPattern) -> None:
    windows = []
    for b in s.breaks:
        _whole_minutes(b.start, f"start of a break of shift {s.code}")
        _whole_minutes(b.end, f"end of a break of shift {s.code}")
        if b.start == b.end:
            raise InvalidInput("calendar.break.empty", f"a break of shift {s.code} starts and ends at {b.start}")
        begin = _span(s.start, b.start)
        finish = begin + _span(b.start, b.end)
        if finish > s.span_minutes:
            raise InvalidInput(
                "calendar.break.outside-shift",
                f"break {b.start:%H:%M}-{b.end:%H:%M} is not inside shift {s.code} ({s.start:%H:%M}-{s.end:%H:%M})",
                shift=s.code,
            )
        windows.append((begin, finish, b))
    windows.sort(key=lambda w: w[0])
    for (_, finish, first), (begin, _, second) in pairwise(windows):
        if begin < finish:
            raise InvalidInput(
                "calendar.break.overlap",
                f"breaks {first.start:%H:%M}-{first.end:%H:%M} and {second.start:%H:%M}-{second.end:%H:%M} of "
                f"shift {s.code} overlap",
                shift=s.code,
            )


def _patterns_overlap(a: ShiftPattern, b: ShiftPattern) -> bool:
    a0, a1 = _minutes(a.start), _minutes(a.start) + a.span_minutes
    b0 = _minutes(b.start)
    for shift in (-DAY, 0, DAY):
        s, e = b0 + shift, b0 + shift + b.span_minutes
        if a0 < e and s < a1:
            return True
    return False


# ---- versions ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarVersion:
    version: int
    calendar: Calendar


@dataclass(frozen=True, slots=True)
class CalendarHistory:
    """Every version of a line's calendar. A version applies from its valid_from on, until a later
    version (a higher number) takes over from its own valid_from."""

    line_id: str
    versions: tuple[CalendarVersion, ...]

    @property
    def latest(self) -> CalendarVersion | None:
        return max(self.versions, key=lambda v: v.version, default=None)

    def applicable(self, d: date) -> CalendarVersion | None:
        return max((v for v in self.versions if v.calendar.valid_from <= d), key=lambda v: v.version, default=None)

    def instance(self, d: date, code: str) -> ShiftInstance | None:
        found = self.applicable(d)
        return found.calendar.instance(d, code) if found else None

    def instances_on(self, d: date) -> list[ShiftInstance]:
        found = self.applicable(d)
        return found.calendar.instances_on(d) if found else []

    def instances_around(self, at: datetime) -> list[ShiftInstance]:
        """Shifts that start from two days before to one day after `at` (any time zone, any night shift)."""
        require_aware(at, "instant")
        day = at.astimezone(UTC).date()
        return [i for offset in (-2, -1, 0, 1) for i in self.instances_on(day + timedelta(days=offset))]

    def shift_for_clock_in(
        self, at: datetime, *, early: timedelta, rostered: Iterable[tuple[date, str]] = ()
    ) -> ShiftInstance | None:
        """The shift a badge scan at `at` clocks in for, or None when no shift is near.

        A scan counts for a shift from `early` before its start until its end. When two shifts qualify
        (the end of one, the early window of the next), a shift the employee is rostered on wins, then
        the shift under way.
        """
        candidates = [i for i in self.instances_around(at) if i.start - early <= at < i.end]
        if not candidates:
            return None
        wanted = set(rostered)
        ranked = sorted(
            candidates,
            key=lambda i: (i.key not in wanted, not i.contains(at), i.start),
        )
        return ranked[0]
