"""What every query needs: one consistent snapshot of the active projection schema, the reference instant,
and each line's calendar and plan (loaded once per request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from reporting.adapters.tables import targets, wip_ramps
from reporting.api.definitions import PLANNED_NOW
from reporting.domain.calendar import BreakWindow, CalendarVersion, LineCalendar, ShiftDefinition
from reporting.domain.errors import InvalidInput, NotFound
from reporting.domain.targets import AnnualTarget, Plan, RampPoint
from reporting.projections import store
from reporting.projections.tables import andons, calendars, lines, vehicles


class ProjectionsUnavailable(Exception):
    """No projection schema is active yet (the service has not finished starting)."""


def _time(value: str) -> time:
    return time.fromisoformat(value)


def calendar_version(row: Any) -> CalendarVersion:
    return CalendarVersion(
        line_id=row.line_id,
        version=row.version,
        time_zone=row.time_zone,
        valid_from=row.valid_from,
        working_days=frozenset(int(d) for d in row.working_days),
        holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
        shifts=tuple(
            ShiftDefinition(
                code=s["code"],
                start=_time(s["start"]),
                end=_time(s["end"]),
                breaks=tuple(BreakWindow(_time(b["start"]), _time(b["end"])) for b in s.get("breaks", [])),
            )
            for s in row.shifts
        ),
    )


def planned_now(view: str, *, asked: bool) -> list[str]:
    return list(PLANNED_NOW[view]) if asked else []


@dataclass
class Reader:
    conn: AsyncConnection
    default_zone: str
    at: datetime
    generation: int
    asked_at: bool = False  # `at` was given: the view is asked as of an instant, not now
    _calendars: dict[str, LineCalendar] = field(default_factory=dict)
    _plans: dict[str, Plan] = field(default_factory=dict)

    def planned_now(self, view: str) -> list[str]:
        """The figures of `view` read from a plan as set now, named in its answer when it is asked as of `at`."""
        return planned_now(view, asked=self.asked_at)

    async def rows(self, query: sa.Executable, **params: Any) -> list[Any]:
        return list((await self.conn.execute(query, params)).all())

    async def calendar(self, line_id: str | None) -> LineCalendar:
        key = line_id or ""
        if key not in self._calendars:
            versions = []
            if line_id is not None:
                found = await self.rows(sa.select(calendars).where(calendars.c.line_id == line_id))
                versions = [calendar_version(r) for r in found]
            self._calendars[key] = LineCalendar(key, versions, self.default_zone)
        return self._calendars[key]

    async def plant_calendar(self) -> LineCalendar:
        """The calendar for plant-wide views: the only line's when there is one line with a calendar,
        else the plant's default time zone without working time."""
        with_calendar = sorted(r[0] for r in await self.rows(sa.select(calendars.c.line_id).distinct()))
        return await self.calendar(with_calendar[0] if len(with_calendar) == 1 else None)

    async def plan(self, line_id: str) -> Plan:
        if line_id not in self._plans:
            found = await self.rows(sa.select(targets).where(targets.c.line_id == line_id))
            annual = [
                AnnualTarget(line_id, r.year, r.annual, {int(m): int(n) for m, n in r.monthly.items()}) for r in found
            ]
            self._plans[line_id] = Plan(await self.calendar(line_id), annual)
        return self._plans[line_id]

    async def ramp(self, line_id: str) -> tuple[RampPoint, ...]:
        row = (await self.conn.execute(sa.select(wip_ramps).where(wip_ramps.c.line_id == line_id))).one_or_none()
        if row is None:
            return ()
        return tuple(RampPoint(date.fromisoformat(p["date"]), int(p["wip"])) for p in row.points)

    async def known_lines(self) -> list[str]:
        union = sa.union(
            sa.select(lines.c.line_id),
            sa.select(calendars.c.line_id),
            sa.select(vehicles.c.line_id).where(vehicles.c.line_id.is_not(None)).distinct(),
            sa.select(andons.c.line_id).distinct(),
            sa.select(targets.c.line_id),
            sa.select(wip_ramps.c.line_id),
        ).subquery()
        return sorted(r[0] for r in await self.rows(sa.select(union.c.line_id)))

    async def line(self, line_id: str | None, *, required: bool) -> str | None:
        """The line a query is about: the one asked for (404 if nothing is known of it); without one, the
        only line there is when `required`, else every line (None)."""
        if line_id is not None:
            if line_id not in await self.known_lines():
                raise NotFound("line.unknown", f"nothing is known about line {line_id}: no events, calendar or target")
            return line_id
        if not required:
            return None
        known = await self.known_lines()
        if len(known) == 1:
            return known[0]
        if not known:
            raise NotFound("line.none", "no line is known yet: no line, calendar, target or truck event was received")
        raise InvalidInput("line.required", f"several lines are known ({', '.join(known)}): choose one with ?line=")


@asynccontextmanager
async def reading(engine: AsyncEngine, *, default_zone: str, at: datetime | None = None) -> AsyncIterator[Reader]:
    """A read-only REPEATABLE READ transaction on the active projection schema: every figure of a view
    comes from the same snapshot, even while a batch commits or a rebuild swaps."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        async with conn.begin():
            pointer = await store.read_pointer(conn)
            if pointer is None:
                raise ProjectionsUnavailable("no projection schema is active yet")
            await store.use_schema(conn, pointer.schema)
            yield Reader(
                conn,
                default_zone,
                (at or datetime.now(UTC)).astimezone(UTC),
                pointer.generation,
                asked_at=at is not None,
            )
