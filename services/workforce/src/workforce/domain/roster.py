"""Rosters: per line, date and shift, who works which station, and how many each station needs.

A roster is checked whole against what is known when it is published: the shift runs that day, its
stations are the line's, each employee is known, active, on one station only and not booked on another
line's overlapping shift, and qualified for the station for the whole shift (for what is left of it
when the shift is already under way). An unqualified assignment
is refused or, by the plant's setting, accepted and listed as a warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .calendar import ShiftInstance
from .employee import EmployeeStatus
from .errors import Conflict, InvalidInput

MAX_HEADCOUNT = 1_000


class UnqualifiedPolicy(StrEnum):
    REFUSE = "refuse"
    WARN = "warn"


@dataclass(frozen=True, slots=True, order=True)
class Assignment:
    employee_id: str
    station: str


@dataclass(frozen=True, slots=True, order=True)
class Requirement:
    station: str
    headcount: int


@dataclass(frozen=True, slots=True)
class Booking:
    """An employee already rostered elsewhere (another line), with that shift's window."""

    employee_id: str
    line_id: str
    shift: ShiftInstance


@dataclass(frozen=True, slots=True)
class Roster:
    line_id: str
    shift: ShiftInstance
    assignments: tuple[Assignment, ...]
    required: tuple[Requirement, ...]
    unqualified: tuple[Assignment, ...]

    def content(self) -> tuple[object, ...]:
        return (sorted(self.assignments), sorted(self.required))


def _listed(items: Iterable[str]) -> str:
    return ", ".join(sorted(set(items)))


def plan_roster(
    *,
    line_id: str,
    shift: ShiftInstance | None,
    date_and_code: str,
    assignments: Sequence[Assignment],
    required: Sequence[Requirement],
    line_stations: Collection[str],
    known_stations: Collection[str],
    employees: Mapping[str, EmployeeStatus],
    qualified: Collection[Assignment],
    bookings: Iterable[Booking],
    policy: UnqualifiedPolicy,
) -> Roster:
    """Validate a roster; `qualified` holds the assignments valid for the whole shift."""
    if shift is None:
        raise InvalidInput(
            "roster.shift.not-scheduled",
            f"line {line_id} has no shift {date_and_code}: the shift code is not in the calendar that applies "
            "that day, or the day is not a working day",
        )
    stations = [r.station for r in required] + [a.station for a in assignments]
    unknown = [s for s in stations if s not in known_stations]
    if unknown:
        raise InvalidInput("station.unknown", f"unknown station(s): {_listed(unknown)}", stations=sorted(set(unknown)))
    elsewhere = [s for s in stations if s not in line_stations]
    if elsewhere:
        raise InvalidInput(
            "station.not-on-line",
            f"station(s) {_listed(elsewhere)} are not stations of line {line_id}",
            stations=sorted(set(elsewhere)),
        )
    twice = [s for s, n in Counter(r.station for r in required).items() if n > 1]
    if twice:
        raise InvalidInput("roster.required.duplicate-station", f"headcount given twice for: {_listed(twice)}")
    bad = [r.station for r in required if isinstance(r.headcount, bool) or not 0 <= r.headcount <= MAX_HEADCOUNT]
    if bad:
        raise InvalidInput("roster.required.headcount", f"headcount must be 0-{MAX_HEADCOUNT} for: {_listed(bad)}")
    twice = [e for e, n in Counter(a.employee_id for a in assignments).items() if n > 1]
    if twice:
        raise InvalidInput(
            "roster.employee.duplicate",
            f"employee(s) {_listed(twice)} are assigned more than once in one shift",
            employees=sorted(twice),
        )
    unknown = [a.employee_id for a in assignments if a.employee_id not in employees]
    if unknown:
        raise InvalidInput(
            "employee.unknown", f"unknown employee(s): {_listed(unknown)}", employees=sorted(set(unknown))
        )
    inactive = sorted(
        f"{a.employee_id} ({employees[a.employee_id]})"
        for a in assignments
        if employees[a.employee_id] is not EmployeeStatus.ACTIVE
    )
    if inactive:
        raise Conflict(
            "roster.employee.not-active",
            "only active employees can be rostered: " + ", ".join(inactive),
        )
    rostered = {a.employee_id for a in assignments}
    clashes = sorted(
        f"{b.employee_id} (line {b.line_id}, shift {b.shift.code} on {b.shift.shift_date})"
        for b in bookings
        if b.employee_id in rostered and b.line_id != line_id and b.shift.overlaps(shift)
    )
    if clashes:
        raise Conflict(
            "roster.employee.double-booked",
            "employee(s) already rostered on an overlapping shift: " + "; ".join(clashes),
        )
    ok = set(qualified)
    unqualified = tuple(sorted(a for a in assignments if a not in ok))
    if unqualified and policy is UnqualifiedPolicy.REFUSE:
        raise Conflict(
            "roster.assignment.unqualified",
            "not qualified for the whole shift at the assigned station: "
            + ", ".join(f"{a.employee_id} at {a.station}" for a in unqualified),
            unqualified_assignments=[{"employee_id": a.employee_id, "station": a.station} for a in unqualified],
        )
    return Roster(
        line_id=line_id,
        shift=shift,
        assignments=tuple(assignments),
        required=tuple(required),
        unqualified=unqualified,
    )
