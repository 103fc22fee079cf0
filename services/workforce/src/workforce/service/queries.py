"""Read models for the GET routes, served from the tables the handlers keep current in their transactions."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from workforce.adapters.repository import (
    Calendars,
    Lines,
    Qualifications,
    Rosters,
    calendar_of,
    presence_of,
    qualification_of,
)
from workforce.adapters.tables import (
    calendars,
    employee_status_history,
    employees,
    lines,
    presences,
    qualification_history,
    qualifications,
    recall_goals,
    recalls,
    roster_assignments,
    rosters,
    stations,
)
from workforce.api import schemas
from workforce.domain import (
    Calendar,
    EmployeeStatus,
    InvalidInput,
    Level,
    Origin,
    Presence,
    Qualification,
    RecallGoal,
    progress,
)

# ---- employees ----------------------------------------------------------------------------------


async def employee_view(session: AsyncSession, employee_id: str) -> schemas.EmployeeView | None:
    row = (await session.execute(sa.select(employees).where(employees.c.employee_id == employee_id))).one_or_none()
    return schemas.EmployeeView.model_validate(dict(row._mapping)) if row else None


def qualification_view(q: Qualification, now: datetime) -> schemas.QualificationView:
    return schemas.QualificationView(
        employee_id=q.employee_id,
        station=q.station,
        level=q.level.value,
        valid_from=q.valid_from,
        valid_until=q.valid_until,
        revoked_at=q.revoked_at,
        revoke_reason=q.revoke_reason,
        state=q.state(now).value,
    )


def presence_view(p: Presence) -> schemas.PresenceView:
    return schemas.PresenceView(
        employee_id=p.employee_id,
        badge_id=p.badge_id,
        station=p.station,
        line_id=p.line_id,
        shift_date=p.shift_date,
        shift=p.shift,
        shift_start=p.shift_start,
        shift_end=p.shift_end,
        clocked_in_at=p.clocked_in_at,
        clocked_out_at=p.clocked_out_at,
        automatic=p.automatic,
        out_reason=p.out_reason.value if p.out_reason else None,
    )


async def employee_detail(session: AsyncSession, employee_id: str, now: datetime) -> schemas.EmployeeDetail | None:
    base = await employee_view(session, employee_id)
    if base is None:
        return None
    history = await session.execute(
        sa.select(employee_status_history)
        .where(employee_status_history.c.employee_id == employee_id)
        .order_by(employee_status_history.c.id)
    )
    recalled = await session.execute(
        sa.select(recalls).where(recalls.c.employee_id == employee_id).order_by(recalls.c.id)
    )
    held = await session.execute(
        sa.select(qualifications).where(qualifications.c.employee_id == employee_id).order_by(qualifications.c.station)
    )
    q_history = await session.execute(
        sa.select(qualification_history)
        .where(qualification_history.c.employee_id == employee_id)
        .order_by(qualification_history.c.id)
    )
    open_row = (
        await session.execute(
            sa.select(presences).where(presences.c.employee_id == employee_id, presences.c.clocked_out_at.is_(None))
        )
    ).one_or_none()
    return schemas.EmployeeDetail(
        **base.model_dump(),
        status_history=[schemas.StatusHistoryEntry.model_validate(dict(r._mapping)) for r in history],
        recalls=[schemas.RecallView.model_validate(dict(r._mapping)) for r in recalled],
        qualifications=[qualification_view(qualification_of(r), now) for r in held],
        qualification_history=[schemas.QualificationHistoryEntry.model_validate(dict(r._mapping)) for r in q_history],
        presence=presence_view(presence_of(open_row)) if open_row else None,
    )


async def list_employees(
    session: AsyncSession,
    *,
    origin: str | None,
    status: str | None,
    badge_id: str | None,
    name: str | None,
    limit: int,
    offset: int,
) -> schemas.EmployeePage:
    where = []
    if origin:
        where.append(employees.c.origin == origin)
    if status:
        where.append(employees.c.status == status)
    if badge_id:
        where.append(employees.c.badge_id == badge_id)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(employees.c.name.ilike(f"%{escaped}%", escape="\\"))
    total = await session.scalar(sa.select(sa.func.count()).select_from(employees).where(*where)) or 0
    rows = await session.execute(
        sa.select(employees).where(*where).order_by(employees.c.employee_id).limit(limit).offset(offset)
    )
    return schemas.EmployeePage(
        total=total,
        limit=limit,
        offset=offset,
        items=[schemas.EmployeeView.model_validate(dict(r._mapping)) for r in rows],
    )


async def headcount(session: AsyncSession) -> schemas.Headcount:
    rows = await session.execute(
        sa.select(employees.c.origin, employees.c.status, sa.func.count()).group_by(
            employees.c.origin, employees.c.status
        )
    )
    counts = {(r.origin, r.status): r[2] for r in rows}
    cells = [
        schemas.HeadcountCell(origin=o.value, status=s.value, count=counts.get((o.value, s.value), 0))
        for o in Origin
        for s in EmployeeStatus
    ]
    total = sum(counts.values())
    return schemas.Headcount(
        total=total,
        on_roll=total - sum(n for (_, status), n in counts.items() if status == EmployeeStatus.LEFT.value),
        by_origin={o.value: sum(c.count for c in cells if c.origin == o.value) for o in Origin},
        by_status={s.value: sum(c.count for c in cells if c.status == s.value) for s in EmployeeStatus},
        cells=cells,
    )


# ---- recall -------------------------------------------------------------------------------------


async def recall_goal_view(session: AsyncSession, goal_id: str) -> schemas.RecallGoalView | None:
    row = (await session.execute(sa.select(recall_goals).where(recall_goals.c.goal_id == goal_id))).one_or_none()
    return schemas.RecallGoalView.model_validate(dict(row._mapping)) if row else None


async def list_recall_goals(session: AsyncSession) -> list[schemas.RecallGoalView]:
    rows = await session.execute(sa.select(recall_goals).order_by(recall_goals.c.set_at.desc()))
    return [schemas.RecallGoalView.model_validate(dict(r._mapping)) for r in rows]


async def recall_progress(session: AsyncSession, goal_id: str | None, today: date) -> schemas.RecallProgressView | None:
    query = sa.select(recall_goals)
    if goal_id is None:
        query = query.order_by(recall_goals.c.set_at.desc(), recall_goals.c.goal_id.desc()).limit(1)
    else:
        query = query.where(recall_goals.c.goal_id == goal_id)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    goal = RecallGoal(
        goal_id=row.goal_id, target_count=row.target_count, by_date=row.by_date, set_on=row.set_on, note=row.note
    )
    recalled = await session.scalar(
        sa.select(sa.func.count())
        .select_from(recalls)
        .where(recalls.c.recalled_on >= goal.set_on, recalls.c.recalled_on <= goal.by_date)
    )
    idle = await session.scalar(
        sa.select(sa.func.count()).select_from(employees).where(employees.c.status == EmployeeStatus.IDLE.value)
    )
    result = progress(goal, recalled=recalled or 0, idle_now=idle or 0, today=today)
    return schemas.RecallProgressView(
        goal=schemas.RecallGoalView.model_validate(dict(row._mapping)),
        today=today,
        recalled=result.recalled,
        remaining=result.remaining,
        days_left=result.days_left,
        required_per_day=result.required_per_day,
        achieved=result.achieved,
        overdue=result.overdue,
        idle_now=result.idle_now,
        shortfall_in_pool=result.shortfall_in_pool,
    )


# ---- qualifications -----------------------------------------------------------------------------


async def expiring(
    session: AsyncSession, *, now: datetime, days: int, station: str | None, line_id: str | None
) -> schemas.ExpiringList:
    until = now + timedelta(days=days)
    query = (
        sa.select(
            qualifications,
            employees.c.name,
            employees.c.badge_id,
            employees.c.status.label("employee_status"),
            stations.c.line_id,
        )
        .join(employees, employees.c.employee_id == qualifications.c.employee_id)
        .outerjoin(stations, stations.c.station_id == qualifications.c.station)
        .where(
            qualifications.c.revoked_at.is_(None),
            qualifications.c.valid_until > now,
            qualifications.c.valid_until <= until,
            employees.c.status != EmployeeStatus.LEFT.value,
        )
        .order_by(qualifications.c.valid_until, qualifications.c.employee_id, qualifications.c.station)
    )
    if station:
        query = query.where(qualifications.c.station == station)
    if line_id:
        query = query.where(stations.c.line_id == line_id)
    items = []
    for row in await session.execute(query):
        view = qualification_view(qualification_of(row), now)
        items.append(
            schemas.ExpiringQualification(
                **view.model_dump(),
                name=row.name,
                badge_id=row.badge_id,
                employee_status=row.employee_status,
                line_id=row.line_id,
            )
        )
    return schemas.ExpiringList(now=now, until=until, items=items)


# ---- lines and calendars ------------------------------------------------------------------------


async def list_lines(session: AsyncSession) -> list[schemas.LineView]:
    found = await session.execute(sa.select(lines).order_by(lines.c.line_id))
    listed = await session.execute(
        sa.select(stations).order_by(stations.c.line_id, stations.c.active.desc(), stations.c.position)
    )
    by_line: dict[str, list[schemas.StationView]] = defaultdict(list)
    for s in listed:
        by_line[s.line_id].append(
            schemas.StationView(station_id=s.station_id, name=s.name, position=s.position, active=s.active)
        )
    return [
        schemas.LineView(line_id=r.line_id, name=r.name, configured_at=r.configured_at, stations=by_line[r.line_id])
        for r in found
    ]


def _shift_views(c: Calendar) -> list[schemas.ShiftView]:
    views = []
    for s in c.shifts:
        breaks = sum(e - b for b, e in s.break_offsets())
        views.append(
            schemas.ShiftView(
                code=s.code,
                start=s.start.strftime("%H:%M"),
                end=s.end.strftime("%H:%M"),
                crosses_midnight=s.crosses_midnight,
                breaks=[
                    schemas.BreakView(start=b.start.strftime("%H:%M"), end=b.end.strftime("%H:%M")) for b in s.breaks
                ],
                planned_minutes=s.span_minutes - breaks,
            )
        )
    return views


async def calendar_view(session: AsyncSession, line_id: str, version: int) -> schemas.CalendarView | None:
    row = (
        await session.execute(
            sa.select(calendars).where(calendars.c.line_id == line_id, calendars.c.version == version)
        )
    ).one_or_none()
    if row is None:
        return None
    c = calendar_of(row)
    return schemas.CalendarView(
        line_id=line_id,
        version=row.version,
        time_zone=c.time_zone,
        valid_from=c.valid_from,
        working_days=sorted(c.working_days),
        holidays=sorted(c.holidays),
        shifts=_shift_views(c),
        published_at=row.published_at,
        published_by=row.published_by,
    )


async def calendar_versions(session: AsyncSession, line_id: str) -> list[schemas.CalendarView]:
    versions = await session.scalars(
        sa.select(calendars.c.version).where(calendars.c.line_id == line_id).order_by(calendars.c.version)
    )
    views = [await calendar_view(session, line_id, v) for v in list(versions)]
    return [v for v in views if v is not None]


async def applicable_calendar(session: AsyncSession, line_id: str, on: date) -> schemas.CalendarView | None:
    found = (await Calendars(session).history(line_id)).applicable(on)
    return await calendar_view(session, line_id, found.version) if found else None


async def planned_time(session: AsyncSession, line_id: str, first: date, last: date) -> list[schemas.PlannedDay]:
    history = await Calendars(session).history(line_id)
    days = []
    d = first
    while d <= last:
        version = history.applicable(d)
        instances = version.calendar.instances_on(d) if version else []
        days.append(
            schemas.PlannedDay(
                date=d,
                working_day=bool(version and version.calendar.is_working_day(d)),
                calendar_version=version.version if version else None,
                planned_minutes=sum(i.planned_minutes for i in instances),
                shifts=[
                    schemas.ShiftInstanceView(
                        shift=i.code,
                        shift_date=i.shift_date,
                        start=i.start,
                        end=i.end,
                        breaks=list(i.breaks),
                        planned_minutes=i.planned_minutes,
                    )
                    for i in instances
                ],
            )
        )
        d += timedelta(days=1)
    return days


# ---- rosters and coverage -----------------------------------------------------------------------


async def roster_view(session: AsyncSession, line_id: str, d: date, shift: str) -> schemas.RosterView | None:
    key = (rosters.c.line_id == line_id, rosters.c.shift_date == d, rosters.c.shift == shift)
    row = (await session.execute(sa.select(rosters).where(*key))).one_or_none()
    if row is None:
        return None
    assigned = await session.execute(
        sa.select(roster_assignments.c.employee_id, roster_assignments.c.station)
        .where(
            roster_assignments.c.line_id == line_id,
            roster_assignments.c.shift_date == d,
            roster_assignments.c.shift == shift,
        )
        .order_by(roster_assignments.c.station, roster_assignments.c.employee_id)
    )
    return schemas.RosterView(
        line_id=line_id,
        date=d,
        shift=shift,
        shift_start=row.shift_start,
        shift_end=row.shift_end,
        version=row.version,
        required=[schemas.RequirementView(**r) for r in row.required],
        assignments=[schemas.AssignmentView(employee_id=a.employee_id, station=a.station) for a in assigned],
        unqualified_assignments=[schemas.AssignmentView(**a) for a in row.unqualified],
        published_at=row.published_at,
        published_by=row.published_by,
    )


def _levels(people: list[schemas.CoveragePerson]) -> schemas.LevelCounts:
    return schemas.LevelCounts(**{lv.value: sum(1 for p in people if p.level == lv.value) for lv in Level})


async def coverage(session: AsyncSession, line_id: str, d: date, shift: str, now: datetime) -> schemas.Coverage | None:
    """Per station: required, rostered, clocked in, and how many of them are qualified there."""
    repo = Lines(session)
    if not await repo.exists(line_id):
        return None
    instance = (await Calendars(session).history(line_id)).instance(d, shift)
    if instance is None:
        raise InvalidInput(
            "roster.shift.not-scheduled",
            f"line {line_id} has no shift {shift} on {d}: the shift code is not in the calendar that applies that "
            "day, or the day is not a working day",
        )
    as_of = min(max(now, instance.start), instance.end - timedelta(microseconds=1))
    roster = await Rosters(session).get(line_id, d, shift)
    shown = await session.execute(
        sa.select(presences).where(
            presences.c.line_id == line_id, presences.c.shift_date == d, presences.c.shift == shift
        )
    )
    attended = [presence_of(r) for r in shown]
    assigned = list(roster.assignments) if roster else []
    required = {r.station: r.headcount for r in roster.required} if roster else {}
    pairs = {(a.employee_id, a.station) for a in assigned} | {(p.employee_id, p.station) for p in attended}
    held = await Qualifications(session).of_pairs(pairs)
    people = {a.employee_id for a in assigned} | {p.employee_id for p in attended}
    names = {
        r.employee_id: r.name
        for r in await session.execute(
            sa.select(employees.c.employee_id, employees.c.name).where(employees.c.employee_id.in_(sorted(people)))
        )
    }

    def person(employee_id: str, station: str) -> schemas.CoveragePerson:
        q = held.get((employee_id, station))
        level = q.level.value if q is not None and q.is_valid_at(as_of) else None
        return schemas.CoveragePerson(employee_id=employee_id, name=names.get(employee_id, ""), level=level)

    station_names = {s.station_id: s.name for s in await repo.stations_of(line_id)}
    active = [s.station_id for s in await repo.stations_of(line_id) if s.active]
    listed = active + sorted(
        ({a.station for a in assigned} | {p.station for p in attended} | set(required)) - set(active)
    )
    views = []
    for station in listed:
        rostered = [person(a.employee_id, station) for a in assigned if a.station == station]
        here: dict[str, Presence] = {}
        for p in sorted(attended, key=lambda p: p.clocked_in_at):
            if p.station == station:
                here.setdefault(p.employee_id, p)
                if p.is_open:
                    here[p.employee_id] = p
        clocked = [person(e, station) for e in sorted(here)]
        need = required.get(station, 0)
        clocked_qualified = sum(1 for c in clocked if c.level)
        views.append(
            schemas.StationCoverage(
                station=station,
                name=station_names.get(station),
                required=need,
                rostered=len(rostered),
                rostered_qualified=sum(1 for r in rostered if r.level),
                rostered_by_level=_levels(rostered),
                clocked_in=len(clocked),
                present=sum(1 for p in here.values() if p.is_open),
                clocked_in_qualified=clocked_qualified,
                clocked_in_by_level=_levels(clocked),
                open_positions=max(0, need - len(rostered)),
                uncovered=max(0, need - clocked_qualified),
                rostered_people=rostered,
                clocked_in_people=clocked,
            )
        )
    fields = ("required", "rostered", "rostered_qualified", "clocked_in", "present", "clocked_in_qualified")
    totals: dict[str, Any] = {f: sum(getattr(v, f) for v in views) for f in fields}
    totals |= {"open_positions": sum(v.open_positions for v in views), "uncovered": sum(v.uncovered for v in views)}
    return schemas.Coverage(
        line_id=line_id,
        date=d,
        shift=shift,
        shift_start=instance.start,
        shift_end=instance.end,
        as_of=as_of,
        roster_version=roster.version if roster else None,
        stations=views,
        totals=totals,
    )
