"""Lines as reporting knows them (definition, calendar, targets), and a line's working calendar by day."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from reporting.adapters.tables import targets, wip_ramps
from reporting.api import schemas
from reporting.projections.tables import lines
from reporting.service.context import Reader
from reporting.service.ranges import Range


async def list_lines(reader: Reader) -> schemas.LinesView:
    known = await reader.known_lines()
    defined = {r.line_id: r for r in await reader.rows(sa.select(lines))}
    years: dict[str, list[int]] = {}
    for r in await reader.rows(sa.select(targets.c.line_id, targets.c.year).order_by(targets.c.year)):
        years.setdefault(r.line_id, []).append(r.year)
    ramps = {r.line_id for r in await reader.rows(sa.select(wip_ramps.c.line_id))}
    out = []
    for line_id in known:
        cal = await reader.calendar(line_id)
        row = defined.get(line_id)
        current = cal.current_version
        out.append(
            schemas.LineOut(
                line_id=line_id,
                name=row.name if row else None,
                stations=[schemas.StationOut(**s) for s in (row.stations if row else [])],
                time_zone=str(cal.zone_at(reader.at)),
                calendar_version=current.version if current else None,
                target_years=years.get(line_id, []),
                has_wip_ramp=line_id in ramps,
            )
        )
    return schemas.LinesView(as_planned_now=reader.planned_now("/lines"), lines=out)


async def calendar_days(reader: Reader, line_id: str, span: Range) -> schemas.CalendarView:
    cal = await reader.calendar(line_id)
    plan = await reader.plan(line_id)
    days = []
    day = cal.local_date(span.start)
    last = cal.local_date(span.end - timedelta(microseconds=1))
    while day <= last:
        start, end = cal.day_bounds(day)
        version = cal.version_on(day)
        days.append(
            schemas.CalendarDay(
                date=day,
                working_day=cal.is_working_day(day),
                calendar_version=version.version if version else None,
                shifts=[w.code for w in cal.shifts_on(day)],
                planned_minutes=round(cal.planned_seconds(start, end) / 60, 2),
                target=round(plan.target_between(start, end), 2) if plan.annual(day.year) is not None else None,
            )
        )
        day += timedelta(days=1)
    return schemas.CalendarView(
        as_planned_now=reader.planned_now("/lines/{line_id}/calendar"),
        line_id=line_id,
        time_zone=str(cal.zone_on(cal.local_date(span.start))),
        days=days,
    )
