"""Data access of the station-event hot path, straight on asyncpg.

Every operator action at every station is one transaction through here, so it stays as lean as the
database allows: fixed SQL that asyncpg prepares once per connection, one round trip per question, the
truck's row as the only lock, and everything the event writes (the truck, its history, the outbox, the
stored answer, the relay's wake-up) in one statement at the end.

The connection is a pooled SQLAlchemy connection (the service has one pool); its codecs are the ones
SQLAlchemy's asyncpg dialect installs, so a json or jsonb parameter is passed as JSON text and a json or
jsonb result arrives decoded.

The same tables are read and written through SQLAlchemy elsewhere (repository.py, readmodels.py); the
two must agree on every column, which the integration tests hold them to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from assembly_line.adapters.readmodels import missing_parts_of, qualification_of
from assembly_line.adapters.repository import state_of, vehicle_of
from assembly_line.domain import (
    AndonCleared,
    AndonRaised,
    ClockIn,
    OpenAndon,
    OperatorFacts,
    Qualification,
    Route,
    RouteStep,
    Shortage,
    StationAndons,
    Vehicle,
    VehicleStatus,
)
from mes_shared.envelope import Envelope
from mes_shared.outbox import NOTIFY_CHANNEL

# Claims the id only for an active station: no row back means taken already, or no such station.
_CLAIM = """
INSERT INTO station_events (terminal, terminal_event_id, request_hash, station, type, vin, occurred_at,
                            received_at, payload, status_code, response)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 0, '{}'::jsonb
FROM stations WHERE station_id = $4 AND active
ON CONFLICT DO NOTHING
RETURNING 1"""
_STORED = """
SELECT request_hash, status_code, response, received_at FROM station_events
WHERE terminal = $1 AND terminal_event_id = $2"""
# $1 station, $2 badge, $3 instant, $4 its UTC date.
_OPERATOR = """
SELECT p.employee_id, p.badge_id, p.station, p.in_at, p.out_at,
       (SELECT coalesce(json_agg(json_build_object('level', q.level, 'valid_from', q.valid_from,
                                                   'valid_until', q.valid_until, 'ended_at', q.ended_at,
                                                   'end_reason', q.end_reason)), '[]'::json)
          FROM qualifications q WHERE q.employee_id = p.employee_id AND q.station = $1) AS qualifications,
       s.status, s.effective_date AS status_since
FROM presences p
LEFT JOIN LATERAL (SELECT st.status, st.effective_date FROM employee_statuses st
                   WHERE st.employee_id = p.employee_id AND st.effective_date <= $4
                   ORDER BY st.effective_date DESC, st.id DESC LIMIT 1) s ON true
