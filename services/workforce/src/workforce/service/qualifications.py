"""Command handlers for qualifications: grant, renew, revoke (expiry is announced by the sweeps)."""

from __future__ import annotations

from datetime import datetime

from mes_shared.commands import Outcome, UnitOfWork
from workforce.adapters.repository import Lines, Qualifications
from workforce.api import schemas
from workforce.domain import InvalidInput, Level, NotFound, Qualification, QualificationEvent, is_skill
from workforce.service import queries
from workforce.service.employees import load_employee
from workforce.service.policy import MAX_CLOCK_SKEW, utc_now
from workforce.service.wire import emit_qualification_events, qualification_history


async def require_station(uow: UnitOfWork, station: str) -> None:
    """A station must be one assembly-line configured (and still lists); a skill code needs no station."""
    if is_skill(station):
        return
    info = await Lines(uow.session).station(station)
    if info is None:
        raise InvalidInput(
            "station.unknown",
            f"station {station} is not known: no line configuration from assembly-line lists it "
            "(for work not tied to a station use a skill code 'skill:<code>')",
            stations=[station],
        )
    if not info.active:
        raise InvalidInput(
            "station.inactive",
            f"station {station} is no longer listed in the configuration of line {info.line_id}",
            stations=[station],
        )


async def _save(uow: UnitOfWork, q: Qualification, events: list[QualificationEvent], now: datetime) -> None:
    repo = Qualifications(uow.session)
    await repo.save(q, at=now, by=uow.principal.subject)
    await repo.record_history(qualification_history(events, by=uow.principal.subject))
    emit_qualification_events(uow, events)


async def _load(uow: UnitOfWork, employee_id: str, station: str) -> Qualification:
    q = await Qualifications(uow.session).get(employee_id, station, for_update=True)
    if q is None:
        raise NotFound("qualification.not-found", f"employee {employee_id} holds no qualification for {station}")
    return q


def _view(q: Qualification, now: datetime) -> schemas.QualificationView:
    return queries.qualification_view(q, now)


def _happened(stated: datetime | None, now: datetime, what: str) -> datetime:
    """When a change happened: the time stated (history, a late entry) or now; never ahead of the clock."""
    if stated is None:
        return now
    if stated > now + MAX_CLOCK_SKEW:
        raise InvalidInput(
            "qualification.at.in-future", f"{what} {stated.isoformat()} is in the future (now {now.isoformat()})"
        )
    return stated


async def grant(uow: UnitOfWork, employee_id: str, body: schemas.GrantIn) -> Outcome:
    employee = await load_employee(uow, employee_id)
    employee.require_not_left("granted a qualification")
    await require_station(uow, body.station)
    now = utc_now()
    at = _happened(body.granted_at, now, "granted_at")
    valid_from = body.valid_from or at
    existing = await Qualifications(uow.session).get(employee_id, body.station, for_update=True)
    if existing is None:
        q, events = Qualification.grant(
            employee_id=employee_id,
            station=body.station,
            level=Level(body.level),
            valid_from=valid_from,
            valid_until=body.valid_until,
            now=at,
        )
    else:
        q = existing
        events = q.grant_again(level=Level(body.level), valid_from=valid_from, valid_until=body.valid_until, now=at)
    events += q.expire(now)  # history that has already expired is announced as expired at once
    await _save(uow, q, events, now)
    return Outcome(201, _view(q, now))


async def renew(uow: UnitOfWork, employee_id: str, station: str, body: schemas.RenewIn) -> Outcome:
    employee = await load_employee(uow, employee_id)
    employee.require_not_left("granted a qualification")
    q = await _load(uow, employee_id, station)
    now = utc_now()
    at = _happened(body.renewed_at, now, "renewed_at")
    events = q.renew(level=Level(body.level) if body.level else q.level, valid_until=body.valid_until, now=at)
    if events:
        await _save(uow, q, events, now)
    return Outcome(200, _view(q, now))


async def revoke(uow: UnitOfWork, employee_id: str, station: str, body: schemas.RevokeIn) -> Outcome:
    await load_employee(uow, employee_id)
    q = await _load(uow, employee_id, station)
    now = utc_now()
    events = q.revoke(reason=body.reason, now=_happened(body.revoked_at, now, "revoked_at"))
    if events:
        await _save(uow, q, events, now)
    return Outcome(200, _view(q, now))
