"""Command handlers for badge scans at station terminals: clock-in and clock-out.

A scan counts once per terminal event id, whatever Idempotency-Key it comes with: the first result is
stored under (terminal, terminal_event_id) in the same transaction, and a resend gets it back with 200
and changes nothing. The same id with a different scan is refused.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from mes_shared.commands import Outcome, UnitOfWork
from workforce.adapters.repository import (
    Calendars,
    Employees,
    Lines,
    Presences,
    Qualifications,
    Rosters,
    StationInfo,
    TerminalEvents,
)
from workforce.api import schemas
from workforce.domain import (
    ClockDecision,
    ClockResult,
    Conflict,
    Employee,
    InvalidInput,
    Presence,
    ShiftInstance,
    clock_in,
    clock_out,
    require_active_then,
)
from workforce.service import queries
from workforce.service.policy import MAX_CLOCK_SKEW, Policy, utc_now
from workforce.service.wire import emit_presence_events


def _check_time(at: datetime, now: datetime, policy: Policy) -> None:
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput(
            "clock.at.in-future", f"the scan time {at.isoformat()} is in the future (now {now.isoformat()})"
        )
    if at < now - policy.terminal_max_delay:
        raise InvalidInput(
            "clock.at.too-late",
            f"the scan at {at.isoformat()} arrived more than {policy.terminal_max_delay} later, too late to be "
            "taken from a terminal",
        )


async def _replayed(uow: UnitOfWork, kind: str, body: schemas.ClockInIn | schemas.ClockOutIn) -> Outcome | None:
    request_hash = hashlib.sha256(f"{kind}\n{body.model_dump_json()}".encode()).hexdigest()
    stored = await TerminalEvents(uow.session).claim(
        terminal=uow.principal.subject, terminal_event_id=body.terminal_event_id, kind=kind, request_hash=request_hash
    )
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise InvalidInput(
            "clock.terminal-event-id.reused",
            f"terminal event {body.terminal_event_id} of {uow.principal.subject} was already used for a different "
            f"scan ({stored.kind}); every scan needs its own id",
        )
    return Outcome(200, stored.response)


async def _complete(uow: UnitOfWork, terminal_event_id: str, outcome: Outcome) -> Outcome:
    body = outcome.body.model_dump(mode="json")
    await TerminalEvents(uow.session).complete(
        terminal=uow.principal.subject,
        terminal_event_id=terminal_event_id,
        status_code=outcome.status_code,
        response=body,
    )
    return Outcome(outcome.status_code, body)


async def _employee_by_badge(uow: UnitOfWork, badge_id: str) -> Employee:
    employee = await Employees(uow.session).by_badge(badge_id, for_update=True)
    if employee is None:
        raise InvalidInput("badge.unknown", f"badge {badge_id} belongs to no employee")
    return employee


async def _shift(
    uow: UnitOfWork, employee: Employee, line_id: str, at: datetime, wanted: str | None, early: timedelta
) -> ShiftInstance:
    history = await Calendars(uow.session).history(line_id)
    if history.latest is None:
        raise Conflict("calendar.missing", f"line {line_id} has no calendar, so no shift to clock in for")
    if wanted is not None:
        found = [i for i in history.instances_around(at) if i.code == wanted and i.start - early <= at < i.end]
        if found:
            return found[0]
        raise Conflict(
            "clock-in.outside-shift",
            f"shift {wanted} of line {line_id} does not run at {at.isoformat()} (a scan counts from "
            f"{early} before a shift's start until its end)",
        )
    days = {i.shift_date for i in history.instances_around(at)}
    rostered = {
        (b.shift_date, b.shift)
        for b in await Rosters(uow.session).bookings([employee.employee_id], days)
        if b.line_id == line_id
    }
    instance = history.shift_for_clock_in(at, early=early, rostered=rostered)
    if instance is None:
        raise Conflict(
            "clock-in.outside-shift",
            f"no shift of line {line_id} runs at {at.isoformat()}; a scan counts from {early} before a shift's "
            "start until its end",
        )
    return instance


async def _persist(uow: UnitOfWork, decision: ClockDecision) -> None:
    presences = Presences(uow.session)
    terminal = uow.principal.subject
    if decision.closed is not None:
        await presences.save_closed(decision.closed, terminal=None if decision.closed.automatic else terminal)
    if decision.result is ClockResult.CLOCKED_IN:
        await presences.add(decision.presence, terminal=terminal)
    elif decision.result in (ClockResult.CLOCKED_OUT, ClockResult.CLOSED_AUTOMATICALLY) and decision.events:
        p = decision.presence
        await presences.save_closed(p, terminal=None if p.automatic else terminal)
    emit_presence_events(uow, decision.events)


async def _result(
    uow: UnitOfWork, employee: Employee, decision: ClockDecision, at: datetime
) -> schemas.ClockResultView:
    p: Presence = decision.presence
    q = await Qualifications(uow.session).get(employee.employee_id, p.station)
    qualification = (
        schemas.QualificationAtStation(level=q.level.value, valid_until=q.valid_until)
        if q is not None and q.is_valid_at(at)
        else None
    )
    return schemas.ClockResultView(
        result=decision.result.value,
        employee_id=employee.employee_id,
        name=employee.name,
        badge_id=employee.badge_id,
        station=p.station,
        line_id=p.line_id,
        shift_date=p.shift_date,
        shift=p.shift,
        shift_start=p.shift_start,
        shift_end=p.shift_end,
        clocked_in_at=p.clocked_in_at,
        clocked_out_at=p.clocked_out_at,
        qualification=qualification,
        closed_previous=queries.presence_view(decision.closed) if decision.closed else None,
    )


async def _require_active_station(uow: UnitOfWork, station_id: str) -> StationInfo:
    station = await Lines(uow.session).station(station_id)
    if station is None or not station.active:
        raise InvalidInput(
            "station.unknown", f"station {station_id} is not a configured station of any line", stations=[station_id]
        )
    return station


async def clock_in_scan(uow: UnitOfWork, body: schemas.ClockInIn, policy: Policy) -> Outcome:
    replay = await _replayed(uow, "clock-in", body)
    if replay is not None:
        return replay  # a resend is answered as it was first, however late it comes
    _check_time(body.at, utc_now(), policy)
    employee = await _employee_by_badge(uow, body.badge_id)
    station = await _require_active_station(uow, body.station)
    # Judged as of the scan, on its UTC date like assembly-line's sign-offs: a late scan of someone active
    # then is taken even if they have left since.
    then = await Employees(uow.session).status_on(employee.employee_id, body.at.astimezone(UTC).date())
    status, status_since = then if then is not None else (None, None)
    require_active_then(employee.employee_id, employee.badge_id, status, status_since)
    shift = await _shift(uow, employee, station.line_id, body.at, body.shift, policy.early)
    presences = Presences(uow.session)
    open_presence = await presences.open_for(employee.employee_id)
    last = await presences.last_closed(employee.employee_id)
    decision = clock_in(
        employee_id=employee.employee_id,
        badge_id=employee.badge_id,
        status=status,
        status_since=status_since,
        station=body.station,
        shift=shift,
        at=body.at,
        terminal_event_id=body.terminal_event_id,
        open_presence=open_presence,
        last_clock_out=last.clocked_out_at if last else None,
        grace=policy.grace,
    )
    await _persist(uow, decision)
    status = 201 if decision.result is ClockResult.CLOCKED_IN else 200
    return await _complete(
        uow, body.terminal_event_id, Outcome(status, await _result(uow, employee, decision, body.at))
    )


async def clock_out_scan(uow: UnitOfWork, body: schemas.ClockOutIn, policy: Policy) -> Outcome:
    replay = await _replayed(uow, "clock-out", body)
    if replay is not None:
        return replay  # a resend is answered as it was first, however late it comes
    _check_time(body.at, utc_now(), policy)
    employee = await _employee_by_badge(uow, body.badge_id)
    await _require_active_station(uow, body.station)
    presences = Presences(uow.session)
    decision = clock_out(
        employee_id=employee.employee_id,
        open_presence=await presences.open_for(employee.employee_id),
        last_closed=await presences.last_closed(employee.employee_id),
        at=body.at,
        terminal_event_id=body.terminal_event_id,
        grace=policy.grace,
    )
    await _persist(uow, decision)
    return await _complete(uow, body.terminal_event_id, Outcome(200, await _result(uow, employee, decision, body.at)))
