"""The plant calendar: shifts, breaks, holidays, night shifts, daylight saving and calendar versions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from reporting.domain.calendar import BreakWindow, CalendarVersion, LineCalendar, ShiftDefinition

BERLIN = ZoneInfo("Europe/Berlin")
DAY_SHIFT = ShiftDefinition("A", time(6), time(14, 30), (BreakWindow(time(10), time(10, 30)),))
NIGHT_SHIFT = ShiftDefinition("N", time(22), time(6), (BreakWindow(time(2), time(2, 30)),))


def version(
    number: int = 1,
    *,
    valid_from: date = date(2026, 1, 1),
    days: tuple[int, ...] = (1, 2, 3, 4, 5),
    holidays: tuple[date, ...] = (),
    shifts: tuple[ShiftDefinition, ...] = (DAY_SHIFT,),
    zone: str = "Europe/Berlin",
) -> CalendarVersion:
    return CalendarVersion("L1", number, zone, valid_from, frozenset(days), frozenset(holidays), shifts)


def berlin(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BERLIN).astimezone(UTC)


def test_a_day_shift_is_its_span_minus_its_break() -> None:
    cal = LineCalendar("L1", [version()], "UTC")
    (shift,) = cal.shifts_on(date(2026, 11, 26))
    assert (shift.start, shift.end) == (berlin(2026, 11, 26, 6), berlin(2026, 11, 26, 14, 30))
    assert shift.breaks == ((berlin(2026, 11, 26, 10), berlin(2026, 11, 26, 10, 30)),)
    assert shift.planned_seconds == 480 * 60
    assert shift.label == "2026-11-26 A"


def test_weekends_and_holidays_have_no_working_time() -> None:
    cal = LineCalendar("L1", [version(holidays=(date(2026, 12, 24), date(2026, 12, 25)))], "UTC")
    assert cal.shifts_on(date(2026, 11, 28)) == ()  # Saturday
    assert not cal.is_working_day(date(2026, 12, 25))
    assert cal.shifts_on(date(2026, 12, 24)) == ()
    # Mon 21 Dec to Mon 28 Dec: Mon, Tue, Wed working; Thu, Fri holidays; weekend off.
    assert cal.planned_seconds(berlin(2026, 12, 21), berlin(2026, 12, 28)) == 3 * 480 * 60
    assert cal.working_days(date(2026, 12, 21), date(2026, 12, 28)) == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
    ]


def test_a_night_shift_belongs_to_the_day_it_starts_and_its_break_after_midnight() -> None:
    cal = LineCalendar("L1", [version(shifts=(NIGHT_SHIFT,))], "UTC")
    (night,) = cal.shifts_on(date(2026, 11, 26))  # Thursday night into Friday
    assert (night.start, night.end) == (berlin(2026, 11, 26, 22), berlin(2026, 11, 27, 6))
    assert night.breaks == ((berlin(2026, 11, 27, 2), berlin(2026, 11, 27, 2, 30)),)
    assert night.planned_seconds == 7.5 * 3600
    assert cal.shift_at(berlin(2026, 11, 27, 1)) == night
    assert cal.shift_at(berlin(2026, 11, 27, 6)) is None  # half-open: the shift has ended
    # Friday's own night shift runs into Saturday; Saturday has none.
    assert cal.shift_at(berlin(2026, 11, 28, 5, 59)).date == date(2026, 11, 27)
    # Split by midnight: Thursday has Wednesday night's 5.5 h (6 h minus the break) and its own first 2 h.
    assert cal.planned_seconds(berlin(2026, 11, 26), berlin(2026, 11, 27)) == (5.5 + 2) * 3600
    assert cal.planned_seconds(berlin(2026, 11, 27), berlin(2026, 11, 27, 12)) == 5.5 * 3600


def test_daylight_saving_days_are_23_and_25_hours_long() -> None:
    cal = LineCalendar("L1", [version(days=(1, 2, 3, 4, 5, 6, 7), shifts=(NIGHT_SHIFT,))], "UTC")
    spring = cal.day_bounds(date(2026, 3, 29))
    autumn = cal.day_bounds(date(2026, 10, 25))
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)
    # The night shift from Saturday 28 March 22:00 to Sunday 06:00 lasts 7 real hours, 6.5 planned.
    (night,) = cal.shifts_on(date(2026, 3, 28))
    assert night.end - night.start == timedelta(hours=7)
    assert night.planned_seconds == 6.5 * 3600


def test_a_new_version_governs_from_its_valid_from() -> None:
    saturdays = version(2, valid_from=date(2026, 6, 1), days=(1, 2, 3, 4, 5, 6))
    cal = LineCalendar("L1", [version(), saturdays], "UTC")
    assert not cal.is_working_day(date(2026, 5, 30))  # Saturday before the new version
    assert cal.is_working_day(date(2026, 6, 6))  # Saturday after
    assert cal.version_on(date(2026, 5, 31)).version == 1
    assert cal.version_on(date(2026, 6, 1)).version == 2
    # A later correction (version 3) valid from an earlier date replaces version 2 from its date on.
    correction = version(3, valid_from=date(2026, 3, 1))
    corrected = LineCalendar("L1", [version(), saturdays, correction], "UTC")
    assert not corrected.is_working_day(date(2026, 6, 6))
    assert corrected.version_on(date(2026, 2, 28)).version == 1


def test_before_any_calendar_local_dates_use_the_earliest_zone_or_the_plant_default() -> None:
    cal = LineCalendar("L1", [version(valid_from=date(2026, 3, 1))], "UTC")
    late_evening = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    assert cal.local_date(late_evening) == date(2026, 2, 11)
    assert cal.shifts_on(date(2026, 2, 11)) == ()  # no working time before the first version
    nothing = LineCalendar("L2", [], "America/Chicago")
    assert nothing.local_date(late_evening) == date(2026, 2, 10)
    assert not nothing.has_calendar
    assert nothing.planned_seconds(late_evening, late_evening + timedelta(days=7)) == 0


def test_one_second_before_and_after_midnight_are_different_days() -> None:
    cal = LineCalendar("L1", [version()], "UTC")
    before, after = berlin(2026, 11, 25, 23, 59, 59), berlin(2026, 11, 26, 0, 0, 1)
    assert cal.local_date(before) == date(2026, 11, 25)
    assert cal.local_date(after) == date(2026, 11, 26)
    assert cal.day_start(date(2026, 11, 26)) == berlin(2026, 11, 26) == datetime(2026, 11, 25, 23, tzinfo=UTC)


def test_current_or_last_shift() -> None:
    cal = LineCalendar("L1", [version()], "UTC")
    assert cal.current_or_last_shift(berlin(2026, 11, 26, 10, 15)).label == "2026-11-26 A"  # in the break
    assert cal.current_or_last_shift(berlin(2026, 11, 26, 20)).label == "2026-11-26 A"
    assert cal.current_or_last_shift(berlin(2026, 11, 29, 12)).label == "2026-11-27 A"  # Sunday: Friday's
    assert cal.current_or_last_shift(berlin(2026, 11, 26, 5)).label == "2026-11-25 A"


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (berlin(2026, 11, 26, 6), 1.0 + 1),  # Thursday not started: Thursday and Friday
        (berlin(2026, 11, 26, 10), 0.5 + 1),  # 240 of 480 minutes ahead
        (berlin(2026, 11, 26, 10, 15), 0.5 + 1),  # in the break: still half
        (berlin(2026, 11, 26, 14, 30), 0 + 1),
        (berlin(2026, 11, 28, 12), 0),  # Saturday
    ],
)
def test_remaining_working_days_count_the_current_day_by_its_planned_time_ahead(at: datetime, expected: float) -> None:
    cal = LineCalendar("L1", [version()], "UTC")
    assert cal.remaining_working_days(at, berlin(2026, 11, 28)) == pytest.approx(expected)


def test_last_working_days_skip_days_off() -> None:
    cal = LineCalendar("L1", [version(holidays=(date(2026, 11, 24),))], "UTC")
    assert cal.last_working_days(date(2026, 11, 26), 4) == [
        date(2026, 11, 19),
        date(2026, 11, 20),
        date(2026, 11, 23),
        date(2026, 11, 25),
    ]


def test_remaining_working_days_for_many_ends_at_once() -> None:
    cal = LineCalendar("L1", [version(shifts=(DAY_SHIFT, NIGHT_SHIFT), holidays=(date(2026, 12, 24),))], "UTC")
    for at in (berlin(2026, 11, 26, 23), berlin(2026, 11, 26, 10, 15), berlin(2026, 11, 29, 12)):
        ends = [cal.day_bounds(date(2026, 11, 26) + timedelta(days=n))[1] for n in range(40)]
        assert cal.remaining_working_days_until(at, ends) == pytest.approx(
            [cal.remaining_working_days(at, end) for end in ends]
        )
