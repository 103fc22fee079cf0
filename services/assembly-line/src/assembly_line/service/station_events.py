"""Station events from line terminals: the hot path of the whole system.

One event is one transaction: claim (terminal, terminal_event_id) in the event log, judge the operator
from the workforce read model, lock the truck's row (the only lock), apply the pure domain rule, save the
truck, append the outbox, store the answer. A resend of the same event finds its claim and gets the first
answer; the same id with other content is refused. A refused event rolls back entirely and leaves no
trace, so the terminal may send it again once the reason is gone (a clock-in that had not arrived yet).

The transaction runs on the asyncpg connection of a pooled connection (adapters/hotpath.py): a claim, the
operator's facts, the truck's lock, one statement writing everything, each prepared once per connection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from assembly_line.adapters.hotpath import Answer, HotPath
from assembly_line.api import schemas as s
from assembly_line.domain import (
    Conflict,
    InvalidInput,
    NotFound,
    Occurrence,
    StationFact,
    Vehicle,
    VehicleEvent,
    VehicleStatus,
    authorize_sign_off,
    clear_andon,
    raise_andon,
    require_plausible_time,
)
from assembly_line.domain import events as de
from assembly_line.service import wire
from assembly_line.service.handlers import history_entry
from mes_shared.auth import Principal
from mes_shared.correlation import correlation_id_var
from mes_shared.envelope import Envelope, EventData

# Events whose operator signs off work: the badge is required, clocked in at the station and qualified there
# at the event's time. Arrival, defect found and andons may name a badge; it is then resolved if it can be.
SIGN_OFF = frozenset({"work_started", "work_completed", "defect_repaired", "component_fitted", "check_recorded"})
ANDON = frozenset({"andon_raised", "andon_cleared"})


@dataclass(frozen=True)
class Recorded:
    status_code: int
    body: dict[str, Any]
    replayed: bool


@dataclass
class _Work:
    """One event's unit of work: the data access, who sent it, and the envelopes it produced."""

    db: HotPath
    principal: Principal
    source: str
    now: datetime
    envelopes: list[Envelope] = field(default_factory=list)

    def emit(self, data: EventData, *, subject: str, time: datetime) -> None:
        self.envelopes.append(
            Envelope.wrap(data, source=self.source, subject=subject, time=time, correlation_id=correlation_id_var.get())
        )


def request_hash(station: str, event: s.StationEventIn) -> str:
    """What makes two sends the same event: its content, with the time as a UTC instant."""
    data = event.model_dump(mode="json")
    data["occurred_at"] = event.occurred_at.astimezone(UTC).isoformat()
    raw = station + "\n" + json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


@asynccontextmanager
async def terminal_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection's asyncpg connection, for one event or a whole backlog (each event is still
    its own transaction)."""
    async with engine.connect() as pooled:
        conn = (await pooled.get_raw_connection()).driver_connection
        assert conn is not None
        yield conn


async def record_event(
    conn: asyncpg.Connection, *, principal: Principal, station: str, event: s.StationEventIn, source: str
) -> Recorded:
    """Accept or refuse one station event in its own transaction (raises a DomainError when refused;
    nothing is written then)."""
    now = datetime.now(UTC)
    fingerprint = request_hash(station, event)
    async with conn.transaction():
        work = _Work(HotPath(conn), principal, source, now)
        claimed = await work.db.claim(
            terminal=principal.subject,
            terminal_event_id=event.terminal_event_id,
            request_hash=fingerprint,
            station=station,
            kind=event.type,
            vin=getattr(event, "vin", None),
            occurred_at=event.occurred_at,
            received_at=now,
            payload=event.model_dump(mode="json"),
        )
        if not claimed:
            return await _replay(work, station, event, fingerprint)
        body = await _apply(work, station, event)
        return Recorded(201, body, False)


async def _replay(work: _Work, station: str, event: s.StationEventIn, fingerprint: str) -> Recorded:
    stored = await work.db.stored(work.principal.subject, event.terminal_event_id)
    if stored is None:
        raise NotFound("station.not-found", f"station {station} is not on any line", station=station)
    if stored["request_hash"] != fingerprint:
        raise InvalidInput(
            "station-event.id-reused",
            f"terminal event id {event.terminal_event_id!r} was already used by {work.principal.subject} for a "
            f"different event (received {stored['received_at'].isoformat()}); a new event needs a new id",
            terminal_event_id=event.terminal_event_id,
        )
    return Recorded(stored["status_code"], stored["response"], True)


def _answer(work: _Work, event: s.StationEventIn, result: s.StationEventResult) -> tuple[Answer, dict[str, Any]]:
    body = result.model_dump(mode="json")
    answer = Answer(work.principal.subject, event.terminal_event_id, 201, json.dumps(body), result.operator_id)
    return answer, body


async def _apply(work: _Work, station: str, event: s.StationEventIn) -> dict[str, Any]:
    """Judge and record a claimed event; the answer's body."""
    require_plausible_time(event.occurred_at, work.now)
    operator_id = await _operator(work, station, event)
    if event.type in ANDON:
        return await _andon(work, station, event, operator_id)
    return await _truck(work, station, event, operator_id)