WHERE p.station = $1 AND p.badge_id = $2 AND p.in_at <= $3 AND (p.out_at IS NULL OR p.out_at > $3)
ORDER BY p.in_at DESC
LIMIT 1"""
_VEHICLE_COLUMNS = (
    "vin, model, variant, line_id, kit_serial, status, route_version, steps, defects, held_at, held_since, "
    "last_event, created_at, started_at, completed_at, cancelled_at"
)
_VEHICLE_FOR_UPDATE = f"SELECT {_VEHICLE_COLUMNS} FROM vehicles WHERE vin = $1 FOR UPDATE"
_VEHICLE_EXISTS = "SELECT 1 FROM vehicles WHERE vin = $1"
_HOLD_LINE = "SELECT 1 FROM lines WHERE line_id = $1 FOR SHARE"
_ROUTE_VERSIONS = """
SELECT version, steps, effective_from FROM routes WHERE line_id = $1 AND model = $2 ORDER BY version"""
_SHORTAGE = "SELECT build_short, waiting_stations, missing_parts FROM kits WHERE serial = $1"
_IN_BOM = """
SELECT true FROM kits k JOIN kit_types t ON t.kit_type = k.kit_type AND t.version = k.bom_version
WHERE k.serial = $1 AND t.parts @> $2::jsonb"""
_FIT = """
INSERT INTO components (part_number, serial, vin, station, source, unit_value, operator_id, fitted_at,
                        terminal_event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING
RETURNING vin"""
_FITTED_TO = "SELECT vin FROM components WHERE part_number = $1 AND serial = $2"
_STATION_ANDONS = """
SELECT s.line_id, s.andon_count, s.andon_changed_at, a.andon_id, a.raised_at, a.stops_line
FROM stations s LEFT JOIN andons a ON a.station = s.station_id AND a.cleared_at IS NULL
WHERE s.station_id = $1 AND s.active
FOR UPDATE OF s"""

# The end of every accepted event, one statement: the stored answer ($1-$5), the outbox rows of the shared
# outbox table (mes_shared.platform_tables.outbox) and the relay's wake-up, as mes_shared.outbox.append
# does, plus what the event changed (its own CTEs, parameters from $11 on).
_END = """
WITH answer AS (
    UPDATE station_events SET status_code = $3, response = $4::jsonb, operator_id = $5
    WHERE terminal = $1 AND terminal_event_id = $2
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, event_type, payload)
    SELECT * FROM unnest($6::uuid[], $7::text[], $8::text[], $9::text[], $10::bytea[])
){changes}
SELECT pg_notify('{channel}', '')"""
_TRUCK_CHANGES = """, truck AS (
    UPDATE vehicles SET status = $12, route_version = $13, steps = $14::jsonb, defects = $15::jsonb,
           open_defects = $16, held_at = $17, held_since = $18, current_station = $19, last_event = $20::jsonb,
           last_event_at = $21, started_at = $22, completed_at = $23, cancelled_at = $24, updated_at = $25
    WHERE vin = $11
), history AS (
    INSERT INTO vehicle_history (vin, at, action, actor, detail)
    SELECT $11, * FROM unnest($26::timestamptz[], $27::text[], $28::text[], $29::text[]::jsonb[])
)"""
_RAISE_CHANGES = """, andon AS (
    INSERT INTO andons (andon_id, line_id, station, reason, stops_line, vin, raised_at, raised_by)
    VALUES ($11, $12, $13, $14, $15, $16, $17, $18)
), station AS (
    UPDATE stations SET andon_count = andon_count + 1, andon_changed_at = $17 WHERE station_id = $13
)"""
_CLEAR_CHANGES = """, andon AS (
    UPDATE andons SET cleared_at = $12, cleared_by = $13, duration_seconds = $14 WHERE andon_id = $11
), station AS (
    UPDATE stations SET andon_changed_at = $12 WHERE station_id = $15
)"""
_END_TRUCK = _END.format(changes=_TRUCK_CHANGES, channel=NOTIFY_CHANNEL)
_END_RAISE = _END.format(changes=_RAISE_CHANGES, channel=NOTIFY_CHANNEL)
_END_CLEAR = _END.format(changes=_CLEAR_CHANGES, channel=NOTIFY_CHANNEL)

# ---- the single-statement path of a truck event (see service/station_events.py) ------------------
#
# One read: everything the event is judged on, as of one snapshot: whether the station is active, the first
# answer to this terminal event id if there is one, the operator's facts, the truck with its row version
# (xmin) and, for a fitting, the serial's owner and whether the kit's BOM has the part. The truck's route
# state (steps, defects) is sent only when the caller's copy ($8, its xmin) is not the current row.
# $1 terminal, $2 terminal event id, $3 station, $4 badge, $5 instant, $6 its UTC date, $7 VIN, $8 xmin of
# the caller's copy, $9 part number, $10 serial, $11 the part as a BOM line (JSON).
_LOOK = """
SELECT (SELECT true FROM stations WHERE station_id = $3 AND active) AS station_active,
       e.request_hash AS stored_hash, e.status_code AS stored_status, e.response AS stored_response,
       e.received_at AS stored_received_at,
       o.employee_id AS op_employee_id, o.badge_id AS op_badge_id, o.station AS op_station, o.in_at AS op_in_at,
       o.out_at AS op_out_at, o.status AS op_status, o.status_since AS op_status_since, o.q_levels, o.q_from,
       o.q_until, o.q_ended, o.q_reasons,
       v.xmin AS version, v.vin, v.model, v.variant, v.line_id, v.kit_serial, v.status, v.route_version,
       CASE WHEN v.xmin = $8 THEN NULL ELSE v.steps END AS steps,
       CASE WHEN v.xmin = $8 THEN NULL ELSE v.defects END AS defects,
       v.held_at, v.held_since, v.last_event, v.created_at, v.started_at, v.completed_at, v.cancelled_at,
       (SELECT c.vin FROM components c WHERE c.part_number = $9 AND c.serial = $10) AS fitted_to,
       (SELECT true FROM kits k JOIN kit_types t ON t.kit_type = k.kit_type AND t.version = k.bom_version
        WHERE k.serial = v.kit_serial AND t.parts @> $11::jsonb) AS in_bom
