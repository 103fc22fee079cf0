"""Contracts of the vehicles domain (topic `mes.vehicles`, key VIN), published by assembly-line.

Every station event carries the station, the line, when it happened at the terminal (`time` of the
envelope) and the terminal's own event id, so reporting can compute output, WIP, cycle and lead times,
FPY, DPU and localisation from these events alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mes_shared.envelope import EventData
from mes_shared.topics import VEHICLES

Severity = Literal["minor", "major", "critical"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MissingPartHold(_Part):
    part_number: str
    quantity: int
    station: str


class _VehicleEvent(EventData):
    topic: ClassVar[str] = VEHICLES.name
    producer: ClassVar[str] = "assembly-line"
    key: ClassVar[str] = "VIN"
    vin: str


class BuildOrderCreated(_VehicleEvent):
    """A VIN bound to a model, its route version and a kit that kit-receiving released."""

    event_type: ClassVar[str] = "mes.build-order.created.v1"
    model: str
    line_id: str
    route_version: int
    kit_serial: str
    build_short: bool
    waiting_stations: list[str]
    # The model's variant, when the build order names one.
    variant: str | None = None


class BuildOrderCancelled(_VehicleEvent):
    """A build order withdrawn before its truck entered the line; its kit is free for another VIN."""

    event_type: ClassVar[str] = "mes.build-order.cancelled.v1"
    line_id: str
    kit_serial: str
    reason: str
    by: str


class BuildStarted(_VehicleEvent):
    """The truck entered the line at its first station: the kit is consumed (kit-receiving follows this)."""

    event_type: ClassVar[str] = "mes.vehicle.build-started.v1"
    model: str
    line_id: str
    kit_serial: str
    station: str
    # The route version the truck follows to the end of line (the model's current one when it started).
    route_version: int | None = None


class _StationEvent(_VehicleEvent):
    line_id: str
    station: str
    terminal_event_id: str
    operator_id: str | None


class VehicleArrived(_StationEvent):
    event_type: ClassVar[str] = "mes.vehicle.arrived.v1"
    # A visit again after a send-back for rework.
    rework: bool = False


class WorkStarted(_StationEvent):
    event_type: ClassVar[str] = "mes.vehicle.work-started.v1"
    rework: bool = False


class WorkCompleted(_StationEvent):
    """Work at the station is done; cycle time is from work started to this event."""

    event_type: ClassVar[str] = "mes.vehicle.work-completed.v1"
    cycle_seconds: float = Field(ge=0)
    standard_seconds: float = Field(ge=0)
    rework: bool


class DefectFound(_StationEvent):
    event_type: ClassVar[str] = "mes.vehicle.defect-found.v1"
    defect_id: str
    code: str
    severity: Severity
    caused_at_station: str
    note: str
    # Opened by a failed check rather than by an inspector.
    from_check: bool


class DefectRepaired(_StationEvent):
    event_type: ClassVar[str] = "mes.vehicle.defect-repaired.v1"
    defect_id: str
    code: str
    note: str


class ComponentFitted(_StationEvent):
    """A serialised part fitted to the truck (genealogy). `source` says whether it came in the kit."""

    event_type: ClassVar[str] = "mes.vehicle.component-fitted.v1"
    part_number: str
    serial: str
    source: Literal["kit", "local"]
    unit_value: float | None


class CheckRecorded(_StationEvent):
    """A measured characteristic (torque is one); a failed check also opens a defect."""

    event_type: ClassVar[str] = "mes.vehicle.check-recorded.v1"
    characteristic: str
    value: float
    nominal: float
    tolerance: float
    unit: str
    passed: bool
    # The defect a failed check opened (its DefectFound follows with from_check true).
    defect_id: str | None = None


class SentBackForRework(_VehicleEvent):
    """A supervisor sent the truck back to an earlier station; it may visit stations again from there."""

    event_type: ClassVar[str] = "mes.vehicle.sent-back.v1"
    line_id: str
    from_station: str
    to_station: str
    reason: str
    by: str


class VehicleHeld(_VehicleEvent):
    """A build-short truck reached a station that fits a part it lacks, and waits there."""

    event_type: ClassVar[str] = "mes.vehicle.held.v1"
    line_id: str
    station: str
    kit_serial: str
    missing_parts: list[MissingPartHold]


class VehicleHoldReleased(_VehicleEvent):
    """The truck may go on: its missing part arrived, or it was sent back for rework away from the station.

    `part_arrived`: kit-receiving resolved the shortage. `sent_back`: a supervisor moved it away; it is held
    again if it returns while the part is still missing.
    """

    event_type: ClassVar[str] = "mes.vehicle.hold-released.v1"
    line_id: str
    station: str
    kit_serial: str
    reason: Literal["part_arrived", "sent_back"] = "part_arrived"
    # From VehicleHeld to this event: time the truck stood waiting for the part.
    held_seconds: float | None = Field(default=None, ge=0)


class VehicleCompleted(_VehicleEvent):
    """End of line passed: one truck of output. First pass means no defect was ever recorded on it."""

    event_type: ClassVar[str] = "mes.vehicle.completed.v1"
    model: str
    line_id: str
    station: str
    kit_serial: str
    started_at: datetime
    lead_time_seconds: float = Field(ge=0)
    defect_count: int = Field(ge=0)
    first_pass: bool
