"""Station events from line terminals: the hot path of the whole system.

One event is one transaction: claim (terminal, terminal_event_id) in the event log, judge the operator
from the workforce read model, lock the truck's row (the only lock), apply the pure domain rule, save the
truck, append the outbox, store the answer. A resend of the same event finds its claim and gets the first
answer; the same id with other content is refused. A refused event rolls back entirely and leaves no
trace, so the terminal may send it again once the reason is gone (a clock-in that had not arrived yet).

The transaction runs on the asyncpg connection of a pooled connection (adapters/hotpath.py): a claim, the
operator's facts, the truck's lock, one statement writing everything, each prepared once per connection.

Most truck events (all but arrivals, which read the kit's shortages under the truck's lock) first take a
shorter way with the same rules and the same outcome: one statement reads everything the event is judged
on, including the truck's row version, and one statement, its own transaction, writes everything only if
the truck is still at that version and the id still free. An event that loses that race (another event on
the same truck, a resend in flight, a serial fitted meanwhile) has written nothing and is judged again the
long way, under the truck's lock. The process keeps the last truck it wrote per VIN with its row version
(`LineCache`), so an unchanged truck is neither sent by the database nor decoded again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from assembly_line.adapters.hotpath import Answer, Claim, Fitted, HotPath, Known, Stored
from assembly_line.adapters.repository import defects_json, steps_json
from assembly_line.api import schemas as s
from assembly_line.domain import (
    MAX_EVENT_AGE,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    Occurrence,
    OperatorFacts,
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
from mes_shared.versions import in_force

# Events whose operator signs off work: the badge is required, clocked in at the station and qualified there
# at the event's time. Arrival, defect found and andons may name a badge; it is then resolved if it can be.
SIGN_OFF = frozenset({"work_started", "work_completed", "defect_repaired", "component_fitted", "check_recorded"})
ANDON = frozenset({"andon_raised", "andon_cleared"})
# Truck events judged on the truck's row and the operator's facts alone (an arrival also reads the kit's
# shortages, which must be read under the truck's lock): these take the single-statement way first.
SINGLE_STATEMENT = frozenset(
    {"work_started", "work_completed", "defect_found", "defect_repaired", "component_fitted", "check_recorded"}
)


class LineCache:
    """What this process last learnt about the line, for the single-statement way: each truck it wrote with the
    row version (xmin) it got, the employee each badge signed off as at each station, whether each kit's BOM has
    each part. Nothing here is trusted: a truck is used only while its row is still that version, and an event
    judged on a remembered employee or part is written only if the statement finds them still so. A truck is
    taken out while an event uses it and put back only once the event is written."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._trucks: dict[str, tuple[int, Vehicle]] = {}
        self._operators: dict[tuple[str, str], str] = {}
        self._parts: dict[tuple[str, str], bool] = {}

    def take_truck(self, vin: str) -> tuple[int, Vehicle] | None:
        return self._trucks.pop(vin, None)

    def put_truck(self, vin: str, version: int, vehicle: Vehicle) -> None:
        self._put(self._trucks, vin, (version, vehicle))

    def operator(self, station: str, badge: str) -> str | None:
        return self._operators.get((station, badge))

    def note_operator(self, station: str, badge: str, employee_id: str) -> None:
        self._put(self._operators, (station, badge), employee_id)

    def forget_operator(self, station: str, badge: str) -> None:
        self._operators.pop((station, badge), None)

    def in_bom(self, kit_serial: str, part_number: str) -> bool | None:
        return self._parts.get((kit_serial, part_number))

    def note_in_bom(self, kit_serial: str, part_number: str, in_bom: bool) -> None:
        self._put(self._parts, (kit_serial, part_number), in_bom)

    def forget_in_bom(self, kit_serial: str, part_number: str) -> None:
        self._parts.pop((kit_serial, part_number), None)

    def _put(self, items: dict[Any, Any], key: Any, value: Any) -> None:
        items[key] = value
        if len(items) > self._size:
            del items[next(iter(items))]


@dataclass(frozen=True)
class Recorded:
    status_code: int
    body: dict[str, Any]
    replayed: bool
    # The body as JSON, when it was encoded already (what JSONResponse would send).
    raw: bytes | None = None