FROM (SELECT) AS one
LEFT JOIN station_events e ON e.terminal = $1 AND e.terminal_event_id = $2
LEFT JOIN LATERAL (
    SELECT p.employee_id, p.badge_id, p.station, p.in_at, p.out_at, s.status, s.effective_date AS status_since,
           q.q_levels, q.q_from, q.q_until, q.q_ended, q.q_reasons
    FROM presences p
    LEFT JOIN LATERAL (SELECT st.status, st.effective_date FROM employee_statuses st
                       WHERE st.employee_id = p.employee_id AND st.effective_date <= $6
                       ORDER BY st.effective_date DESC, st.id DESC LIMIT 1) s ON true
    LEFT JOIN LATERAL (SELECT array_agg(q.level) AS q_levels, array_agg(q.valid_from) AS q_from,
                              array_agg(q.valid_until) AS q_until, array_agg(q.ended_at) AS q_ended,
                              array_agg(q.end_reason) AS q_reasons
                       FROM qualifications q WHERE q.employee_id = p.employee_id AND q.station = $3) q ON true
    WHERE p.station = $3 AND p.badge_id = $4 AND p.in_at <= $5 AND (p.out_at IS NULL OR p.out_at > $5)
    ORDER BY p.in_at DESC
    LIMIT 1
) o ON true
LEFT JOIN vehicles v ON v.vin = $7"""

# One write, its own transaction: written only while the truck's row is still the version the event was judged
# on ($13, locked here for the statement) and the terminal event id is still free at an active station;
# otherwise nothing is written and no row comes back. A serial fitted meanwhile fails the statement
# (unique violation): nothing is written either. Route state (steps, defects) is written only when given.
# An event judged on what the process knew rather than on a fresh read also names the employee it took the
# badge ($40) for ($39) and whether the kit's BOM has the part ($42, for $43): written only if the badge still
# signs off as that employee at the event's time ($7, its UTC date $41), which is `authorize_sign_off`
# accepting it, and the BOM still says so.
_FAST_END = f"""
WITH locked AS (
    SELECT 1 FROM vehicles v
    WHERE v.vin = $6 AND v.xmin = $13
      AND ($39::text IS NULL OR EXISTS (
          SELECT FROM (SELECT p.employee_id FROM presences p
                       WHERE p.station = $4 AND p.badge_id = $40 AND p.in_at <= $7
                         AND (p.out_at IS NULL OR p.out_at > $7)
                       ORDER BY p.in_at DESC LIMIT 1) p
          WHERE p.employee_id = $39
            AND coalesce((SELECT st.status FROM employee_statuses st
                          WHERE st.employee_id = p.employee_id AND st.effective_date <= $41
                          ORDER BY st.effective_date DESC, st.id DESC LIMIT 1), 'active') = 'active'
            AND EXISTS (SELECT FROM qualifications q
                        WHERE q.employee_id = p.employee_id AND q.station = $4 AND q.valid_from <= $7
                          AND $7 < least(q.valid_until, coalesce(q.ended_at, q.valid_until)))))
      AND ($42::boolean IS NULL OR $42 = EXISTS (
          SELECT FROM kits k JOIN kit_types t ON t.kit_type = k.kit_type AND t.version = k.bom_version
          WHERE k.serial = v.kit_serial AND t.parts @> $43::jsonb))
    FOR UPDATE
), claim AS (
    INSERT INTO station_events (terminal, terminal_event_id, request_hash, station, type, vin, occurred_at,
                                received_at, payload, status_code, response, operator_id)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::jsonb, $12
    FROM stations, locked WHERE station_id = $4 AND active
    ON CONFLICT DO NOTHING
    RETURNING 1
), truck AS (
    UPDATE vehicles SET status = $14, steps = coalesce($15::jsonb, steps), defects = coalesce($16::jsonb, defects),
           open_defects = $17, held_at = $18, held_since = $19, current_station = $20, last_event = $21::jsonb,
           last_event_at = $22, started_at = $23, completed_at = $24, updated_at = $25
    WHERE vin = $6 AND EXISTS (SELECT FROM claim)
    RETURNING xmin
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, event_type, payload)
    SELECT * FROM unnest($26::uuid[], $27::text[], $28::text[], $29::text[], $30::bytea[])
    WHERE EXISTS (SELECT FROM claim)
), history AS (
    INSERT INTO vehicle_history (vin, at, action, actor, detail)
    SELECT $6, * FROM unnest($31::timestamptz[], $32::text[], $33::text[], $34::text[]::jsonb[])
    WHERE EXISTS (SELECT FROM claim)
), fitted AS (
    INSERT INTO components (part_number, serial, vin, station, source, unit_value, operator_id, fitted_at,
                            terminal_event_id)
    SELECT $35, $36, $6, $4, $37, $38, $12, $7, $2
    WHERE $35::text IS NOT NULL AND EXISTS (SELECT FROM claim)
)
SELECT xmin, pg_notify('{NOTIFY_CHANNEL}', '') FROM truck"""


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class HotPath:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._c = conn

    # ---- the terminals' event log ---------------------------------------------------------------

    async def claim(
        self,
        *,
        terminal: str,
        terminal_event_id: str,
        request_hash: str,
        station: str,
        kind: str,
        vin: str | None,
        occurred_at: datetime,
        received_at: datetime,
        payload: dict[str, Any],
    ) -> bool:
        """Claim the id at an active station; False when already taken (a concurrent resend waits here for
        the first to end) or when the station is not active on a line (see `stored`)."""
        found = await self._c.fetchval(
            _CLAIM,
            terminal,
            terminal_event_id,
            request_hash,
            station,
            kind,
            vin,
            occurred_at,
            received_at,
            _json(payload),
        )
        return found is not None

    async def stored(self, terminal: str, terminal_event_id: str) -> asyncpg.Record | None:
        """The first answer to an id that could not be claimed (None: the station was the reason)."""
        row: asyncpg.Record | None = await self._c.fetchrow(_STORED, terminal, terminal_event_id)
        return row

    # ---- questions ------------------------------------------------------------------------------

    async def operator_facts(self, *, badge: str, station: str, at: datetime) -> OperatorFacts:
        row = await self._c.fetchrow(_OPERATOR, station, badge, at, at.astimezone(UTC).date())
        if row is None:
            return OperatorFacts(clock_in=None)
        return OperatorFacts(
            clock_in=ClockIn(row["employee_id"], row["badge_id"], row["station"], row["in_at"], row["out_at"]),
            qualifications=tuple(qualification_of(q) for q in row["qualifications"]),
            status=row["status"],
            status_since=row["status_since"],
        )

    async def vehicle_for_update(self, vin: str) -> Vehicle | None:
        row = await self._c.fetchrow(_VEHICLE_FOR_UPDATE, vin)
        return vehicle_of(row) if row is not None else None

    async def vehicle_exists(self, vin: str) -> bool:
        return await self._c.fetchval(_VEHICLE_EXISTS, vin) is not None

    async def route_versions(self, line_id: str, model: str) -> list[Route]:
        """Every version of the model's route on the line, oldest first, the line held first (as `Routes.versions`)."""
        await self._c.execute(_HOLD_LINE, line_id)
        return [
            Route(
                line_id,
                model,
                row["version"],
                tuple(RouteStep(s["station_id"], float(s["standard_seconds"])) for s in row["steps"]),
                row["effective_from"],
            )
            for row in await self._c.fetch(_ROUTE_VERSIONS, line_id, model)
        ]

    async def shortage(self, serial: str) -> Shortage:
        row = await self._c.fetchrow(_SHORTAGE, serial)
        if row is None:
            return Shortage()
        return Shortage(
            build_short=row["build_short"],
            waiting_stations=frozenset(row["waiting_stations"]),
            missing_parts=missing_parts_of(row["missing_parts"]),
        )

    async def in_bom(self, serial: str, part_number: str) -> bool:
        return bool(await self._c.fetchval(_IN_BOM, serial, _json([{"part_number": part_number}])))

    # ---- writes ---------------------------------------------------------------------------------

    async def fit(
        self,
        *,
        part_number: str,
        serial: str,
        vin: str,
        station: str,
        source: str,
        unit_value: float | None,
        operator_id: str | None,
        at: datetime,
        terminal_event_id: str,
    ) -> str | None:
        """Record the fitting; when the serial is already fitted, return the VIN it is fitted to instead."""
        fitted = await self._c.fetchval(
            _FIT, part_number, serial, vin, station, source, unit_value, operator_id, at, terminal_event_id
        )
        if fitted is not None:
            return None
        owner: str | None = await self._c.fetchval(_FITTED_TO, part_number, serial)
        return owner

    # ---- the end of an accepted event ------------------------------------------------------------

    async def end_truck_event(
        self,
        answer: Answer,
        envelopes: Sequence[Envelope],
        vehicle: Vehicle,
        history: Sequence[dict[str, Any]],
        at: datetime,
    ) -> None:
        """Store the answer, append the outbox, save the truck and its history: one statement."""
        t = state_of(vehicle, at)
        await self._c.execute(
            _END_TRUCK,
            *answer.params(),
            *_outbox(envelopes),
            vehicle.vin,
            t["status"],
            t["route_version"],
            _json(t["steps"]),
            _json(t["defects"]),
            t["open_defects"],
            t["held_at"],
            t["held_since"],
            t["current_station"],
            _json(t["last_event"]) if t["last_event"] is not None else None,
            t["last_event_at"],
            t["started_at"],
            t["completed_at"],
            t["cancelled_at"],
            t["updated_at"],
            [h["at"] for h in history],
            [h["action"] for h in history],
            [h["actor"] for h in history],
            [_json(h["detail"]) for h in history],
        )

    async def end_andon_raised(self, answer: Answer, envelopes: Sequence[Envelope], raised: AndonRaised) -> None:
        await self._c.execute(
            _END_RAISE,
            *answer.params(),
            *_outbox(envelopes),
            raised.andon_id,
            raised.line_id,
            raised.station,
            raised.reason,
            raised.stops_line,
            raised.vin,
            raised.at,
            raised.raised_by,
        )

    async def end_andon_cleared(self, answer: Answer, envelopes: Sequence[Envelope], cleared: AndonCleared) -> None:
        await self._c.execute(
            _END_CLEAR,
            *answer.params(),
            *_outbox(envelopes),
            cleared.andon_id,
            cleared.at,
            cleared.cleared_by,
            cleared.duration_seconds,
            cleared.station,
        )

    # ---- andons ---------------------------------------------------------------------------------

    async def andons_for_update(self, station: str) -> StationAndons | None:
        row = await self._c.fetchrow(_STATION_ANDONS, station)
        if row is None:
            return None
        return StationAndons(
            line_id=row["line_id"],
            station=station,
            open=OpenAndon(row["andon_id"], row["raised_at"], row["stops_line"]) if row["andon_id"] else None,
            last_change_at=row["andon_changed_at"],
            raised_count=row["andon_count"],
        )

    # ---- the single-statement path of a truck event -----------------------------------------------

    async def look(
        self,
        *,
        terminal: str,
        terminal_event_id: str,
        station: str,
        badge: str | None,
        at: datetime,
        vin: str,
        known: tuple[int, Vehicle] | None,
        part_number: str | None = None,
        serial: str | None = None,
        bom_line: bool = False,
    ) -> Look:
        """Everything a truck event is judged on, in one statement (see `_LOOK`). `known` is a copy of the truck
        as of a row version: it is used when that is still the row's version, and the row is not sent."""
        row = await self._c.fetchrow(
            _LOOK,
            terminal,
            terminal_event_id,
            station,
            badge,
            at,
            at.astimezone(UTC).date(),
            vin,
            known[0] if known is not None else None,
            part_number,
            serial,
            _json([{"part_number": part_number}]) if bom_line else None,
        )
        assert row is not None
        stored = None
        if row["stored_hash"] is not None:
            stored = Stored(row["stored_hash"], row["stored_status"], row["stored_response"], row["stored_received_at"])
        version: int | None = row["version"]
        vehicle = None
        if version is not None:
            if row["steps"] is None:  # the caller's copy is the current row
                assert known is not None and known[0] == version
                vehicle = known[1]
            else:
                vehicle = vehicle_of(row)
        return Look(
            station_active=bool(row["station_active"]),
            stored=stored,
            facts=_facts_of(row) if badge is not None else None,
            version=version,
            vehicle=vehicle,
            fitted_to=row["fitted_to"],
            in_bom=bool(row["in_bom"]),
        )

    async def end_fast(
        self,
        *,
        claim: Claim,
        answer: Answer,
        envelopes: Sequence[Envelope],
        vehicle: Vehicle,
        version: int,
        steps: str | None,
        defects: str | None,
        history: Sequence[dict[str, Any]],
        at: datetime,
        fitted: Fitted | None = None,
        known: Known | None = None,
    ) -> int | None:
        """Write the whole event in one statement, its own transaction, if the truck's row is still `version`
        and the id still free at an active station: the truck's new row version, or None (nothing written).
        `steps` and `defects` (JSON) are written only when given. Raises UniqueViolationError when `fitted`'s
        serial was fitted meanwhile (nothing is written). `known`: what the event was judged on besides the truck,
        when it was not read just now: written only if it still holds."""
        here = vehicle.location
        last = vehicle.last_event
        new_version: int | None = await self._c.fetchval(
            _FAST_END,
            claim.terminal,
            claim.terminal_event_id,
            claim.request_hash,
            claim.station,
            claim.kind,
            vehicle.vin,
            claim.occurred_at,
            claim.received_at,
            claim.payload,
            answer.status_code,
            answer.response,
            answer.operator_id,
            version,
            vehicle.status.value,
            steps,
            defects,
            sum(1 for d in vehicle.defects if d.is_open),
            vehicle.held_at,
            vehicle.held_since,
            vehicle.steps[here].station if here is not None and vehicle.status is VehicleStatus.IN_PROGRESS else None,
            _json({"kind": last.kind, "station": last.station, "at": last.at.isoformat()}) if last else None,
            last.at if last else None,
            vehicle.started_at,
            vehicle.completed_at,
            at,
            *_outbox(envelopes),
            [h["at"] for h in history],
            [h["action"] for h in history],
            [h["actor"] for h in history],
            [_json(h["detail"]) for h in history],
            fitted.part_number if fitted else None,
            fitted.serial if fitted else None,
            fitted.source if fitted else None,
            fitted.unit_value if fitted else None,
            known.operator_id if known else None,
            known.badge if known else None,
            known.date if known else None,
            known.in_bom if known else None,
            known.bom_line if known else None,
        )
        return new_version


