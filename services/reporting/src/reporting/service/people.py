"""People: headcount by origin and status, recall progress against its goal, staffing coverage per station
and shift, and qualifications expiring soon."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from reporting.api import schemas
from reporting.projections.tables import (
    clockings,
    employee_status,
    employees,
    qualification_changes,
    recall_goals,
    recalls,
    rosters,
)
from reporting.service.changes import last_changes
from reporting.service.context import Reader, planned_now

ORIGINS = ("transferred", "recalled", "new_hire")
STATUSES = ("idle", "active", "on_leave", "left")


async def statuses_on(reader: Reader, day: date, prefix: str | None = None) -> dict[str, tuple[str, str | None]]:
    """employee id -> (status, origin) on `day`: the latest status fact effective by then."""
    only = [employee_status.c.employee_id.startswith(prefix, autoescape=True)] if prefix else []
    latest = (
        sa.select(employee_status.c.employee_id, employee_status.c.status, employee_status.c.origin)
        .where(employee_status.c.effective <= day, *only)
        .distinct(employee_status.c.employee_id)
        .order_by(
            employee_status.c.employee_id,
            employee_status.c.effective.desc(),
            employee_status.c.at.desc(),
            employee_status.c.seq.desc(),
        )
        .subquery()
    )
    rows = await reader.rows(
        sa.select(
            latest.c.employee_id, latest.c.status, sa.func.coalesce(latest.c.origin, employees.c.origin).label("origin")
        ).join(employees, employees.c.employee_id == latest.c.employee_id, isouter=True)
    )
    return {r.employee_id: (r.status, r.origin) for r in rows}


async def headcount(reader: Reader, as_of: date, prefix: str | None = None) -> schemas.HeadcountView:
    people = await statuses_on(reader, as_of, prefix)
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for status, origin in people.values():
        cells[(origin or "unknown", status)] += 1
    origins = list(ORIGINS) + sorted({o for o, _ in cells} - set(ORIGINS))
    statuses = list(STATUSES) + sorted({s for _, s in cells} - set(STATUSES))
    matrix = [{"origin": o, "status": s, "count": cells.get((o, s), 0)} for o in origins for s in statuses]
    return schemas.HeadcountView(
        as_of=as_of,
        total=len(people),
        by_origin={o: sum(cells.get((o, s), 0) for s in statuses) for o in origins},
        by_status={s: sum(cells.get((o, s), 0) for o in origins) for s in statuses},
        matrix=matrix,
    )


async def recall(reader: Reader, as_of: date, *, asked: bool) -> schemas.RecallView:
    """`asked`: `as_of` was given, so the goals (read as set now) are named in `as_planned_now`."""
    goals = await reader.rows(sa.select(recall_goals).order_by(recall_goals.c.first_set_at, recall_goals.c.goal_id))
    done = await reader.rows(sa.select(recalls).where(recalls.c.recalled_on <= as_of).order_by(recalls.c.at))
    toward: dict[str, set[str]] = defaultdict(set)
    known_goals = {g.goal_id for g in goals}
    for r in done:
        goal_id = r.goal_id if r.goal_id in known_goals else None
        if goal_id is None:
            # A recall naming no (known) goal counts toward the latest goal set before it.
            earlier = [g for g in goals if g.first_set_at is not None and g.first_set_at <= r.at]
            goal_id = earlier[-1].goal_id if earlier else None
        if goal_id is not None:
            toward[goal_id].add(r.employee_id)
    people = await statuses_on(reader, as_of)
    out = []
    for g in goals:
        if g.target_count is None or g.by_date is None:
            continue
        recalled = len(toward[g.goal_id])
        set_on = g.first_set_at.date() if g.first_set_at is not None else as_of
        expected = None
        if g.by_date > set_on:
            share = min(1.0, max(0.0, (as_of - set_on).days / (g.by_date - set_on).days))
            expected = round(g.target_count * share, 2)
        out.append(
            schemas.RecallGoalOut(
                goal_id=g.goal_id,
                target_count=g.target_count,
                by_date=g.by_date,
                note=g.note,
                recalled=recalled,
                remaining=max(0, g.target_count - recalled),
                progress=round(recalled / g.target_count, 4),
                days_left=(g.by_date - as_of).days,
                expected_by_now=expected,
                on_track=recalled >= math.floor(expected) if expected is not None else recalled >= g.target_count,
            )
        )
    return schemas.RecallView(
        as_planned_now=planned_now("/people/recall", asked=asked),
        as_of=as_of,
        idle_now=sum(1 for status, _ in people.values() if status == "idle"),
        recalled_total=len({r.employee_id for r in done}),
        goals=out,
    )


async def staffing(reader: Reader, line_id: str, day: date | None, shift: str | None) -> schemas.StaffingView:
    cal = await reader.calendar(line_id)
    if day is None:
        current = cal.current_or_last_shift(reader.at)
        day = current.date if current is not None else cal.local_date(reader.at)
        if shift is None and current is not None:
            shift = current.code
    roster_where = [rosters.c.line_id == line_id, rosters.c.date == day]
    clock_where = [clockings.c.line_id == line_id, clockings.c.shift_date == day, clockings.c.at <= reader.at]
    if shift is not None:
        roster_where.append(rosters.c.shift == shift)
        clock_where.append(clockings.c.shift == shift)
    plans = await reader.rows(sa.select(rosters).where(*roster_where))
    clocks = await reader.rows(sa.select(clockings).where(*clock_where).order_by(clockings.c.at, clockings.c.event_id))
    required: dict[tuple[str, str], int] = defaultdict(int)
    rostered: dict[tuple[str, str], set[str]] = defaultdict(set)
    unqualified: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in plans:
        for req in p.required:
            required[(p.shift, req["station"])] += int(req["headcount"])
        for a in p.assignments:
            rostered[(p.shift, a["station"])].add(a["employee_id"])
        for a in p.unqualified:
            unqualified[(p.shift, a["station"])].add(a["employee_id"])
    clocked: dict[tuple[str, str], set[str]] = defaultdict(set)
    last: dict[str, Any] = {}
    for c in clocks:
        if c.kind == "in":
            clocked[(c.shift, c.station)].add(c.employee_id)
        last[c.employee_id] = c
    present: dict[tuple[str, str], int] = defaultdict(int)
    for c in last.values():
        if c.kind == "in":
            present[(c.shift, c.station)] += 1
    keys = sorted(set(required) | set(rostered) | set(clocked))
    rows = []
    for key in keys:
        need = required.get(key, 0)
        rows.append(
            schemas.StaffingRow(
                line_id=line_id,
                date=day,
                shift=key[0],
                station=key[1],
                required=need,
                rostered=len(rostered.get(key, set())),
                unqualified_rostered=len(unqualified.get(key, set())),
                clocked_in=len(clocked.get(key, set())),
                present=present.get(key, 0),
                coverage=round(len(clocked.get(key, set())) / need, 4) if need else None,
                rostered_coverage=round(len(rostered.get(key, set())) / need, 4) if need else None,
            )
        )
    need_total = sum(r.required for r in rows)
    in_total = sum(min(r.clocked_in, r.required) if r.required else 0 for r in rows)
    return schemas.StaffingView(
        as_planned_now=reader.planned_now("/people/staffing"),
        line_id=line_id,
        date=day,
        at=reader.at,
        shifts=sorted({k[0] for k in keys} | ({shift} if shift else set())),
        stations=rows,
        required=need_total,
        clocked_in=sum(r.clocked_in for r in rows),
        present=sum(r.present for r in rows),
        coverage=round(in_total / need_total, 4) if need_total else None,
    )


async def expiring(
    reader: Reader, within_days: int, station: str | None, limit: int, offset: int
) -> schemas.ExpiringPage:
    at = reader.at
    horizon: datetime = at + timedelta(days=within_days)
    where = [qualification_changes.c.station == station] if station is not None else []
    last = last_changes(qualification_changes, ("employee_id", "station"), at, *where)
    expiring_then = [
        last.c.kind.in_(("granted", "renewed")),
        last.c.valid_until > at,
        last.c.valid_until <= horizon,
    ]
    total = (await reader.rows(sa.select(sa.func.count()).select_from(last).where(*expiring_then)))[0][0]
    rows = await reader.rows(
        sa.select(last, employees.c.name, employees.c.badge_id)
        .join(employees, employees.c.employee_id == last.c.employee_id, isouter=True)
        .where(*expiring_then)
        .order_by(last.c.valid_until, last.c.employee_id, last.c.station)
        .limit(limit)
        .offset(offset)
    )
    items = [
        schemas.ExpiringQualification(
            employee_id=r.employee_id,
            name=r.name,
            badge_id=r.badge_id,
            station=r.station,
            level=r.level,
            valid_until=r.valid_until,
            days_left=round((r.valid_until - at).total_seconds() / 86400, 2),
        )
        for r in rows
    ]
    return schemas.ExpiringPage(
        as_planned_now=reader.planned_now("/people/qualifications/expiring"),
        at=at,
        within_days=within_days,
        total=total,
        limit=limit,
        offset=offset,
        items=items,
    )
