"""Annual targets spread over planned working time, never over calendar days; the WIP ramp."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from reporting.domain.calendar import BreakWindow, CalendarVersion, LineCalendar, ShiftDefinition
from reporting.domain.errors import InvalidInput
from reporting.domain.periods import day_period, month_period, week_period, year_period
from reporting.domain.targets import AnnualTarget, Plan, RampPoint, next_ramp_point, plan_year, ramp_goal, validate_ramp

BERLIN = ZoneInfo("Europe/Berlin")
SHIFT = ShiftDefinition("A", time(6), time(14, 30), (BreakWindow(time(10), time(10, 30)),))  # 480 minutes
# New Year, Epiphany, Labour Day, Christmas Eve and Day, New Year's Eve: all on weekdays in 2026.
HOLIDAYS = frozenset(
    {date(2026, 1, 1), date(2026, 1, 6), date(2026, 5, 1), date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31)}
)
CALENDAR = LineCalendar(
    "L1",
    [CalendarVersion("L1", 1, "Europe/Berlin", date(2026, 1, 1), frozenset({1, 2, 3, 4, 5}), HOLIDAYS, (SHIFT,))],
    "UTC",
)
# Weekdays per month in 2026, then minus the holidays above.
WEEKDAYS = [22, 20, 22, 22, 21, 22, 23, 21, 22, 22, 21, 23]
WORKING = [20, 20, 22, 22, 20, 22, 23, 21, 22, 22, 21, 20]


def berlin(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=BERLIN).astimezone(UTC)


def test_working_days_per_month_follow_the_calendar() -> None:
    plan = plan_year(CALENDAR, AnnualTarget("L1", 2026, 2000))
    assert [m.working_days for m in plan.months] == WORKING
    assert sum(WORKING) == 255 == sum(WEEKDAYS) - len(HOLIDAYS)
    assert [m.planned_seconds for m in plan.months] == [d * 480 * 60 for d in WORKING]


def test_an_annual_target_is_spread_by_planned_time_over_a_calendar_with_holidays() -> None:
    plan = plan_year(CALENDAR, AnnualTarget("L1", 2026, 2000))
    assert [m.target for m in plan.months] == pytest.approx([2000 * d / 255 for d in WORKING])
    assert sum(m.target for m in plan.months) == pytest.approx(2000)
    p = Plan(CALENDAR, [AnnualTarget("L1", 2026, 2000)])
    per_day = 2000 / 255  # 7.843 trucks per working day
    assert p.target_between(*_bounds(day_period(CALENDAR, date(2026, 1, 6)))) == 0  # Epiphany
    assert p.target_between(*_bounds(day_period(CALENDAR, date(2026, 1, 10)))) == 0  # Saturday
    assert p.target_between(*_bounds(day_period(CALENDAR, date(2026, 1, 7)))) == pytest.approx(per_day)
    # Week of 5 January: Epiphany off, four working days.
    assert p.target_between(*_bounds(week_period(CALENDAR, date(2026, 1, 7)))) == pytest.approx(4 * per_day)
    # Christmas week: Mon 21 to Wed 23 only.
    assert p.target_between(*_bounds(week_period(CALENDAR, date(2026, 12, 22)))) == pytest.approx(3 * per_day)
    assert p.target_between(*_bounds(year_period(CALENDAR, 2026))) == pytest.approx(2000)
    # Inside a day, only planned minutes accrue: nothing before 06:00 or in the break.
    assert p.target_between(berlin(1, 7), berlin(1, 7, 6)) == 0
    assert p.target_between(berlin(1, 7, 10), berlin(1, 7, 10, 30)) == 0
    assert p.target_between(berlin(1, 7, 6), berlin(1, 7, 10)) == pytest.approx(per_day / 2)


def test_fixed_months_keep_their_figure_and_the_rest_is_shared_by_planned_time() -> None:
    fixed = {m: 160 for m in range(1, 11)}  # 1,600 in January to October
    plan = plan_year(CALENDAR, AnnualTarget("L1", 2026, 2000, fixed))
    assert [m.target for m in plan.months[:10]] == [160.0] * 10
    # 400 left for November (21 working days) and December (20): 400 x 21/41 and 400 x 20/41.
    assert plan.months[10].target == pytest.approx(204.878, abs=0.001)
    assert plan.months[11].target == pytest.approx(195.122, abs=0.001)
    assert not plan.months[10].fixed and plan.months[0].fixed
    p = Plan(CALENDAR, [AnnualTarget("L1", 2026, 2000, fixed)])
    assert p.target_between(*_bounds(month_period(CALENDAR, 2026, 1))) == pytest.approx(160)
    assert p.target_between(*_bounds(day_period(CALENDAR, date(2026, 1, 7)))) == pytest.approx(8)  # 160 / 20
    assert p.daily_rate(date(2026, 11, 26)) == pytest.approx(400 / 41)
    assert p.annual(2026) == 2000 and p.annual(2027) is None


def test_a_month_with_a_target_but_no_working_time_is_reported() -> None:
    shutdown = LineCalendar(
        "L1",
        [
            CalendarVersion("L1", 1, "Europe/Berlin", date(2026, 1, 1), frozenset({1, 2, 3, 4, 5}), HOLIDAYS, (SHIFT,)),
            CalendarVersion("L1", 2, "Europe/Berlin", date(2026, 8, 1), frozenset(), frozenset(), (SHIFT,)),
            CalendarVersion("L1", 3, "Europe/Berlin", date(2026, 9, 1), frozenset({1, 2, 3, 4, 5}), HOLIDAYS, (SHIFT,)),
        ],
        "UTC",
    )
    plan = plan_year(shutdown, AnnualTarget("L1", 2026, 2000, {8: 50}))
    assert plan.months[7].planned_seconds == 0
    assert any("month 8" in w for w in plan.warnings)
    assert plan.placeable == pytest.approx(1950)


def test_without_a_calendar_nothing_can_be_spread() -> None:
    plan = plan_year(LineCalendar("L9", [], "UTC"), AnnualTarget("L9", 2026, 100))
    assert plan.placeable == 0
    assert any("no published calendar" in w for w in plan.warnings)


@pytest.mark.parametrize(
    ("annual", "monthly", "rule"),
    [
        (-1, {}, "target.annual.range"),
        (100, {13: 1}, "target.month.unknown"),
        (100, {1: -5}, "target.month.negative"),
        (100, {1: 60, 2: 50}, "target.months.exceed-annual"),
        (1200, {m: 90 for m in range(1, 13)}, "target.months.sum"),
    ],
)
def test_refused_targets(annual: int, monthly: dict[int, int], rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        AnnualTarget("L1", 2026, annual, monthly)
    assert refused.value.rule == rule


def test_the_wip_ramp_interpolates_between_goals() -> None:
    points = validate_ramp([RampPoint(date(2026, 1, 31), 50), RampPoint(date(2026, 1, 1), 18)])
    assert ramp_goal(points, date(2025, 12, 31)) is None
    assert ramp_goal(points, date(2026, 1, 1)) == 18
    assert ramp_goal(points, date(2026, 1, 16)) == pytest.approx(18 + 32 * 15 / 30)
    assert ramp_goal(points, date(2026, 3, 1)) == 50
    assert next_ramp_point(points, date(2026, 1, 2)) == RampPoint(date(2026, 1, 31), 50)
    assert next_ramp_point(points, date(2026, 2, 1)) is None
    with pytest.raises(InvalidInput):
        validate_ramp([RampPoint(date(2026, 1, 1), 1), RampPoint(date(2026, 1, 1), 2)])
    with pytest.raises(InvalidInput):
        validate_ramp([])


def _bounds(period: object) -> tuple[datetime, datetime]:
    return period.start, period.end  # type: ignore[attr-defined]
