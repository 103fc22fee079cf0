"""Loads and saves workforce's aggregates. Writers lock what they change (SELECT ... FOR UPDATE).

Lock order, everywhere: line row, then employee rows (ascending id), then their qualifications and
presences. Every write that emits an event keyed by an employee holds that employee's row lock, so
the events of one employee reach the outbox in the order their transactions commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

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
    terminal_events,
)
from workforce.domain import (
    Assignment,
    BreakWindow,
    Calendar,
    CalendarHistory,
    CalendarVersion,
    ClockOutReason,
    Employee,
    EmployeeStatus,
    Level,
    Origin,
    Presence,
    Qualification,
    RecallGoal,
    Requirement,
    ShiftPattern,
)

# ---- employees ----------------------------------------------------------------------------------


def _employee(row: sa.Row[Any]) -> Employee:
    return Employee(
        employee_id=row.employee_id,
        badge_id=row.badge_id,
        name=row.name,
        origin=Origin(row.origin),
        status=EmployeeStatus(row.status),
        status_since=row.status_since,
    )


def _employee_values(e: Employee) -> dict[str, Any]:
    return {
        "employee_id": e.employee_id,
        "badge_id": e.badge_id,
        "name": e.name,
        "origin": e.origin.value,
        "status": e.status.value,
        "status_since": e.status_since,
    }


class Employees:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, employee_id: str, *, for_update: bool = False) -> Employee | None:
        query = sa.select(employees).where(employees.c.employee_id == employee_id)
        row = (await self._s.execute(query.with_for_update() if for_update else query)).one_or_none()
        return _employee(row) if row else None

    async def by_badge(self, badge_id: str, *, for_update: bool = False) -> Employee | None:
        query = sa.select(employees).where(employees.c.badge_id == badge_id)
        row = (await self._s.execute(query.with_for_update() if for_update else query)).one_or_none()
        return _employee(row) if row else None

    async def load_many(self, ids: Iterable[str], *, for_update: bool = False) -> dict[str, Employee]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = sa.select(employees).where(employees.c.employee_id.in_(wanted)).order_by(employees.c.employee_id)
        rows = await self._s.execute(query.with_for_update() if for_update else query)
        return {row.employee_id: _employee(row) for row in rows}

    async def badge_owners(self, badges: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(badges))
        if not wanted:
            return {}
        rows = await self._s.execute(
            sa.select(employees.c.badge_id, employees.c.employee_id).where(employees.c.badge_id.in_(wanted))
        )
        return {row.badge_id: row.employee_id for row in rows}

    async def add_many(self, added: Iterable[Employee], *, at: datetime) -> None:
        rows = [_employee_values(e) | {"created_at": at, "updated_at": at} for e in added]
        if rows:
            await self._s.execute(sa.insert(employees), rows)

    async def save_many(self, changed: Iterable[Employee], *, at: datetime) -> None:
        for e in changed:
            values = _employee_values(e)
            await self._s.execute(
                sa.update(employees)
                .where(employees.c.employee_id == values.pop("employee_id"))
                .values(**values, updated_at=at)
            )

    async def record_status(self, entries: list[Mapping[str, Any]]) -> None:
        if entries:
            await self._s.execute(sa.insert(employee_status_history), entries)

    async def status_on(self, employee_id: str, day: date) -> tuple[EmployeeStatus, date] | None:
        """The status in effect on `day` and since when; None before the first recorded status."""
        h = employee_status_history
        row = (
            await self._s.execute(
                sa.select(h.c.to_status, h.c.effective_date)
                .where(h.c.employee_id == employee_id, h.c.effective_date <= day)
                .order_by(h.c.effective_date.desc(), h.c.id.desc())
                .limit(1)
            )
        ).one_or_none()
        return (EmployeeStatus(row.to_status), row.effective_date) if row else None


# ---- recall -------------------------------------------------------------------------------------


def _goal(row: sa.Row[Any]) -> RecallGoal:
    return RecallGoal(
        goal_id=row.goal_id, target_count=row.target_count, by_date=row.by_date, set_on=row.set_on, note=row.note
    )


class Recall:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def lock(self) -> None:
        """Recall goals are keyed 'recall' on the topic: one writer at a time keeps them in order."""
        await self._s.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("workforce.recall-goals"))))

    async def goal(self, goal_id: str) -> RecallGoal | None:
        row = (await self._s.execute(sa.select(recall_goals).where(recall_goals.c.goal_id == goal_id))).one_or_none()
        return _goal(row) if row else None

    async def current_goal(self) -> RecallGoal | None:
        row = (
            await self._s.execute(
                sa.select(recall_goals).order_by(recall_goals.c.set_at.desc(), recall_goals.c.goal_id.desc()).limit(1)
            )
        ).one_or_none()
        return _goal(row) if row else None

    async def add_goal(self, goal: RecallGoal, *, at: datetime, by: str) -> None:
        await self._s.execute(
            sa.insert(recall_goals).values(
                goal_id=goal.goal_id,
                target_count=goal.target_count,
                by_date=goal.by_date,
                set_on=goal.set_on,
                note=goal.note,
                set_at=at,
                set_by=by,
            )
        )

    async def add_recall(self, *, employee_id: str, on: date, goal_id: str | None, at: datetime, by: str) -> None:
        await self._s.execute(
            sa.insert(recalls).values(
                employee_id=employee_id, recalled_on=on, goal_id=goal_id, recorded_at=at, recorded_by=by
            )
        )


# ---- qualifications -----------------------------------------------------------------------------


def qualification_of(row: sa.Row[Any]) -> Qualification:
    return Qualification(
        employee_id=row.employee_id,
        station=row.station,
        level=Level(row.level),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
        expiry_announced_for=row.expiry_announced_for,
    )


class Qualifications:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, employee_id: str, station: str, *, for_update: bool = False) -> Qualification | None:
        query = sa.select(qualifications).where(
            qualifications.c.employee_id == employee_id, qualifications.c.station == station
        )
        row = (await self._s.execute(query.with_for_update() if for_update else query)).one_or_none()
        return qualification_of(row) if row else None

    async def of_pairs(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], Qualification]:
        if not pairs:
            return {}
        key = sa.tuple_(qualifications.c.employee_id, qualifications.c.station)
        rows = await self._s.execute(sa.select(qualifications).where(key.in_(sorted(set(pairs)))))
        return {(row.employee_id, row.station): qualification_of(row) for row in rows}

    async def save(self, q: Qualification, *, at: datetime, by: str) -> None:
        values = {
            "level": q.level.value,
            "valid_from": q.valid_from,
            "valid_until": q.valid_until,
            "revoked_at": q.revoked_at,
            "revoke_reason": q.revoke_reason,
            "expiry_announced_for": q.expiry_announced_for,
            "updated_at": at,
            "updated_by": by,
        }
        await self._s.execute(
            insert(qualifications)
            .values(employee_id=q.employee_id, station=q.station, **values)
            .on_conflict_do_update(index_elements=["employee_id", "station"], set_=values)
        )

    async def record_history(self, entries: list[Mapping[str, Any]]) -> None:
        if entries:
            await self._s.execute(sa.insert(qualification_history), entries)


# ---- lines and stations (read model of assembly-line's configuration) ---------------------------


@dataclass(frozen=True, slots=True)
class StationInfo:
    station_id: str
    line_id: str
    name: str
    position: int
    active: bool


def _station(row: sa.Row[Any]) -> StationInfo:
    return StationInfo(row.station_id, row.line_id, row.name, row.position, row.active)


class Lines:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def lock(self, line_id: str) -> bool:
        """Lock a known line (calendar and roster events are keyed by line); False when it is unknown."""
        found = await self._s.scalar(sa.select(lines.c.line_id).where(lines.c.line_id == line_id).with_for_update())
        return found is not None

    async def exists(self, line_id: str) -> bool:
        return await self._s.scalar(sa.select(lines.c.line_id).where(lines.c.line_id == line_id)) is not None

    async def station(self, station_id: str) -> StationInfo | None:
        row = (await self._s.execute(sa.select(stations).where(stations.c.station_id == station_id))).one_or_none()
        return _station(row) if row else None

    async def stations(self, ids: Iterable[str]) -> dict[str, StationInfo]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await self._s.execute(sa.select(stations).where(stations.c.station_id.in_(wanted)))
        return {row.station_id: _station(row) for row in rows}

    async def stations_of(self, line_id: str) -> list[StationInfo]:
        rows = await self._s.execute(
            sa.select(stations)
            .where(stations.c.line_id == line_id)
            .order_by(stations.c.active.desc(), stations.c.position, stations.c.station_id)
        )
        return [_station(row) for row in rows]

    async def apply_configuration(
        self, *, line_id: str, name: str, stations_in_order: list[tuple[str, str, int]], at: datetime
    ) -> bool:
        """Make the read model say what the line's configuration at `at` says; False when `at` is older
        than what is already applied (a replayed or late event never rolls the model back)."""
        current = await self._s.scalar(
            sa.select(lines.c.configured_at).where(lines.c.line_id == line_id).with_for_update()
        )
        if current is not None and current > at:
            return False
        now = sa.func.now()
        values = {"name": name, "configured_at": at, "updated_at": now}
        await self._s.execute(
            insert(lines)
            .values(line_id=line_id, **values)
            .on_conflict_do_update(index_elements=["line_id"], set_=values)
        )
        listed = {station_id: (station_name, position) for station_id, station_name, position in stations_in_order}
        if listed:
            rows = [
                {
                    "station_id": station_id,
                    "line_id": line_id,
                    "name": station_name,
                    "position": position,
                    "active": True,
                    "updated_at": now,
                }
                for station_id, (station_name, position) in listed.items()
            ]
            stmt = insert(stations).values(rows)
            await self._s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["station_id"],
                    set_={c: stmt.excluded[c] for c in ("line_id", "name", "position", "active", "updated_at")},
                )
            )
        await self._s.execute(
            sa.update(stations)
            .where(stations.c.line_id == line_id, stations.c.station_id.not_in(list(listed)))
            .values(active=False, updated_at=now)
        )
        return True


# ---- calendars ----------------------------------------------------------------------------------


def _hm(t: time) -> str:
    return t.strftime("%H:%M")


def shifts_json(shifts: Iterable[ShiftPattern]) -> list[dict[str, Any]]:
    return [
        {
            "code": s.code,
            "start": _hm(s.start),
            "end": _hm(s.end),
            "breaks": [{"start": _hm(b.start), "end": _hm(b.end)} for b in s.breaks],
        }
        for s in shifts
    ]


def _shifts(raw: list[dict[str, Any]]) -> tuple[ShiftPattern, ...]:
    return tuple(
        ShiftPattern(
            code=s["code"],
            start=time.fromisoformat(s["start"]),
            end=time.fromisoformat(s["end"]),
            breaks=tuple(
                BreakWindow(time.fromisoformat(b["start"]), time.fromisoformat(b["end"])) for b in s["breaks"]
            ),
        )
        for s in raw
    )


def calendar_of(row: sa.Row[Any]) -> Calendar:
    return Calendar(
        line_id=row.line_id,
        time_zone=row.time_zone,
        valid_from=row.valid_from,
        working_days=frozenset(row.working_days),
        holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
        shifts=_shifts(row.shifts),
    )


class Calendars:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def history(self, line_id: str) -> CalendarHistory:
        rows = await self._s.execute(
            sa.select(calendars).where(calendars.c.line_id == line_id).order_by(calendars.c.version)
        )
        return CalendarHistory(line_id, tuple(CalendarVersion(row.version, calendar_of(row)) for row in rows))

    async def add(self, version: int, calendar: Calendar, *, at: datetime, by: str) -> None:
        await self._s.execute(
            sa.insert(calendars).values(
                line_id=calendar.line_id,
                version=version,
                time_zone=calendar.time_zone,
                valid_from=calendar.valid_from,
                working_days=sorted(calendar.working_days),
                holidays=[d.isoformat() for d in sorted(calendar.holidays)],
                shifts=shifts_json(calendar.shifts),
                published_at=at,
                published_by=by,
            )
        )


# ---- rosters ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRoster:
    line_id: str
    shift_date: date
    shift: str
    version: int
    assignments: tuple[Assignment, ...]
    required: tuple[Requirement, ...]


@dataclass(frozen=True, slots=True)
class RosterBooking:
    employee_id: str
    line_id: str
    shift_date: date
    shift: str
    station: str


class Rosters:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, line_id: str, shift_date: date, shift: str) -> StoredRoster | None:
        key = (rosters.c.line_id == line_id, rosters.c.shift_date == shift_date, rosters.c.shift == shift)
        row = (await self._s.execute(sa.select(rosters).where(*key))).one_or_none()
        if row is None:
            return None
        assigned = await self._s.execute(
            sa.select(roster_assignments.c.employee_id, roster_assignments.c.station).where(
                roster_assignments.c.line_id == line_id,
                roster_assignments.c.shift_date == shift_date,
                roster_assignments.c.shift == shift,
            )
        )
        return StoredRoster(
            line_id=line_id,
            shift_date=shift_date,
            shift=shift,
            version=row.version,
            assignments=tuple(sorted(Assignment(a.employee_id, a.station) for a in assigned)),
            required=tuple(sorted(Requirement(r["station"], r["headcount"]) for r in row.required)),
        )

    async def bookings(self, employee_ids: Collection[str], dates: Collection[date]) -> list[RosterBooking]:
        """Where the employees are rostered on the given dates (on any line)."""
        if not employee_ids or not dates:
            return []
        rows = await self._s.execute(
            sa.select(roster_assignments).where(
                roster_assignments.c.employee_id.in_(sorted(set(employee_ids))),
                roster_assignments.c.shift_date.in_(sorted(set(dates))),
            )
        )
        return [RosterBooking(r.employee_id, r.line_id, r.shift_date, r.shift, r.station) for r in rows]

    async def save(
        self,
        *,
        line_id: str,
        shift_date: date,
        shift: str,
        shift_start: datetime,
        shift_end: datetime,
        version: int,
        assignments: Iterable[Assignment],
        required: Iterable[Requirement],
        unqualified: Iterable[Assignment],
        at: datetime,
        by: str,
    ) -> None:
        values = {
            "shift_start": shift_start,
            "shift_end": shift_end,
            "required": [{"station": r.station, "headcount": r.headcount} for r in sorted(required)],
            "unqualified": [{"employee_id": a.employee_id, "station": a.station} for a in sorted(unqualified)],
            "version": version,
            "published_at": at,
            "published_by": by,
        }
        await self._s.execute(
            insert(rosters)
            .values(line_id=line_id, shift_date=shift_date, shift=shift, **values)
            .on_conflict_do_update(index_elements=["line_id", "shift_date", "shift"], set_=values)
        )
        await self._s.execute(
            sa.delete(roster_assignments).where(
                roster_assignments.c.line_id == line_id,
                roster_assignments.c.shift_date == shift_date,
                roster_assignments.c.shift == shift,
            )
        )
        rows = [
            {
                "line_id": line_id,
                "shift_date": shift_date,
                "shift": shift,
                "employee_id": a.employee_id,
                "station": a.station,
            }
            for a in assignments
        ]
        if rows:
            await self._s.execute(sa.insert(roster_assignments), rows)


# ---- presences and terminal events --------------------------------------------------------------


def presence_of(row: sa.Row[Any]) -> Presence:
    return Presence(
        id=row.id,
        employee_id=row.employee_id,
        badge_id=row.badge_id,
        station=row.station,
        line_id=row.line_id,
        shift_date=row.shift_date,
        shift=row.shift,
        shift_start=row.shift_start,
        shift_end=row.shift_end,
        clocked_in_at=row.clocked_in_at,
        in_terminal_event_id=row.in_terminal_event_id,
        clocked_out_at=row.clocked_out_at,
        out_terminal_event_id=row.out_terminal_event_id,
        automatic=row.automatic,
        out_reason=ClockOutReason(row.out_reason) if row.out_reason else None,
    )


class Presences:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def open_for(self, employee_id: str) -> Presence | None:
        row = (
            await self._s.execute(
                sa.select(presences)
                .where(presences.c.employee_id == employee_id, presences.c.clocked_out_at.is_(None))
                .with_for_update()
            )
        ).one_or_none()
        return presence_of(row) if row else None

    async def last_closed(self, employee_id: str) -> Presence | None:
        row = (
            await self._s.execute(
                sa.select(presences)
                .where(presences.c.employee_id == employee_id, presences.c.clocked_out_at.is_not(None))
                .order_by(presences.c.clocked_out_at.desc(), presences.c.id.desc())
                .limit(1)
            )
        ).one_or_none()
        return presence_of(row) if row else None

    async def add(self, p: Presence, *, terminal: str) -> int:
        new_id = await self._s.scalar(
            sa.insert(presences)
            .values(
                employee_id=p.employee_id,
                badge_id=p.badge_id,
                station=p.station,
                line_id=p.line_id,
                shift_date=p.shift_date,
                shift=p.shift,
                shift_start=p.shift_start,
                shift_end=p.shift_end,
                clocked_in_at=p.clocked_in_at,
                in_terminal=terminal,
                in_terminal_event_id=p.in_terminal_event_id,
                automatic=False,
            )
            .returning(presences.c.id)
        )
        assert new_id is not None
        p.id = new_id
        return new_id

    async def save_closed(self, p: Presence, *, terminal: str | None) -> None:
        assert p.id is not None and p.clocked_out_at is not None
        await self._s.execute(
            sa.update(presences)
            .where(presences.c.id == p.id)
            .values(
                clocked_out_at=p.clocked_out_at,
                out_terminal=terminal,
                out_terminal_event_id=p.out_terminal_event_id,
                automatic=p.automatic,
                out_reason=p.out_reason.value if p.out_reason else None,
            )
        )


@dataclass(frozen=True, slots=True)
class StoredScan:
    kind: str
    request_hash: str
    status_code: int
    response: Any


class TerminalEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, *, terminal: str, terminal_event_id: str, kind: str, request_hash: str) -> StoredScan | None:
        """Claim the terminal's event id for this scan; the earlier scan when it was already applied.

        A concurrent claim of the same id waits for the first transaction and then sees its result.
        """
        claimed = await self._s.scalar(
            insert(terminal_events)
            .values(
                terminal=terminal,
                terminal_event_id=terminal_event_id,
                kind=kind,
                request_hash=request_hash,
                status_code=0,
                response={},
                recorded_at=sa.func.now(),
            )
            .on_conflict_do_nothing()
            .returning(terminal_events.c.terminal_event_id)
        )
        if claimed is not None:
            return None
        row = (
            await self._s.execute(
                sa.select(terminal_events).where(
                    terminal_events.c.terminal == terminal, terminal_events.c.terminal_event_id == terminal_event_id
                )
            )
        ).one()
        return StoredScan(row.kind, row.request_hash, row.status_code, row.response)

    async def complete(self, *, terminal: str, terminal_event_id: str, status_code: int, response: Any) -> None:
        await self._s.execute(
            sa.update(terminal_events)
            .where(terminal_events.c.terminal == terminal, terminal_events.c.terminal_event_id == terminal_event_id)
            .values(status_code=status_code, response=response)
        )