@dataclass(frozen=True, slots=True)
class Stored:
    """The first answer to a terminal event id."""

    request_hash: str
    status_code: int
    response: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Look:
    station_active: bool
    stored: Stored | None
    facts: OperatorFacts | None  # None when no badge was given
    version: int | None  # the truck's row version (xmin); None: no such truck
    vehicle: Vehicle | None
    fitted_to: str | None  # the VIN a fitting's serial is fitted to already
    in_bom: bool  # a fitting's part is in the truck's kit BOM


@dataclass(frozen=True, slots=True)
class Claim:
    """A terminal event as it is logged under its id."""

    terminal: str
    terminal_event_id: str
    request_hash: str
    station: str
    kind: str
    occurred_at: datetime
    received_at: datetime
    payload: str  # JSON


@dataclass(frozen=True, slots=True)
class Known:
    """What a truck event was judged on besides the truck, as this process knew it (not read just now)."""

    operator_id: str | None  # the employee the badge signed off as; None: no badge
    badge: str | None
    date: date  # the event's UTC date (the employee's status on it)
    in_bom: bool | None  # a fitting without a source: whether the kit's BOM has the part
    bom_line: str | None  # that part as a BOM line (JSON)


@dataclass(frozen=True, slots=True)
class Fitted:
    part_number: str
    serial: str
    source: str
    unit_value: float | None


