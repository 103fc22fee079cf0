"""Output versus target: this shift, today, the week, the month and the year to date; the cumulative curve
against the plan with the year-end forecast; series per bucket; the list of completed trucks."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from reporting.api import schemas
from reporting.domain.calendar import LineCalendar
from reporting.domain.forecast import Forecast, forecast_year_end, project, required_daily_rate
from reporting.domain.periods import KINDS, PeriodKind, period_at, periods_between, year_period
from reporting.domain.targets import Plan
from reporting.projections.tables import vehicles
from reporting.service.context import Reader
from reporting.service.ranges import Range, through


def r2(value: float) -> float:
    return round(value, 2)


class Completions:
    """Completion instants of a line, sorted, for counting any range by bisection."""

    def __init__(self, instants: list[datetime]) -> None:
        self.instants = sorted(instants)

    def count(self, start: datetime, end: datetime) -> int:
        """Completions in [start, end)."""
        if start >= end:
            return 0
        return bisect_left(self.instants, end) - bisect_left(self.instants, start)


async def completions(reader: Reader, line_id: str, start: datetime, until: datetime) -> Completions:
    """Completions in [start, until] (`until` is the reference instant: later ones have not happened)."""
    rows = await reader.rows(
        sa.select(vehicles.c.completed_at).where(
            vehicles.c.line_id == line_id, vehicles.c.completed_at >= start, vehicles.c.completed_at <= until
        )
    )
    return Completions([r.completed_at for r in rows])


def daily_counts(cal: LineCalendar, done: Completions, days: list[date], today: date) -> list[float]:
    """Output per working day; output on the days off after a working day counts with that day."""
    counts = []
    for i, day in enumerate(days):
        following = days[i + 1] if i + 1 < len(days) else today
        counts.append(float(done.count(cal.day_start(day), cal.day_start(following))))
    return counts


def forecast(cal: LineCalendar, done: Completions, at: datetime, lookback: int, built_ytd: int) -> Forecast:
    today = cal.local_date(at)
    year_end = year_period(cal, today.year).end
    days = cal.last_working_days(today, lookback)
    remaining = cal.remaining_working_days(at, year_end)
    return forecast_year_end(built_ytd, daily_counts(cal, done, days, today), remaining)


def forecast_out(f: Forecast) -> schemas.ForecastOut:
    return schemas.ForecastOut(
        year_end=r2(f.year_end),
        low=r2(f.low) if f.low is not None else None,
        high=r2(f.high) if f.high is not None else None,
        run_rate=r2(f.run_rate),
        std_dev=r2(f.std_dev) if f.std_dev is not None else None,
        days_observed=f.days_observed,
        remaining_working_days=r2(f.remaining_working_days),
        method=f.method,
    )


def _lookback_start(cal: LineCalendar, at: datetime, lookback: int) -> datetime:
    days = cal.last_working_days(cal.local_date(at), lookback)
    return cal.day_start(days[0]) if days else at


async def summary(reader: Reader, line_id: str, lookback: int) -> schemas.OutputSummary:
    at = reader.at
    cal, plan = await reader.calendar(line_id), await reader.plan(line_id)
    year = year_period(cal, cal.local_date(at).year)
    periods = [p for kind in KINDS if (p := period_at(kind, cal, at)) is not None]
    earliest = min([p.start for p in periods] + [_lookback_start(cal, at, lookback)])
    done = await completions(reader, line_id, earliest, at)
    until = through(at)
    out: list[schemas.PeriodOutput] = []
    for p in periods:
        actual = done.count(p.start, min(p.end, until))
        target, to_now = plan.target_between(p.start, p.end), plan.target_between(p.start, min(p.end, at))
        out.append(
            schemas.PeriodOutput(
                period=p.kind,
                label=p.label,
                start=p.start,
                end=p.end,
                running=p.contains(at),
                actual=actual,
                target=r2(target),
                target_to_now=r2(to_now),
                gap=r2(actual - to_now),
                attainment=round(actual / to_now, 3) if to_now > 0 else None,
            )
        )
    built = done.count(year.start, until)
    annual = plan.annual(int(year.label))
    plan_to_date = plan.target_between(year.start, at)
    f = forecast(cal, done, at, lookback, built)
    year_plan = plan.year(int(year.label))
    warnings = list(year_plan.warnings) if year_plan is not None else []
    if annual is None:
        warnings.append(f"no annual target is set for line {line_id} in {year.label}")
    year_out = schemas.YearOutput(
        year=int(year.label),
        annual_target=annual,
        actual=built,
        plan_to_date=r2(plan_to_date),
        gap=r2(built - plan_to_date),
        remaining_working_days=r2(f.remaining_working_days),
        required_daily_rate=(
            r2(rate)
            if annual is not None and (rate := required_daily_rate(annual, built, f.remaining_working_days)) is not None
            else None
        ),
        planned_daily_rate=r2(rate) if (rate := plan.daily_rate(cal.local_date(at))) is not None else None,
        forecast=forecast_out(f),
        forecast_gap=r2(f.year_end - annual) if annual is not None else None,
        on_track=f.year_end >= annual if annual is not None else None,
    )
    zone_name = str(cal.zone_at(at))
    return schemas.OutputSummary(
        as_planned_now=reader.planned_now("/output"),
        line_id=line_id,
        at=at,
        time_zone=zone_name,
        periods=out,
        year=year_out,
        warnings=warnings,
    )


async def series(reader: Reader, line_id: str, span: Range, bucket: PeriodKind) -> schemas.OutputSeries:
    cal, plan = await reader.calendar(line_id), await reader.plan(line_id)
    done = await completions(reader, line_id, span.start, reader.at)
    until = through(reader.at)
    points: list[schemas.SeriesPoint] = []
    cumulative_actual, cumulative_target = 0, 0.0
    for p in periods_between(bucket, cal, span.start, span.end):
        lo, hi = max(p.start, span.start), min(p.end, span.end)
        actual = done.count(lo, min(hi, until))
        target = plan.target_between(lo, hi)
        cumulative_actual += actual
        cumulative_target += target
        points.append(
            schemas.SeriesPoint(
                label=p.label,
                start=lo,
                end=hi,
                actual=actual,
                target=r2(target),
                gap=r2(actual - target),
                cumulative_actual=cumulative_actual,
                cumulative_target=r2(cumulative_target),
            )
        )
    return schemas.OutputSeries(
        as_planned_now=reader.planned_now("/output/series"),
        line_id=line_id,
        bucket=bucket,
        start=span.start,
        end=span.end,
        time_zone=str(cal.zone_on(cal.local_date(span.start))),
        points=points,
    )


def plan_by_day(cal: LineCalendar, plan: Plan, year: int) -> list[tuple[date, float]]:
    day, out = date(year, 1, 1), []
    while day.year == year:
        start, end = cal.day_bounds(day)
        out.append((day, plan.target_between(start, end)))
        day += timedelta(days=1)
    return out


async def curve(reader: Reader, line_id: str, year: int, lookback: int) -> schemas.OutputCurve:
    """Day by day: the plan's cumulative curve, the actual one up to `at`, then the forecast with its band."""
    at = reader.at
    cal, plan = await reader.calendar(line_id), await reader.plan(line_id)
    bounds = year_period(cal, year)
    done = await completions(reader, line_id, min(bounds.start, _lookback_start(cal, at, lookback)), at)
    until = through(at)
    today = cal.local_date(at)
    built = done.count(bounds.start, min(until, bounds.end))
    in_year = bounds.start <= at < bounds.end
    f = forecast(cal, done, at, lookback, built) if in_year else forecast_year_end(built, [], 0.0)
    points: list[schemas.CurvePoint] = []
    plan_total = 0.0
    actual_total = 0
    days = plan_by_day(cal, plan, year)
    future = [cal.day_bounds(day)[1] for day, _ in days if in_year and day >= today]
    ahead_by_end = dict(zip(future, cal.remaining_working_days_until(at, future), strict=True))
    for day, plan_day in days:
        start, end = cal.day_bounds(day)
        plan_total += plan_day
        actual_day = forecast_cum = low = high = None
        if start <= at:
            actual_day = done.count(start, min(end, until))
            actual_total += actual_day
        if in_year and day >= today:
            ahead = ahead_by_end[end]
            forecast_cum, low, high = project(built, f.run_rate, f.std_dev, f.days_observed, ahead)
        points.append(
            schemas.CurvePoint(
                date=day,
                working_day=cal.is_working_day(day),
                plan_day=r2(plan_day),
                plan_cumulative=r2(plan_total),
                actual_day=actual_day,
                actual_cumulative=actual_total if actual_day is not None else None,
                forecast_cumulative=r2(forecast_cum) if forecast_cum is not None else None,
                forecast_low=r2(low) if low is not None else None,
                forecast_high=r2(high) if high is not None else None,
            )
        )
    year_plan = plan.year(year)
    warnings = list(year_plan.warnings) if year_plan else [f"no annual target is set for line {line_id} in {year}"]
    return schemas.OutputCurve(
        as_planned_now=reader.planned_now("/output/curve"),
        line_id=line_id,
        year=year,
        at=at,
        time_zone=str(cal.zone_at(at)),
        annual_target=plan.annual(year),
        forecast=forecast_out(f),
        points=points,
        warnings=warnings,
    )


async def completion_page(reader: Reader, line_id: str, span: Range, limit: int, offset: int) -> schemas.CompletionPage:
    cal = await reader.calendar(line_id)
    where = [
        vehicles.c.line_id == line_id,
        vehicles.c.completed_at >= span.start,
        vehicles.c.completed_at < span.end,
        vehicles.c.completed_at <= reader.at,
    ]
    total = (await reader.rows(sa.select(sa.func.count()).select_from(vehicles).where(*where)))[0][0]
    rows = await reader.rows(
        sa.select(vehicles).where(*where).order_by(vehicles.c.completed_at, vehicles.c.vin).limit(limit).offset(offset)
    )
    items = []
    for r in rows:
        shift = cal.shift_at(r.completed_at)
        items.append(
            schemas.CompletionOut(
                vin=r.vin,
                model=r.model,
                completed_at=r.completed_at,
                local_date=cal.local_date(r.completed_at),
                shift=shift.label if shift else None,
                lead_time_seconds=r.lead_time_seconds,
                first_pass=r.first_pass,
                defect_count=r.defect_count,
            )
        )
    return schemas.CompletionPage(
        as_planned_now=reader.planned_now("/output/completions"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        total=total,
        limit=limit,
        offset=offset,
        items=items,
    )
