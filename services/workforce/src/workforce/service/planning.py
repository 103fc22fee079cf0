"""Command handlers for the plant calendar of a line and its rosters (both keyed by line on the topic)."""

from __future__ import annotations

from datetime import date, timedelta

from mes_shared.commands import Outcome, UnitOfWork
from mes_shared.events import people as contracts
from workforce.adapters.repository import Calendars, Employees, Lines, Qualifications, Rosters
from workforce.api import schemas
from workforce.domain import (
    Assignment,
    Booking,
    BreakWindow,
    Calendar,
    CalendarHistory,
    Conflict,
    InvalidInput,
    NotFound,
    Requirement,
    ShiftPattern,
    plan_roster,
)
from workforce.service import queries
from workforce.service.policy import Policy, utc_now


async def lock_line(uow: UnitOfWork, line_id: str) -> None:
    if not await Lines(uow.session).lock(line_id):
        raise NotFound(
            "line.unknown", f"line {line_id} is not known: no line configuration from assembly-line names it"
        )


def _calendar(line_id: str, body: schemas.CalendarIn) -> Calendar:
    return Calendar.define(
        line_id=line_id,
        time_zone=body.time_zone,
        valid_from=body.valid_from,
        working_days=body.working_days,
        holidays=body.holidays,
        shifts=[
            ShiftPattern(s.code, s.start, s.end, tuple(BreakWindow(b.start, b.end) for b in s.breaks))
            for s in body.shifts
        ],
    )


def _calendar_event(version: int, c: Calendar) -> contracts.CalendarPublished:
    return contracts.CalendarPublished(
        line_id=c.line_id,
        version=version,
        time_zone=c.time_zone,
        valid_from=c.valid_from,
        working_days=sorted(c.working_days),
        holidays=sorted(c.holidays),
        shifts=[
            contracts.ShiftDefinition(
                code=s.code,
                start=s.start,
                end=s.end,
                breaks=[contracts.BreakWindow(start=b.start, end=b.end) for b in s.breaks],
            )
            for s in c.shifts
        ],
    )


async def publish_calendar(uow: UnitOfWork, line_id: str, body: schemas.CalendarIn) -> Outcome:
    """A new calendar version for the line; the same calendar again changes nothing."""
    await lock_line(uow, line_id)
    calendar = _calendar(line_id, body)
    repo = Calendars(uow.session)
    latest = (await repo.history(line_id)).latest
    if latest is not None and latest.calendar.content() == calendar.content():
        return Outcome(200, await queries.calendar_view(uow.session, line_id, latest.version))
    now = utc_now()
    today = now.astimezone(calendar.tz).date()
    if latest is not None and calendar.valid_from < today:
        raise InvalidInput(
            "calendar.valid-from.past",
            f"a new calendar version applies from today ({today}) or later, not from {calendar.valid_from}: "
            "planned time already counted stays as it was",
        )
    version = latest.version + 1 if latest else 1
    await repo.add(version, calendar, at=now, by=uow.principal.subject)
    uow.emit(_calendar_event(version, calendar), subject=line_id, time=now)
    return Outcome(201, await queries.calendar_view(uow.session, line_id, version))


async def _bookings(uow: UnitOfWork, employee_ids: list[str], shift_date: date, line_id: str) -> list[Booking]:
    """Where the employees are rostered on other lines around the date, with those shifts' windows."""
    days = [shift_date + timedelta(days=n) for n in (-1, 0, 1)]
    found = [b for b in await Rosters(uow.session).bookings(employee_ids, days) if b.line_id != line_id]
    histories: dict[str, CalendarHistory] = {}
    bookings = []
    for b in found:
        if b.line_id not in histories:
            histories[b.line_id] = await Calendars(uow.session).history(b.line_id)
        instance = histories[b.line_id].instance(b.shift_date, b.shift)
        if instance is not None:
            bookings.append(Booking(b.employee_id, b.line_id, instance))
    return bookings


async def publish_roster(
    uow: UnitOfWork, line_id: str, shift_date: date, shift: str, body: schemas.RosterIn, policy: Policy
) -> Outcome:
    """Who works which station on a date and shift; the same roster again changes nothing."""
    await lock_line(uow, line_id)
    history = await Calendars(uow.session).history(line_id)
    if history.latest is None:
        raise Conflict("calendar.missing", f"line {line_id} has no calendar yet; publish one first")
    instance = history.instance(shift_date, shift)
    assignments = [Assignment(a.employee_id, a.station) for a in body.assignments]
    required = [Requirement(r.station, r.headcount) for r in body.required]
    lines = Lines(uow.session)
    named = {a.station for a in assignments} | {r.station for r in required}
    known = {s.station_id: s for s in (await lines.stations(named)).values() if s.active}
    line_stations = {s for s, info in known.items() if info.line_id == line_id}
    employee_ids = sorted({a.employee_id for a in assignments})
    statuses = {e.employee_id: e.status for e in (await Employees(uow.session).load_many(employee_ids)).values()}
    now = utc_now()
    qualified: set[Assignment] = set()
    if instance is not None:
        # Qualified for what is left of the shift: all of it, unless it is already under way.
        start = max(instance.start, now) if now < instance.end else instance.start
        held = await Qualifications(uow.session).of_pairs({(a.employee_id, a.station) for a in assignments})
        qualified = {
            a
            for a in assignments
            if (q := held.get((a.employee_id, a.station))) is not None and q.is_valid_throughout(start, instance.end)
        }
    roster = plan_roster(
        line_id=line_id,
        shift=instance,
        date_and_code=f"{shift} on {shift_date}",
        assignments=assignments,
        required=required,
        line_stations=line_stations,
        known_stations=known.keys(),
        employees=statuses,
        qualified=qualified,
        bookings=await _bookings(uow, employee_ids, shift_date, line_id) if instance else [],
        policy=policy.roster_unqualified,
    )
    repo = Rosters(uow.session)
    stored = await repo.get(line_id, shift_date, shift)
    if stored is not None and (stored.assignments, stored.required) == (
        tuple(sorted(roster.assignments)),
        tuple(sorted(roster.required)),
    ):
        return Outcome(200, await queries.roster_view(uow.session, line_id, shift_date, shift))
    await repo.save(
        line_id=line_id,
        shift_date=shift_date,
        shift=shift,
        shift_start=roster.shift.start,
        shift_end=roster.shift.end,
        version=stored.version + 1 if stored else 1,
        assignments=roster.assignments,
        required=roster.required,
        unqualified=roster.unqualified,
        at=now,
        by=uow.principal.subject,
    )
    uow.emit(
        contracts.RosterPublished(
            line_id=line_id,
            date=shift_date,
            shift=shift,
            assignments=[
                contracts.StationAssignment(employee_id=a.employee_id, station=a.station)
                for a in sorted(roster.assignments)
            ],
            required=[
                contracts.StationRequirement(station=r.station, headcount=r.headcount) for r in sorted(roster.required)
            ],
            unqualified_assignments=[
                contracts.StationAssignment(employee_id=a.employee_id, station=a.station) for a in roster.unqualified
            ],
        ),
        subject=line_id,
        time=now,
    )
    return Outcome(200 if stored else 201, await queries.roster_view(uow.session, line_id, shift_date, shift))
