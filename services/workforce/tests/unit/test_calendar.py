"""The plant calendar: validation, shifts on dates (night shifts belong to their start date), planned
time across daylight-saving changes, versions, and which shift a badge scan belongs to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from workforce.domain import BreakWindow, Calendar, CalendarHistory, CalendarVersion, InvalidInput, ShiftPattern

Build = Callable[..., Calendar]

MONDAY = date(2026, 3, 2)


def shifts(*specs: tuple[str, str, str, list[tuple[str, str]]]) -> list[ShiftPattern]:
    return [
        ShiftPattern(
            code,
            time.fromisoformat(start),
            time.fromisoformat(end),
            tuple(BreakWindow(time.fromisoformat(b), time.fromisoformat(e)) for b, e in breaks),
        )
        for code, start, end, breaks in specs
    ]


def refused(two_shifts: Build, rule: str, **overrides: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        two_shifts(**overrides)
    assert caught.value.rule == rule, caught.value
    return caught.value


def test_a_valid_calendar(two_shifts: Build) -> None:
    c = two_shifts()
    assert c.is_working_day(MONDAY) and not c.is_working_day(MONDAY + timedelta(days=5))
    assert not c.is_working_day(date(2026, 4, 3)), "a holiday"
    assert c.planned_minutes(MONDAY) == 2 * (8 * 60 - 30)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "UTC+2"])
def test_unknown_time_zone(two_shifts: Build, zone: str) -> None:
    refused(two_shifts, "calendar.time-zone.unknown", time_zone=zone)


@pytest.mark.parametrize(
    "specs",
    [
        [("A", "06:00", "14:00", []), ("B", "13:00", "21:00", [])],
        [("N", "22:00", "06:00", []), ("E", "05:30", "13:30", [])],  # the night shift runs into the morning
        [("N", "22:00", "06:00", []), ("L", "14:00", "22:30", [])],
        [("A", "06:00", "14:00", []), ("B", "08:00", "10:00", [])],  # one inside the other
        [("A", "00:00", "23:59", []), ("B", "23:00", "01:00", [])],
    ],
)
def test_overlapping_shifts_are_refused(
    two_shifts: Build, specs: list[tuple[str, str, str, list[tuple[str, str]]]]
) -> None:
    error = refused(two_shifts, "calendar.shifts.overlap", shifts=shifts(*specs))
    assert error.details["shifts"] == [specs[0][0], specs[1][0]]


def test_back_to_back_shifts_around_the_clock_are_fine(two_shifts: Build) -> None:
    c = two_shifts(shifts=shifts(("E", "06:00", "14:00", []), ("L", "14:00", "22:00", []), ("N", "22:00", "06:00", [])))
    assert c.planned_minutes(MONDAY) == 24 * 60


@pytest.mark.parametrize(
    ("breaks", "rule"),
    [
        ([("05:30", "06:00")], "calendar.break.outside-shift"),
        ([("13:45", "14:15")], "calendar.break.outside-shift"),
        ([("14:00", "14:30")], "calendar.break.outside-shift"),
        ([("10:00", "10:00")], "calendar.break.empty"),
        ([("10:00", "10:30"), ("10:15", "10:45")], "calendar.break.overlap"),
    ],
)
def test_breaks_lie_inside_their_shift(two_shifts: Build, breaks: list[tuple[str, str]], rule: str) -> None:
    refused(two_shifts, rule, shifts=shifts(("E", "06:00", "14:00", breaks)))


def test_a_break_after_midnight_inside_a_night_shift(two_shifts: Build) -> None:
    c = two_shifts(shifts=shifts(("N", "22:00", "06:00", [("02:00", "02:30")])))
    [night] = c.instances_on(MONDAY)
    assert night.breaks == ((datetime(2026, 3, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, 2, 30, tzinfo=UTC)),)
    refused(two_shifts, "calendar.break.outside-shift", shifts=shifts(("N", "22:00", "06:00", [("21:30", "22:10")])))


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"working_days": []}, "calendar.working-days.empty"),
        ({"working_days": [0, 1]}, "calendar.working-days.invalid"),
        ({"working_days": [1, 1]}, "calendar.working-days.duplicate"),
        ({"holidays": [date(2026, 5, 1), date(2026, 5, 1)]}, "calendar.holidays.duplicate"),
        ({"shifts": []}, "calendar.shifts.empty"),
        (
            {"shifts": shifts(("A", "06:00", "10:00", []), ("A", "10:00", "12:00", []))},
            "calendar.shifts.duplicate-code",
        ),
        ({"shifts": shifts(("A", "06:00", "06:00", []))}, "calendar.shift.empty"),
        ({"shifts": shifts(("A", "06:00:30", "10:00", []))}, "calendar.time.not-whole-minutes"),
        ({"shifts": shifts(("A B", "06:00", "10:00", []))}, "code.invalid"),
    ],
)
def test_other_calendar_rules(two_shifts: Build, overrides: dict[str, object], rule: str) -> None:
    refused(two_shifts, rule, **overrides)


def test_a_night_shift_belongs_to_the_date_it_started(two_shifts: Build) -> None:
    c = two_shifts(time_zone="Europe/Berlin", shifts=shifts(("N", "22:00", "06:00", [("02:00", "02:30")])))
    friday = date(2026, 3, 6)
    [night] = c.instances_on(friday)
    assert (night.shift_date, night.code) == (friday, "N")
    assert night.start == datetime(2026, 3, 6, 21, tzinfo=UTC)  # 22:00 CET
    assert night.end == datetime(2026, 3, 7, 5, tzinfo=UTC)  # Saturday 06:00 CET
    assert c.instances_on(date(2026, 3, 7)) == [], "Saturday is not a working day, though Friday's night runs into it"


def test_planned_time_across_daylight_saving_changes(two_shifts: Build) -> None:
    c = two_shifts(
        time_zone="Europe/Berlin",
        working_days=[1, 2, 3, 4, 5, 6, 7],
        shifts=shifts(("N", "22:00", "06:00", [("02:00", "02:30")])),
    )
    ordinary, spring, autumn = date(2026, 3, 21), date(2026, 3, 28), date(2026, 10, 24)
    assert c.planned_minutes(ordinary) == 8 * 60 - 30
    assert c.planned_minutes(spring) == 7 * 60 - 30, "clocks go forward during the night of March 29"
    assert c.planned_minutes(autumn) == 9 * 60 - 30, "clocks go back during the night of October 25"


def test_versions_apply_from_their_date(two_shifts: Build) -> None:
    v1 = two_shifts(valid_from=date(2026, 1, 1))
    v2 = two_shifts(valid_from=date(2026, 3, 4), shifts=shifts(("D", "07:00", "15:30", [("11:00", "11:30")])))
    history = CalendarHistory("L1", (CalendarVersion(1, v1), CalendarVersion(2, v2)))
    assert history.applicable(date(2025, 12, 31)) is None
    assert history.applicable(date(2026, 3, 3)).version == 1  # type: ignore[union-attr]
    assert history.applicable(date(2026, 3, 4)).version == 2  # type: ignore[union-attr]
    assert [i.code for i in history.instances_on(date(2026, 3, 3))] == ["E", "L"]
    assert [i.code for i in history.instances_on(date(2026, 3, 4))] == ["D"]
    assert history.instance(date(2026, 3, 4), "E") is None


class TestShiftForClockIn:
    early = timedelta(minutes=60)

    @pytest.fixture(autouse=True)
    def _builder(self, two_shifts: Build) -> None:
        self.two_shifts = two_shifts

    def history(self, c: Calendar | None = None) -> CalendarHistory:
        return CalendarHistory("L1", (CalendarVersion(1, c or self.two_shifts()),))

    def at(self, hhmm: str, day: date = MONDAY) -> datetime:
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=UTC)

    @pytest.mark.parametrize(
        ("hhmm", "expected"),
        [
            ("04:59", None),
            ("05:00", "E"),  # exactly the tolerance before the start
            ("06:00", "E"),
            ("13:59", "E"),
            ("14:00", "L"),
            ("21:59", "L"),
            ("22:00", None),  # the end is exclusive
        ],
    )
    def test_a_scan_belongs_to_the_shift_under_way_or_starting_soon(self, hhmm: str, expected: str | None) -> None:
        found = self.history().shift_for_clock_in(self.at(hhmm), early=self.early)
        assert (found.code if found else None) == expected

    def test_between_two_shifts_the_shift_under_way_wins_unless_the_roster_says_otherwise(self) -> None:
        scan = self.at("13:30")
        assert self.history().shift_for_clock_in(scan, early=self.early).code == "E"  # type: ignore[union-attr]
        rostered = self.history().shift_for_clock_in(scan, early=self.early, rostered=[(MONDAY, "L")])
        assert rostered is not None and rostered.code == "L"

    def test_no_shift_on_a_holiday_or_weekend(self) -> None:
        assert self.history().shift_for_clock_in(self.at("08:00", date(2026, 4, 3)), early=self.early) is None
        assert self.history().shift_for_clock_in(self.at("08:00", date(2026, 3, 7)), early=self.early) is None

    def test_a_scan_after_midnight_belongs_to_the_night_shift_of_the_day_before(self) -> None:
        c = self.two_shifts(time_zone="America/Chicago", shifts=shifts(("N", "22:00", "06:00", [])))
        # 02:00 Tuesday in Chicago (CST, UTC-6) is 08:00 UTC
        found = self.history(c).shift_for_clock_in(datetime(2026, 3, 3, 8, tzinfo=UTC), early=self.early)
        assert found is not None and (found.shift_date, found.code) == (MONDAY, "N")
