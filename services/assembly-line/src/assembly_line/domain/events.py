"""Domain events raised by the truck and the andon rules.

Plain values with no envelope: the application layer maps them to the versioned contracts of the
shared catalogue (`service/wire.py`) and writes them to the outbox in the same transaction as the state.
`at` is when the fact happened (the terminal's time for station events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingPart:
    part_number: str
    quantity: int
    station: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleEvent:
    vin: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOrderCreated(VehicleEvent):
    model: str
    variant: str | None
    line_id: str
    route_version: int
    kit_serial: str
    build_short: bool
    waiting_stations: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOrderCancelled(VehicleEvent):
    line_id: str
    kit_serial: str
    reason: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildStarted(VehicleEvent):
    model: str
    line_id: str
    kit_serial: str
    station: str
    route_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StationFact(VehicleEvent):
    """Something a terminal reported at a station."""

    line_id: str
    station: str
    terminal_event_id: str
    operator_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleArrived(StationFact):
    rework: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkStarted(StationFact):
    rework: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkCompleted(StationFact):
    cycle_seconds: float
    standard_seconds: float
    rework: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DefectFound(StationFact):
    defect_id: str
    code: str
    severity: str
    caused_at_station: str
    note: str
    from_check: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DefectRepaired(StationFact):
    defect_id: str
    code: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentFitted(StationFact):
    part_number: str
    serial: str
    source: str  # "kit" | "local"
    unit_value: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRecorded(StationFact):
    characteristic: str
    value: float
    nominal: float
    tolerance: float
    unit: str
    passed: bool
    defect_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SentBackForRework(VehicleEvent):
    line_id: str
    from_station: str
    to_station: str
    reason: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleHeld(VehicleEvent):
    line_id: str
    station: str
    kit_serial: str
    missing_parts: tuple[MissingPart, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleHoldReleased(VehicleEvent):
    line_id: str
    station: str
    kit_serial: str
    reason: str  # "part_arrived" | "sent_back"
    held_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleCompleted(VehicleEvent):
    model: str
    line_id: str
    station: str
    kit_serial: str
    started_at: datetime
    lead_time_seconds: float
    defect_count: int
    first_pass: bool


# ---- andons (keyed by station) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AndonRaised:
    andon_id: str
    line_id: str
    station: str
    reason: str
    raised_by: str | None
    stops_line: bool
    vin: str | None
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AndonCleared:
    andon_id: str
    line_id: str
    station: str
    cleared_by: str | None
    duration_seconds: float
    stops_line: bool
    at: datetime
