"""Targets are reporting's own data: planners set the annual plan per line and year (optionally fixing
months) and a WIP ramp goal. Stored directly (no event); the live streams are told at commit."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from mes_shared.commands import Outcome, UnitOfWork
from reporting.adapters.tables import targets, wip_ramps
from reporting.api import schemas
from reporting.domain.errors import NotFound
from reporting.domain.targets import AnnualTarget, RampPoint, next_ramp_point, plan_year, ramp_goal, validate_ramp
from reporting.projections import store
from reporting.projections.fold import KITS, OUTPUT, TARGETS, WIP
from reporting.projections.runner import notify
from reporting.service.context import Reader


async def _reader(conn: AsyncConnection, default_zone: str) -> Reader:
    pointer = await store.read_pointer(conn)
    if pointer is None:
        raise RuntimeError("no projection schema is active yet")
    await store.use_schema(conn, pointer.schema)
    return Reader(conn, default_zone, datetime.now(UTC), pointer.generation)


async def annual_view(reader: Reader, line_id: str, year: int) -> schemas.AnnualTargetView:
    row = (
        await reader.conn.execute(sa.select(targets).where(targets.c.line_id == line_id, targets.c.year == year))
    ).one_or_none()
    if row is None:
        raise NotFound("target.unknown", f"no target is set for line {line_id} in {year}")
    fixed = {int(m): int(n) for m, n in row.monthly.items()}
    plan = plan_year(await reader.calendar(line_id), AnnualTarget(line_id, year, row.annual, fixed))
    return schemas.AnnualTargetView(
        line_id=line_id,
        year=year,
        annual=row.annual,
        monthly_fixed={str(m): n for m, n in sorted(fixed.items())},
        months=[
            schemas.MonthTargetOut(
                month=m.month,
                target=round(m.target, 2),
                fixed=m.fixed,
                working_days=m.working_days,
                planned_hours=round(m.planned_seconds / 3600, 2),
                takt_minutes=round(m.planned_seconds / 60 / m.target, 2) if m.target > 0 else None,
            )
            for m in plan.months
        ],
        placeable=round(plan.placeable, 2),
        warnings=list(plan.warnings),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def set_annual(
    uow: UnitOfWork, line_id: str, year: int, body: schemas.AnnualTargetIn, default_zone: str
) -> Outcome:
    fixed = {int(m): n for m, n in body.monthly.items()}
    AnnualTarget(line_id, year, body.annual, fixed)  # validates: raises InvalidInput
    conn = await uow.session.connection()
    stmt = insert(targets).values(
        line_id=line_id,
        year=year,
        annual=body.annual,
        monthly={str(m): n for m, n in sorted(fixed.items())},
        updated_at=datetime.now(UTC),
        updated_by=uow.principal.subject,
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[targets.c.line_id, targets.c.year],
            set_={c: stmt.excluded[c] for c in ("annual", "monthly", "updated_at", "updated_by")},
        )
    )
    await notify(conn, sorted({OUTPUT, TARGETS, KITS, WIP}))
    view = await annual_view(await _reader(conn, default_zone), line_id, year)
    return Outcome(200, view.model_dump(mode="json"))


async def ramp_view(reader: Reader, line_id: str) -> schemas.WipRampView:
    row = (await reader.conn.execute(sa.select(wip_ramps).where(wip_ramps.c.line_id == line_id))).one_or_none()
    if row is None:
        raise NotFound("wip-ramp.unknown", f"no WIP ramp is set for line {line_id}")
    points = await reader.ramp(line_id)
    today = (await reader.calendar(line_id)).local_date(reader.at)
    following = next_ramp_point(points, today)
    goal = ramp_goal(points, today)
    return schemas.WipRampView(
        line_id=line_id,
        points=[schemas.RampPointIn(date=p.date, wip=p.wip) for p in points],
        goal_today=round(goal, 2) if goal is not None else None,
        next_point=schemas.RampPointIn(date=following.date, wip=following.wip) if following else None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def set_ramp(uow: UnitOfWork, line_id: str, body: schemas.WipRampIn, default_zone: str) -> Outcome:
    points = validate_ramp(RampPoint(p.date, p.wip) for p in body.points)
    conn = await uow.session.connection()
    stmt = insert(wip_ramps).values(
        line_id=line_id,
        points=[{"date": p.date.isoformat(), "wip": p.wip} for p in points],
        updated_at=datetime.now(UTC),
        updated_by=uow.principal.subject,
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[wip_ramps.c.line_id],
            set_={c: stmt.excluded[c] for c in ("points", "updated_at", "updated_by")},
        )
    )
    await notify(conn, sorted({WIP, TARGETS}))
    view = await ramp_view(await _reader(conn, default_zone), line_id)
    return Outcome(200, view.model_dump(mode="json"))
