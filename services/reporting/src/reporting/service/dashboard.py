"""Everything the wall-screen dashboard shows for one line, from one snapshot."""

from __future__ import annotations

from reporting.api import schemas
from reporting.domain.periods import period_at
from reporting.service import flow, kits, lost_time, output, people, quality
from reporting.service.context import Reader
from reporting.service.ranges import Range


async def dashboard(reader: Reader, line_id: str, lookback: int) -> schemas.DashboardView:
    cal = await reader.calendar(line_id)
    day = period_at("day", cal, reader.at)
    assert day is not None
    today = Range(day.start, day.end, day.label)
    summary = await output.summary(reader, line_id, lookback)
    staffing = await people.staffing(reader, line_id, None, None)
    cycles = await flow.cycle_times(reader, line_id, today)
    return schemas.DashboardView(
        as_planned_now=reader.planned_now("/dashboard/data"),
        line_id=line_id,
        at=reader.at,
        time_zone=summary.time_zone,
        generation=reader.generation,
        output=summary,
        curve=await output.curve(reader, line_id, summary.year.year, lookback),
        wip=await flow.wip(reader, line_id),
        open_andons=await lost_time.open_andons(reader, line_id),
        quality=await quality.quality(reader, line_id, today),
        kits=await kits.kits_summary(reader, line_id),
        staffing=schemas.StaffingSummary(
            shift=" ".join(staffing.shifts) or None,
            required=staffing.required,
            clocked_in=staffing.clocked_in,
            present=staffing.present,
            coverage=staffing.coverage,
        ),
        bottleneck=cycles.bottleneck,
    )
