"""Quality: FPY and DPU of the trucks completed in a range, open defects, and the defect Pareto."""

from __future__ import annotations

from collections import Counter
from typing import Literal

import sqlalchemy as sa

from reporting.api import schemas
from reporting.domain.kpi import dpu, fpy, pareto
from reporting.projections.tables import defects, vehicles
from reporting.service.context import Reader
from reporting.service.ranges import Range

ParetoBy = Literal["code", "station", "caused_at"]


async def quality(reader: Reader, line_id: str | None, span: Range) -> schemas.QualityView:
    until = span.until(reader.at)
    done_where = [vehicles.c.completed_at >= span.start, vehicles.c.completed_at < until]
    found_where = [defects.c.found_at >= span.start, defects.c.found_at < until]
    open_where = [
        defects.c.found_at <= reader.at,
        sa.or_(defects.c.repaired_at.is_(None), defects.c.repaired_at > reader.at),
    ]
    if line_id is not None:
        done_where.append(vehicles.c.line_id == line_id)
        found_where.append(defects.c.line_id == line_id)
        open_where.append(defects.c.line_id == line_id)
    done = (
        await reader.rows(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(vehicles.c.first_pass.is_(True)),
                sa.func.coalesce(sa.func.sum(vehicles.c.defect_count), 0),
            ).where(*done_where)
        )
    )[0]
    completed, first_pass, on_completed = int(done[0]), int(done[1]), int(done[2])
    found = (await reader.rows(sa.select(sa.func.count()).select_from(defects).where(*found_where)))[0][0]
    still_open = (await reader.rows(sa.select(sa.func.count()).select_from(defects).where(*open_where)))[0][0]
    rate, per_unit = fpy(completed, first_pass), dpu(on_completed, completed)
    return schemas.QualityView(
        as_planned_now=reader.planned_now("/quality"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        completed=completed,
        first_pass=first_pass,
        fpy=round(rate, 4) if rate is not None else None,
        defects_on_completed=on_completed,
        dpu=round(per_unit, 4) if per_unit is not None else None,
        defects_found=found,
        open_defects=still_open,
    )


async def defect_pareto(reader: Reader, line_id: str | None, span: Range, by: ParetoBy) -> schemas.ParetoView:
    column = {"code": defects.c.code, "station": defects.c.station, "caused_at": defects.c.caused_at_station}[by]
    where = [defects.c.found_at >= span.start, defects.c.found_at < span.until(reader.at)]
    if line_id is not None:
        where.append(defects.c.line_id == line_id)
    rows = await reader.rows(sa.select(column.label("key"), sa.func.count().label("n")).where(*where).group_by(column))
    counts = Counter({(r.key or "unknown"): int(r.n) for r in rows})
    items = [
        schemas.ParetoItemOut(
            key=i.key, count=i.count, share=round(i.share, 4), cumulative_share=round(i.cumulative_share, 4)
        )
        for i in pareto(counts)
    ]
    return schemas.ParetoView(
        as_planned_now=reader.planned_now("/quality/pareto"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        by=by,
        total=sum(counts.values()),
        items=items,
    )
