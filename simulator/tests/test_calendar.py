"""The plant calendar: shift instants, breaks, working time, the days around midnight and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from plant_sim.calendar import PlantCalendar, ShiftPattern

DAY_SHIFT = ShiftPattern("A", time(6), time(14), ((time(10), time(10, 30)),))
NIGHT_SHIFT = ShiftPattern("N", time(22), time(6), ((time(2), time(2, 30)),))


def calendar(
    *shifts: ShiftPattern, zone: str = "Europe/Warsaw", days: frozenset[int] = frozenset(range(1, 6))
) -> PlantCalendar:
    return PlantCalendar(
        time_zone=zone,
        working_days=days,
        holidays=frozenset({date(2026, 1, 6)}),
        shifts=shifts or (DAY_SHIFT,),
        valid_from=date(2026, 1, 1),
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_shift_is_its_local_times_as_instants_with_its_breaks() -> None:
    [shift] = calendar().shifts_on(date(2026, 1, 5))  # a Monday, UTC+1 in winter
    assert (shift.start, shift.end) == (utc(2026, 1, 5, 5), utc(2026, 1, 5, 13))
    assert shift.breaks == ((utc(2026, 1, 5, 9), utc(2026, 1, 5, 9, 30)),)
    assert shift.working_minutes == 450
    assert shift.label == "2026-01-05 A"


def test_days_off_holidays_and_days_before_the_calendar_have_no_shifts() -> None:
    cal = calendar()
    assert cal.shifts_on(date(2026, 1, 10)) == ()  # Saturday
    assert cal.shifts_on(date(2026, 1, 6)) == ()  # holiday
    assert cal.shifts_on(date(2025, 12, 31)) == ()  # before valid_from


def test_a_night_shift_belongs_to_the_day_it_starts_and_its_break_is_after_midnight() -> None:
    [shift] = calendar(NIGHT_SHIFT).shifts_on(date(2026, 1, 5))
    assert (shift.start, shift.end) == (utc(2026, 1, 5, 21), utc(2026, 1, 6, 5))
    assert shift.breaks == ((utc(2026, 1, 6, 1), utc(2026, 1, 6, 1, 30)),)
    assert calendar(NIGHT_SHIFT).shift_at(utc(2026, 1, 6, 3)) == shift


def test_a_shift_span_is_half_open_and_includes_its_breaks() -> None:
    cal = calendar()
    assert cal.shift_at(utc(2026, 1, 5, 5)) is not None
    assert cal.shift_at(utc(2026, 1, 5, 9, 15)) is not None  # in the break, still the shift
    assert not cal.is_working(utc(2026, 1, 5, 9, 15))
    assert cal.shift_at(utc(2026, 1, 5, 13)) is None
    assert cal.shift_at(utc(2026, 1, 5, 4, 59)) is None


def test_working_time_skips_breaks_evenings_weekends_and_holidays() -> None:
    cal = calendar()
    friday_noon = utc(2026, 1, 9, 11)  # 12:00 local, 120 minutes before the end of the shift
    assert cal.add_working(friday_noon, 60) == utc(2026, 1, 9, 12)
    # 150 minutes: 120 on Friday, 30 on Monday 06:00 (the weekend does not count)
    assert cal.add_working(friday_noon, 150) == utc(2026, 1, 12, 5, 30)
    # across the break: 08:00 + 150 min of work = 11:00 (10:00-10:30 off)
    assert cal.add_working(utc(2026, 1, 12, 7), 150) == utc(2026, 1, 12, 10)
    # Monday 5 Jan + 450 minutes = the end of that shift; the holiday on Tuesday is skipped after it
    assert cal.add_working(utc(2026, 1, 5, 5), 451) == utc(2026, 1, 7, 5, 1)
    assert cal.working_minutes_between(utc(2026, 1, 9, 11), utc(2026, 1, 12, 5, 30)) == pytest.approx(150)


def test_zero_minutes_of_work_is_the_next_working_instant() -> None:
    cal = calendar()
    assert cal.add_working(utc(2026, 1, 5, 9, 10), 0) == utc(2026, 1, 5, 9, 30)  # end of the break
    assert cal.next_working(utc(2026, 1, 9, 20)) == utc(2026, 1, 12, 5)
    assert cal.next_working(utc(2026, 1, 5, 6)) == utc(2026, 1, 5, 6)


def test_daylight_saving_moves_the_instants_of_the_local_times() -> None:
    cal = calendar(days=frozenset(range(1, 8)))
    [winter] = cal.shifts_on(date(2026, 3, 28))
    [summer] = cal.shifts_on(date(2026, 3, 30))
    assert winter.start == utc(2026, 3, 28, 5) and summer.start == utc(2026, 3, 30, 4)
    assert cal.day_start(date(2026, 3, 29)) == utc(2026, 3, 28, 23)
    assert cal.day_start(date(2026, 3, 30)) - cal.day_start(date(2026, 3, 29)) == timedelta(hours=23)


def test_working_days_are_counted_and_found() -> None:
    cal = calendar()
    assert cal.working_days_between(date(2026, 1, 5), date(2026, 1, 12)) == 4  # Tuesday is a holiday
    assert cal.nth_working_day(date(2026, 1, 3), 1) == date(2026, 1, 5)
    assert cal.nth_working_day(date(2026, 1, 5), 2) == date(2026, 1, 7)
    assert cal.daily_working_minutes == 450
    assert cal.next_shift_start(utc(2026, 1, 5, 5, 1)) == cal.shifts_on(date(2026, 1, 7))[0]
