"""Output targets spread over planned working time, and the WIP ramp goal.

A planner sets a line's annual plan for a year, optionally fixing some months. Fixed months keep their
figure; the rest of the annual plan is shared by the other months in proportion to their planned working
time. Inside a month the target accrues uniformly over planned working time (shifts minus breaks, on
working days, never on holidays or days off), so the target of any instant range is the month rate times
the planned seconds in it. Calendar days carry no target of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise

from reporting.domain.calendar import LineCalendar
from reporting.domain.errors import InvalidInput
from reporting.domain.periods import month_period, year_period

MAX_ANNUAL = 1_000_000


@dataclass(frozen=True)
class AnnualTarget:
    line_id: str
    year: int
    annual: int
    monthly: Mapping[int, int] = field(default_factory=dict)  # fixed months only

    def __post_init__(self) -> None:
        validate_target(self.annual, self.monthly)


def validate_target(annual: int, monthly: Mapping[int, int]) -> None:
    if not 0 <= annual <= MAX_ANNUAL:
        raise InvalidInput("target.annual.range", f"the annual target must be between 0 and {MAX_ANNUAL}")
    bad = sorted(m for m in monthly if not 1 <= m <= 12)
    if bad:
        raise InvalidInput("target.month.unknown", f"months are 1 to 12, not {', '.join(map(str, bad))}")
    negative = sorted(m for m, n in monthly.items() if n < 0)
    if negative:
        raise InvalidInput("target.month.negative", f"month targets cannot be negative (month {negative[0]})")
    fixed = sum(monthly.values())
    if fixed > annual:
        raise InvalidInput(
            "target.months.exceed-annual", f"the fixed months add up to {fixed}, more than the annual {annual}"
        )
    if len(monthly) == 12 and fixed != annual:
        raise InvalidInput(
            "target.months.sum",
            f"all twelve months are fixed and add up to {fixed}; they must add up to the annual target {annual}",
        )


@dataclass(frozen=True)
class MonthPlan:
    month: int
    target: float
    fixed: bool
    working_days: int
    planned_seconds: float

    @property
    def rate_per_second(self) -> float:
        return self.target / self.planned_seconds if self.planned_seconds > 0 else 0.0


@dataclass(frozen=True)
class YearPlan:
    line_id: str
    year: int
    annual: int
    months: tuple[MonthPlan, ...]
    warnings: tuple[str, ...]
    # Instants where each month starts and ends in the line's local time.
    month_bounds: tuple[tuple[datetime, datetime], ...]

    @property
    def placeable(self) -> float:
        """The part of the annual target that has planned working time to accrue over."""
        return sum(m.target for m in self.months if m.planned_seconds > 0)


def plan_year(cal: LineCalendar, target: AnnualTarget) -> YearPlan:
    bounds: list[tuple[datetime, datetime]] = []
    planned: dict[int, float] = {}
    working: dict[int, int] = {}
    for month in range(1, 13):
        period = month_period(cal, target.year, month)
        bounds.append((period.start, period.end))
        planned[month] = cal.planned_seconds(period.start, period.end)
        following = date(target.year + (month == 12), month % 12 + 1, 1)
        working[month] = len(cal.working_days(date(target.year, month, 1), following))
    free = [m for m in range(1, 13) if m not in target.monthly]
    remainder = target.annual - sum(target.monthly.values())
    free_seconds = sum(planned[m] for m in free)
    warnings: list[str] = []
    months: list[MonthPlan] = []
    for month in range(1, 13):
        if month in target.monthly:
            value = float(target.monthly[month])
            fixed = True
        else:
            value = remainder * planned[month] / free_seconds if free_seconds > 0 else 0.0
            fixed = False
        if value > 0 and planned[month] <= 0:
            warnings.append(f"month {month} has a target of {value:g} but no planned working time in the calendar")
        months.append(MonthPlan(month, value, fixed, working[month], planned[month]))
    if remainder > 0 and free and free_seconds <= 0:
        warnings.append(
            f"{remainder} trucks of the annual target fall on months without planned working time "
            f"({', '.join(map(str, free))}): publish a calendar covering them"
        )
    if not cal.has_calendar:
        warnings.append(f"line {cal.line_id} has no published calendar: targets cannot be spread over working time")
    return YearPlan(cal.line_id, target.year, target.annual, tuple(months), tuple(warnings), tuple(bounds))


class Plan:
    """The targets of one line across years, answering "how many trucks should be built in [a, b)"."""

    def __init__(self, cal: LineCalendar, targets: Iterable[AnnualTarget]) -> None:
        self.calendar = cal
        self.years: dict[int, YearPlan] = {t.year: plan_year(cal, t) for t in targets}

    def year(self, year: int) -> YearPlan | None:
        return self.years.get(year)

    def target_between(self, start: datetime, end: datetime) -> float:
        if start >= end:
            return 0.0
        total = 0.0
        for plan in self.years.values():
            for month, (lo, hi) in zip(plan.months, plan.month_bounds, strict=True):
                a, b = max(start, lo), min(end, hi)
                if a < b and month.rate_per_second > 0:
                    total += month.rate_per_second * self.calendar.planned_seconds(a, b)
        return total

    def annual(self, year: int) -> int | None:
        plan = self.years.get(year)
        return plan.annual if plan is not None else None

    def daily_rate(self, day: date) -> float | None:
        """The planned trucks per working day in the month of `day` (None without a target for its year)."""
        plan = self.years.get(day.year)
        if plan is None:
            return None
        month = plan.months[day.month - 1]
        return month.target / month.working_days if month.working_days else 0.0

    def year_bounds(self, year: int) -> tuple[datetime, datetime]:
        period = year_period(self.calendar, year)
        return period.start, period.end


# ---- WIP ramp -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RampPoint:
    date: date
    wip: int


def validate_ramp(points: Iterable[RampPoint]) -> tuple[RampPoint, ...]:
    ordered = tuple(sorted(points, key=lambda p: p.date))
    if not ordered:
        raise InvalidInput("wip-ramp.empty", "a WIP ramp needs at least one point (a goal by a date)")
    dates = [p.date for p in ordered]
    if len(set(dates)) != len(dates):
        raise InvalidInput("wip-ramp.duplicate-date", "each date may appear once in a WIP ramp")
    if any(p.wip < 0 for p in ordered):
        raise InvalidInput("wip-ramp.negative", "a WIP goal cannot be negative")
    return ordered


def ramp_goal(points: tuple[RampPoint, ...], day: date) -> float | None:
    """The WIP the ramp asks for on `day`: linear between points, the last goal after the end, and
    nothing before the first point (a single point is a goal by its date, reached by a straight line
    from the ramp's first point, so with one point there is only the goal itself)."""
    if not points or day < points[0].date:
        return None
    if day >= points[-1].date:
        return float(points[-1].wip)
    for before, after in pairwise(points):
        if before.date <= day < after.date:
            span = (after.date - before.date).days
            return before.wip + (after.wip - before.wip) * (day - before.date).days / span
    return None  # pragma: no cover - the loop always finds the segment


def next_ramp_point(points: tuple[RampPoint, ...], day: date) -> RampPoint | None:
    return next((p for p in points if p.date >= day), None)
