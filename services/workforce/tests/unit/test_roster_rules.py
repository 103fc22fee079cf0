"""Roster rules: the shift runs, stations are the line's, people are known, active, once per shift,
not double-booked, and qualified (refused or warned by the plant's setting)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta

import pytest

from workforce.domain import (
    Assignment,
    Booking,
    Calendar,
    Conflict,
    DomainError,
    EmployeeStatus,
    InvalidInput,
    Requirement,
    Roster,
    ShiftInstance,
    ShiftPattern,
    UnqualifiedPolicy,
    plan_roster,
)

MONDAY = date(2026, 3, 2)
LINE_STATIONS = {"ST-01", "ST-02"}
KNOWN = LINE_STATIONS | {"L2-ST-01"}
ACTIVE = EmployeeStatus.ACTIVE


def plan(
    assignments: Iterable[Assignment] = (Assignment("E-1", "ST-01"), Assignment("E-2", "ST-02")),
    required: Iterable[Requirement] = (Requirement("ST-01", 1), Requirement("ST-02", 2)),
    employees: dict[str, EmployeeStatus] | None = None,
    qualified: Iterable[Assignment] | None = None,
    bookings: Iterable[Booking] = (),
    policy: UnqualifiedPolicy = UnqualifiedPolicy.REFUSE,
    on: object = "early",
) -> Roster:
    listed = list(assignments)
    return plan_roster(
        line_id="L1",
        shift=shift("E") if on == "early" else on,  # type: ignore[arg-type]
        date_and_code="E on 2026-03-02",
        assignments=listed,
        required=list(required),
        line_stations=LINE_STATIONS,
        known_stations=KNOWN,
        employees=employees if employees is not None else {a.employee_id: ACTIVE for a in listed},
        qualified=set(listed if qualified is None else qualified),
        bookings=bookings,
        policy=policy,
    )


def rule_of(**kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        plan(**kwargs)  # type: ignore[arg-type]
    return caught.value


def calendar(line_id: str = "L1") -> Calendar:
    return Calendar.define(
        line_id=line_id,
        time_zone="UTC",
        valid_from=date(2026, 1, 1),
        working_days=[1, 2, 3, 4, 5],
        holidays=[],
        shifts=[ShiftPattern("E", time(6), time(14)), ShiftPattern("L", time(14), time(22))],
    )


def shift(code: str = "E", line_id: str = "L1", day: date = MONDAY) -> ShiftInstance:
    found = calendar(line_id).instance(day, code)
    assert found is not None
    return found


def test_a_sound_roster() -> None:
    roster = plan()
    assert roster.unqualified == ()
    assert roster.shift == shift("E")


def test_a_shift_that_does_not_run_is_refused() -> None:
    error = rule_of(on=None)
    assert isinstance(error, InvalidInput) and error.rule == "roster.shift.not-scheduled"


@pytest.mark.parametrize(
    ("kwargs", "rule", "kind"),
    [
        ({"assignments": [Assignment("E-1", "ST-99")]}, "station.unknown", InvalidInput),
        ({"required": [Requirement("ST-99", 1)]}, "station.unknown", InvalidInput),
        ({"assignments": [Assignment("E-1", "L2-ST-01")]}, "station.not-on-line", InvalidInput),
        (
            {"required": [Requirement("ST-01", 1), Requirement("ST-01", 2)]},
            "roster.required.duplicate-station",
            InvalidInput,
        ),
        ({"required": [Requirement("ST-01", -1)]}, "roster.required.headcount", InvalidInput),
        (
            {"assignments": [Assignment("E-1", "ST-01"), Assignment("E-1", "ST-02")]},
            "roster.employee.duplicate",
            InvalidInput,
        ),
        ({"employees": {"E-1": ACTIVE}}, "employee.unknown", InvalidInput),
        ({"employees": {"E-1": ACTIVE, "E-2": EmployeeStatus.IDLE}}, "roster.employee.not-active", Conflict),
        ({"employees": {"E-1": EmployeeStatus.ON_LEAVE, "E-2": ACTIVE}}, "roster.employee.not-active", Conflict),
    ],
)
def test_refusals(kwargs: dict[str, object], rule: str, kind: type[DomainError]) -> None:
    error = rule_of(**kwargs)
    assert isinstance(error, kind) and error.rule == rule, error


def test_an_overlapping_booking_on_another_line_is_refused() -> None:
    late_other_line, early_other_line = shift("L", "L2"), shift("E", "L2")
    plan(bookings=[Booking("E-1", "L2", late_other_line)])  # back to back: fine
    plan(bookings=[Booking("E-1", "L1", early_other_line)])  # this very line: being replaced
    error = rule_of(bookings=[Booking("E-1", "L2", early_other_line)])
    assert error.rule == "roster.employee.double-booked" and "E-1" in error.message


def test_unqualified_assignments_are_refused_by_default() -> None:
    error = rule_of(qualified=[Assignment("E-1", "ST-01")])
    assert isinstance(error, Conflict) and error.rule == "roster.assignment.unqualified"
    assert error.details["unqualified_assignments"] == [{"employee_id": "E-2", "station": "ST-02"}]


def test_unqualified_assignments_are_listed_when_the_plant_only_warns() -> None:
    roster = plan(qualified=[], policy=UnqualifiedPolicy.WARN)
    assert roster.unqualified == (Assignment("E-1", "ST-01"), Assignment("E-2", "ST-02"))


def test_an_empty_roster_is_allowed() -> None:
    assert plan(assignments=[], required=[]).assignments == ()


def test_the_next_day_is_another_shift() -> None:
    assert not shift("E", day=MONDAY + timedelta(days=1)).overlaps(shift("E"))