def _facts_of(row: asyncpg.Record) -> OperatorFacts:
    if row["op_employee_id"] is None:
        return OperatorFacts(clock_in=None)
    levels = row["q_levels"]  # the arrays are all NULL when no qualification was ever granted here
    return OperatorFacts(
        clock_in=ClockIn(
            row["op_employee_id"], row["op_badge_id"], row["op_station"], row["op_in_at"], row["op_out_at"]
        ),
        qualifications=tuple(
            Qualification(level, valid_from, valid_until, ended_at, end_reason)
            for level, valid_from, valid_until, ended_at, end_reason in zip(
                levels, row["q_from"], row["q_until"], row["q_ended"], row["q_reasons"], strict=True
            )
        )
        if levels is not None
        else (),
        status=row["op_status"],
        status_since=row["op_status_since"],
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """The first answer to a terminal event, stored under its claim so a resend gets it again."""

    terminal: str
    terminal_event_id: str
    status_code: int
    response: str  # JSON
    operator_id: str | None

    def params(self) -> tuple[Any, ...]:
        return (self.terminal, self.terminal_event_id, self.status_code, self.response, self.operator_id)


def _outbox(envelopes: Sequence[Envelope]) -> tuple[list[Any], ...]:
    return (
        [e.id for e in envelopes],
        [e.topic for e in envelopes],
        [e.subject for e in envelopes],
        [e.type for e in envelopes],
        [e.to_bytes() for e in envelopes],
    )
