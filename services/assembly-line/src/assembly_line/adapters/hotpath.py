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
from datetime import UTC, datetime
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
    Route,
    RouteStep,
    Shortage,
    StationAndons,
    Vehicle,
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
_LATEST_ROUTE = """
SELECT version, steps FROM routes WHERE line_id = $1 AND model = $2 ORDER BY version DESC LIMIT 1"""
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

    async def latest_route(self, line_id: str, model: str) -> Route | None:
        row = await self._c.fetchrow(_LATEST_ROUTE, line_id, model)
        if row is None:
            return None
        steps = tuple(RouteStep(s["station_id"], float(s["standard_seconds"])) for s in row["steps"])
        return Route(line_id, model, row["version"], steps)

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