async def _operator(work: _Work, station: str, event: s.StationEventIn) -> str | None:
    badge = getattr(event, "operator_badge", None)
    if badge is None:
        return None  # the schema requires a badge for every sign-off
    facts = await work.db.operator_facts(badge=badge, station=station, at=event.occurred_at)
    if event.type in SIGN_OFF:
        return authorize_sign_off(badge=badge, station=station, at=event.occurred_at, facts=facts)
    return facts.clock_in.employee_id if facts.clock_in else None


async def _truck(work: _Work, station: str, event: s.StationEventIn, operator_id: str | None) -> dict[str, Any]:
    vin: str = getattr(event, "vin")  # noqa: B009 - every truck event has one (checked by the schema)
    vehicle = await work.db.vehicle_for_update(vin)
    if vehicle is None:
        raise Conflict(
            "vehicle.no-build-order", f"VIN {vin} has no build order; a supervisor creates it first", vin=vin
        )
    occ = Occurrence(station, event.occurred_at, event.terminal_event_id, operator_id)
    events = await _decide(work, vehicle, occ, event)
    history = []
    for e in events:
        data = wire.to_wire(e)
        work.emit(data, subject=vehicle.vin, time=e.at)
        if not isinstance(e, StationFact):
            history.append(history_entry(e, data, work.principal.subject))
    defect_id = next((e.defect_id for e in events if isinstance(e, de.DefectFound)), None)
    if isinstance(event, s.DefectRepairedIn):
        defect_id = event.defect_id
    answer, body = _answer(
        work, event, _result(event, station, work.now, operator_id, events, vehicle=vehicle, defect_id=defect_id)
    )
    await work.db.end_truck_event(answer, work.envelopes, vehicle, history, work.now)
    return body


async def _decide(work: _Work, vehicle: Vehicle, occ: Occurrence, event: s.StationEventIn) -> list[VehicleEvent]:
    match event:
        case s.ArrivedIn():
            # Read after the truck's lock: a kit consumer releasing holds locks the truck too (see consumers).
            shortage = await work.db.shortage(vehicle.kit_serial)
            route = None
            if vehicle.status is VehicleStatus.PLANNED:
                route = await work.db.latest_route(vehicle.line_id, vehicle.model)
            return vehicle.arrive(occ, shortage, route)
        case s.WorkStartedIn():
            return vehicle.start_work(occ)
        case s.WorkCompletedIn():
            return vehicle.complete_work(occ)
        case s.DefectFoundIn():
            return vehicle.find_defect(
                occ,
                code=event.code,
                severity=event.severity,
                caused_at_station=event.caused_at_station,
                note=event.note,
            )
        case s.DefectRepairedIn():
            return vehicle.repair_defect(occ, defect_id=event.defect_id, note=event.note)
        case s.ComponentFittedIn():
            return await _fit(work, vehicle, occ, event)
        case s.CheckRecordedIn():
            return vehicle.record_check(
                occ,
                characteristic=event.characteristic,
                value=event.value,
                nominal=event.nominal,
                tolerance=event.tolerance,
                unit=event.unit,
                passed=event.passed,
                defect_code=event.defect_code,
                severity=event.defect_severity,
            )
    raise AssertionError(f"unhandled station event {event.type}")