@dataclass
class _Work:
    """One event's unit of work: the data access, who sent it, and the envelopes it produced."""

    db: HotPath
    principal: Principal
    source: str
    now: datetime
    max_age: timedelta
    envelopes: list[Envelope] = field(default_factory=list)

    def emit(self, data: EventData, *, subject: str, time: datetime) -> None:
        self.envelopes.append(
            Envelope.wrap(data, source=self.source, subject=subject, time=time, correlation_id=correlation_id_var.get())
        )


def request_hash(station: str, event: s.StationEventIn, data: dict[str, Any] | None = None) -> str:
    """What makes two sends the same event: its content, with the time as a UTC instant (`data`: the event's
    JSON form, when the caller has it already)."""
    data = dict(data) if data is not None else event.model_dump(mode="json")
    data["occurred_at"] = event.occurred_at.astimezone(UTC).isoformat()
    raw = station + "\n" + json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


@asynccontextmanager
async def terminal_connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the hot path's own pool (adapters/terminal_pool.py), for one event or a whole backlog
    (each event is still its own transaction)."""
    async with pool.acquire() as conn:
        yield conn


async def record_event(
    conn: asyncpg.Connection,
    *,
    principal: Principal,
    station: str,
    event: s.StationEventIn,
    source: str,
    cache: LineCache | None = None,
    max_age: timedelta = MAX_EVENT_AGE,
) -> Recorded:
    """Accept or refuse one station event in its own transaction (raises a DomainError when refused;
    nothing is written then)."""
    now = datetime.now(UTC)
    payload = event.model_dump(mode="json")
    fingerprint = request_hash(station, event, payload)
    if event.type in SINGLE_STATEMENT:
        recorded = await _single_statement(
            _Event(conn, principal, station, event, source, now, max_age, payload, fingerprint), cache or LineCache(0)
        )
        if recorded is not None:
            return recorded
    async with conn.transaction():
        work = _Work(HotPath(conn), principal, source, now, max_age)
        claimed = await work.db.claim(
            terminal=principal.subject,
            terminal_event_id=event.terminal_event_id,
            request_hash=fingerprint,
            station=station,
            kind=event.type,
            vin=getattr(event, "vin", None),
            occurred_at=event.occurred_at,
            received_at=now,
            payload=payload,
        )
        if not claimed:
            return await _replay(work, station, event, fingerprint)
        body = await _apply(work, station, event)
        return Recorded(201, body, False)


@dataclass(frozen=True, slots=True)
class _Event:
    """A truck event on its way through the single-statement way."""

    conn: asyncpg.Connection
    principal: Principal
    station: str
    event: s.StationEventIn
    source: str
    now: datetime
    max_age: timedelta
    payload: dict[str, Any]
    fingerprint: str


async def _single_statement(e: _Event, cache: LineCache) -> Recorded | None:
    """The same judgement as the long way (`_apply`), with the same outcome, in one or two statements. None
    when the write lost a race: nothing was written, and the event is to be judged the long way.

    When this process knows the truck, the badge's employee and (for a fitting without a source) whether the
    kit's BOM has the part, the event is judged on that and written by one statement that checks it all still
    holds. Otherwise, or when that finds anything changed or the event is refused, one statement reads
    everything (`HotPath.look`) and the rules are applied in their order."""
    vin: str = getattr(e.event, "vin")  # noqa: B009 - every truck event has one (checked by the schema)
    known = cache.take_truck(vin)
    if known is not None:
        checks = _what_is_known(e, cache, known[1])
        if checks is not None:
            recorded = await _on_what_is_known(e, cache, vin, *known, checks)
            if recorded is not None:
                return recorded
            known = None  # the attempt may have changed the truck, or it was stale
    event = e.event
    fit = event if isinstance(event, s.ComponentFittedIn) else None
    badge: str | None = getattr(event, "operator_badge", None)
    look = await HotPath(e.conn).look(
        terminal=e.principal.subject,
        terminal_event_id=event.terminal_event_id,
        station=e.station,
        badge=badge,
        at=event.occurred_at,
        vin=vin,
        known=known,
        part_number=fit.part_number if fit else None,
        serial=fit.serial if fit else None,
        bom_line=fit is not None and fit.source is None,
    )
    if look.stored is not None:
        return _replayed(e.principal, event, e.fingerprint, look.stored)
    if not look.station_active:
        raise NotFound("station.not-found", f"station {e.station} is not on any line", station=e.station)
    require_plausible_time(event.occurred_at, e.now, max_age=e.max_age)
    operator_id = _operator_of(e.station, event, look.facts)
    vehicle = look.vehicle
    if vehicle is None or look.version is None:
        raise _no_build_order(vin)
    written = await _write(e, vehicle, look.version, operator_id, look.in_bom, look.fitted_to, checks=None)
    if written is None:
        return None
    if badge is not None and operator_id is not None and event.type in SIGN_OFF:
        cache.note_operator(e.station, badge, operator_id)
    if fit is not None and fit.source is None:
        cache.note_in_bom(vehicle.kit_serial, fit.part_number, look.in_bom)
    cache.put_truck(vin, written[0], vehicle)
    return written[1]


def _what_is_known(e: _Event, cache: LineCache, vehicle: Vehicle) -> Known | None:
    """What the event would be judged on besides the truck, if this process knows all of it."""
    event = e.event
    badge: str | None = getattr(event, "operator_badge", None)
    operator_id = None
    if badge is not None:
        if event.type not in SIGN_OFF:
            return None  # a badge given with a defect is resolved as far as it can be: read it
        operator_id = cache.operator(e.station, badge)
        if operator_id is None:
            return None
    in_bom = None
    bom_line = None
    if isinstance(event, s.ComponentFittedIn) and event.source is None:
        in_bom = cache.in_bom(vehicle.kit_serial, event.part_number)
        if in_bom is None:
            return None
        bom_line = _json([{"part_number": event.part_number}])
    return Known(operator_id, badge, event.occurred_at.astimezone(UTC).date(), in_bom, bom_line)


async def _on_what_is_known(
    e: _Event, cache: LineCache, vin: str, version: int, vehicle: Vehicle, checks: Known
) -> Recorded | None:
    """One statement, judged on what this process knows; None when the event would be refused (the long way
    finds the refusal in the rules' order) or when anything it was judged on changed (nothing was written)."""
    try:
        require_plausible_time(e.event.occurred_at, e.now, max_age=e.max_age)
        written = await _write(e, vehicle, version, checks.operator_id, bool(checks.in_bom), None, checks=checks)
    except DomainError:
        return None
    if written is None:
        if checks.badge is not None:
            cache.forget_operator(e.station, checks.badge)
        if isinstance(e.event, s.ComponentFittedIn):
            cache.forget_in_bom(vehicle.kit_serial, e.event.part_number)
        return None
    cache.put_truck(vin, written[0], vehicle)
    return written[1]


async def _write(
    e: _Event,
    vehicle: Vehicle,
    version: int,
    operator_id: str | None,
    in_bom: bool,
    fitted_to: str | None,
    *,
    checks: Known | None,
) -> tuple[int, Recorded] | None:
    """Judge the event on `vehicle` (raises the refusal) and write it in one statement: the truck's new row
    version and the answer, or None when the statement found the truck, the id, a fitting's serial or `checks`
    changed (nothing was written then). On success `vehicle` is the truck as its row now reads."""
    event = e.event
    occ = Occurrence(e.station, event.occurred_at, event.terminal_event_id, operator_id)
    steps_before, defects_before = _step_marks(vehicle), _defect_marks(vehicle)
    fitted = None
    if isinstance(event, s.ComponentFittedIn):
        source_of_part = event.source or ("kit" if in_bom else "local")
        events = vehicle.fit_component(
            occ, part_number=event.part_number, serial=event.serial, source=source_of_part, unit_value=event.unit_value
        )
        if fitted_to is not None:
            raise _serial_taken(event, fitted_to, vehicle.vin)
        fitted = Fitted(event.part_number, event.serial, source_of_part, event.unit_value)
    else:
        events = _judge(vehicle, occ, event)
    work = _Work(HotPath(e.conn), e.principal, e.source, e.now, e.max_age)
    history = _publish(work, vehicle, events)
    body = _truck_body(event, e.station, e.now, operator_id, events, vehicle)
    raw = _response_json(body)
    try:
        new_version = await work.db.end_fast(
            claim=Claim(
                e.principal.subject,
                event.terminal_event_id,
                e.fingerprint,
                e.station,
                event.type,
                event.occurred_at,
                e.now,
                _json(e.payload),
            ),
            answer=Answer(e.principal.subject, event.terminal_event_id, 201, raw, operator_id),
            envelopes=work.envelopes,
            vehicle=vehicle,
            version=version,
            steps=_json(steps_json(vehicle.steps)) if _step_marks(vehicle) != steps_before else None,
            defects=_json(defects_json(vehicle.defects)) if _defect_marks(vehicle) != defects_before else None,
            history=history,
            at=e.now,
            fitted=fitted,
            known=checks,
        )
    except asyncpg.UniqueViolationError:  # the serial was fitted meanwhile
        return None
    if new_version is None:
        return None
    _as_read(vehicle)
    return new_version, Recorded(201, body, False, raw.encode())


def _step_marks(vehicle: Vehicle) -> list[tuple[Any, ...]]:
    return [tuple(vars(step).values()) for step in vehicle.steps]


def _defect_marks(vehicle: Vehicle) -> list[tuple[Any, ...]]:
    return [tuple(vars(defect).values()) for defect in vehicle.defects]


def _as_read(vehicle: Vehicle) -> None:
    """Make the truck exactly what reading its row back gives: its timestamptz columns in UTC."""
    for name in ("created_at", "started_at", "completed_at", "cancelled_at", "held_since"):
        at = getattr(vehicle, name)
        if at is not None:
            setattr(vehicle, name, at.astimezone(UTC))


def _response_json(body: dict[str, Any]) -> str:
    """The body as JSONResponse encodes it."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _replayed(principal: Principal, event: s.StationEventIn, fingerprint: str, stored: Stored) -> Recorded:
    if stored.request_hash != fingerprint:
        raise InvalidInput(
            "station-event.id-reused",
            f"terminal event id {event.terminal_event_id!r} was already used by {principal.subject} for a "
            f"different event (received {stored.received_at.isoformat()}); a new event needs a new id",
            terminal_event_id=event.terminal_event_id,
        )
    return Recorded(stored.status_code, stored.response, True)


async def _replay(work: _Work, station: str, event: s.StationEventIn, fingerprint: str) -> Recorded:
    stored = await work.db.stored(work.principal.subject, event.terminal_event_id)
    if stored is None:
        raise NotFound("station.not-found", f"station {station} is not on any line", station=station)
    return _replayed(
        work.principal,
        event,
        fingerprint,
        Stored(stored["request_hash"], stored["status_code"], stored["response"], stored["received_at"]),
    )


def _answer(work: _Work, event: s.StationEventIn, body: dict[str, Any]) -> Answer:
    return Answer(work.principal.subject, event.terminal_event_id, 201, _response_json(body), body["operator_id"])


async def _apply(work: _Work, station: str, event: s.StationEventIn) -> dict[str, Any]:
    """Judge and record a claimed event; the answer's body."""
    require_plausible_time(event.occurred_at, work.now, max_age=work.max_age)
    operator_id = await _operator(work, station, event)
    if event.type in ANDON:
        return await _andon(work, station, event, operator_id)
    return await _truck(work, station, event, operator_id)


async def _operator(work: _Work, station: str, event: s.StationEventIn) -> str | None:
    badge = getattr(event, "operator_badge", None)
    if badge is None:
        return None  # the schema requires a badge for every sign-off
    facts = await work.db.operator_facts(badge=badge, station=station, at=event.occurred_at)
    return _operator_of(station, event, facts)


def _operator_of(station: str, event: s.StationEventIn, facts: OperatorFacts | None) -> str | None:
    """The employee behind the event's badge (None without a badge), or the sign-off rule's refusal."""
    badge = getattr(event, "operator_badge", None)
    if badge is None or facts is None:
        return None  # the schema requires a badge for every sign-off
    if event.type in SIGN_OFF:
        return authorize_sign_off(badge=badge, station=station, at=event.occurred_at, facts=facts)
    return facts.clock_in.employee_id if facts.clock_in else None


def _no_build_order(vin: str) -> Conflict:
    return Conflict("vehicle.no-build-order", f"VIN {vin} has no build order; a supervisor creates it first", vin=vin)


def _serial_taken(event: s.ComponentFittedIn, owner: str, vin: str) -> Conflict:
    where = "this truck already" if owner == vin else f"VIN {owner}"
    return Conflict(
        "component.serial-already-fitted",
        f"{event.part_number} serial {event.serial} is fitted to {where}; a serial part is fitted once",
        vin=owner,
    )


def _publish(work: _Work, vehicle: Vehicle, events: list[VehicleEvent]) -> list[dict[str, Any]]:
    """Emit the truck's events; what goes into its history besides the terminals' own log."""
    history = []
    for e in events:
        data = wire.to_wire(e)
        work.emit(data, subject=vehicle.vin, time=e.at)
        if not isinstance(e, StationFact):
            history.append(history_entry(e, data, work.principal.subject))
    return history


def _truck_body(
    event: s.StationEventIn,
    station: str,
    now: datetime,
    operator_id: str | None,
    events: list[VehicleEvent],
    vehicle: Vehicle,
) -> dict[str, Any]:
    defect_id = next((e.defect_id for e in events if isinstance(e, de.DefectFound)), None)
    if isinstance(event, s.DefectRepairedIn):
        defect_id = event.defect_id
    return result_body(event, station, now, operator_id, events, vehicle=vehicle, defect_id=defect_id)


async def _truck(work: _Work, station: str, event: s.StationEventIn, operator_id: str | None) -> dict[str, Any]:
    vin: str = getattr(event, "vin")  # noqa: B009 - every truck event has one (checked by the schema)
    vehicle = await work.db.vehicle_for_update(vin)
    if vehicle is None:
        raise _no_build_order(vin)
    occ = Occurrence(station, event.occurred_at, event.terminal_event_id, operator_id)
    events = await _decide(work, vehicle, occ, event)
    history = _publish(work, vehicle, events)
    body = _truck_body(event, station, work.now, operator_id, events, vehicle)
    await work.db.end_truck_event(_answer(work, event, body), work.envelopes, vehicle, history, work.now)
    return body


async def _decide(work: _Work, vehicle: Vehicle, occ: Occurrence, event: s.StationEventIn) -> list[VehicleEvent]:
    match event:
        case s.ArrivedIn():
            # Read after the truck's lock: a kit consumer releasing holds locks the truck too (see consumers).
            shortage = await work.db.shortage(vehicle.kit_serial)
            route = None
            if vehicle.status is VehicleStatus.PLANNED:  # it starts now, on the route in force when it arrived
                route = in_force(await work.db.route_versions(vehicle.line_id, vehicle.model), occ.at)
            return vehicle.arrive(occ, shortage, route)
        case s.ComponentFittedIn():
            return await _fit(work, vehicle, occ, event)
    return _judge(vehicle, occ, event)


def _judge(vehicle: Vehicle, occ: Occurrence, event: s.StationEventIn) -> list[VehicleEvent]:
    """The truck events that need nothing but the truck."""
    match event:
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
        raise _serial_taken(event, owner, vehicle.vin)
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
    body = result_body(event, station, work.now, operator_id, [], vehicle=None)
    body["published"], body["andon_id"] = [wire.event_type(change)], change.andon_id
    answer = _answer(work, event, body)
    if isinstance(change, de.AndonRaised):
        await work.db.end_andon_raised(answer, work.envelopes, change)
    else:
        await work.db.end_andon_cleared(answer, work.envelopes, change)
    return body


def result_body(
    event: s.StationEventIn,
    station: str,
    now: datetime,
    operator_id: str | None,
    events: list[VehicleEvent],
    *,
    vehicle: Vehicle | None,
    defect_id: str | None = None,
) -> dict[str, Any]:
    """The answer to an accepted event: `schemas.StationEventResult` in its JSON form, built directly."""
    state = None
    if vehicle is not None:
        here = vehicle.location
        on_line = vehicle.status is VehicleStatus.IN_PROGRESS and here is not None
        state = {
            "status": vehicle.status.value,
            "current_station": vehicle.steps[here].station if on_line and here is not None else None,
            "step_status": vehicle.steps[here].status.value if on_line and here is not None else None,
            "open_defects": len(vehicle.open_defects),
            "held_at": vehicle.held_at,
        }
    return {
        "terminal_event_id": event.terminal_event_id,
        "type": event.type,
        "station": station,
        "vin": getattr(event, "vin", None),
        "occurred_at": _instant(event.occurred_at),
        "accepted_at": _instant(now),
        "operator_id": operator_id,
        "published": [wire.event_type(e) for e in events],
        "vehicle": state,
        "defect_id": defect_id,
        "andon_id": None,
    }


def _instant(at: datetime) -> str:
    """An aware datetime as pydantic writes it in JSON (UTC as Z)."""
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