async def _fit(work: _Work, vehicle: Vehicle, occ: Occurrence, event: s.ComponentFittedIn) -> list[VehicleEvent]:
    source = event.source
    if source is None:
        source = "kit" if await work.db.in_bom(vehicle.kit_serial, event.part_number) else "local"
    events = vehicle.fit_component(
        occ, part_number=event.part_number, serial=event.serial, source=source, unit_value=event.unit_value
    )
    owner = await work.db.fit(
        part_number=event.part_number,
        serial=event.serial,
        vin=vehicle.vin,
        station=occ.station,
        source=source,
        unit_value=event.unit_value,
        operator_id=occ.operator_id,
        at=occ.at,
        terminal_event_id=occ.terminal_event_id,
    )
    if owner is not None:
        where = "this truck already" if owner == vehicle.vin else f"VIN {owner}"
        raise Conflict(
            "component.serial-already-fitted",
            f"{event.part_number} serial {event.serial} is fitted to {where}; a serial part is fitted once",
            vin=owner,
        )
    return events


async def _andon(work: _Work, station: str, event: s.StationEventIn, operator_id: str | None) -> dict[str, Any]:
    state = await work.db.andons_for_update(station)
    if state is None:  # taken off its line since the claim
        raise NotFound("station.not-found", f"station {station} is not on any line", station=station)
    change: de.AndonRaised | de.AndonCleared
    if isinstance(event, s.AndonRaisedIn):
        if event.vin is not None and not await work.db.vehicle_exists(event.vin):
            raise Conflict("vehicle.no-build-order", f"VIN {event.vin} has no build order", vin=event.vin)
        change = raise_andon(
            state,
            at=event.occurred_at,
            reason=event.reason,
            stops_line=event.stops_line,
            raised_by=operator_id,
            vin=event.vin,
        )
    else:
        assert isinstance(event, s.AndonClearedIn)
        change = clear_andon(state, at=event.occurred_at, andon_id=event.andon_id, cleared_by=operator_id)
    work.emit(wire.andon_to_wire(change), subject=station, time=change.at)
    result = _result(event, station, work.now, operator_id, [], vehicle=None).model_copy(
        update={"andon_id": change.andon_id, "published": [wire.event_type(change)]}
    )
    answer, body = _answer(work, event, result)
    if isinstance(change, de.AndonRaised):
        await work.db.end_andon_raised(answer, work.envelopes, change)
    else:
        await work.db.end_andon_cleared(answer, work.envelopes, change)
    return body


def _result(
    event: s.StationEventIn,
    station: str,
    now: datetime,
    operator_id: str | None,
    events: list[VehicleEvent],
    *,
    vehicle: Vehicle | None,
    defect_id: str | None = None,
) -> s.StationEventResult:
    state = None
    if vehicle is not None:
        here = vehicle.location
        on_line = vehicle.status is VehicleStatus.IN_PROGRESS and here is not None
        state = s.VehicleState(
            status=vehicle.status.value,
            current_station=vehicle.steps[here].station if on_line and here is not None else None,
            step_status=vehicle.steps[here].status.value if on_line and here is not None else None,
            open_defects=len(vehicle.open_defects),
            held_at=vehicle.held_at,
        )
    return s.StationEventResult(
        terminal_event_id=event.terminal_event_id,
        type=event.type,
        station=station,
        vin=getattr(event, "vin", None),
        occurred_at=event.occurred_at,
        accepted_at=now,
        operator_id=operator_id,
        published=[wire.event_type(e) for e in events],
        vehicle=state,
        defect_id=defect_id,
    )
