"""Request and response bodies. The shared input types (mes_shared.inputs) refuse absurd input before it
reaches the domain: control characters, instants outside the plant's years, numbers past the columns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assembly_line.domain import VIN_PATTERN
from mes_shared.inputs import (
    CODE_PATTERN,
    TERMINAL_EVENT_ID_PATTERN,
    Code,
    Instant,
    Measure,
    Name,
    NonBlank,
    Note,
    text,
)
from mes_shared.inputs import TerminalEventId as TerminalEventIdBase

Vin = Annotated[
    str,
    Field(
        min_length=17,
        max_length=17,
        pattern=VIN_PATTERN,
        description="17 characters of A-Z and 0-9, never I, O or Q",
        examples=["1HTMKADN43H561298"],
    ),
]
Severity = Literal["minor", "major", "critical"]
Unit = text(20)
TerminalEventId = Annotated[
    TerminalEventIdBase,
    Field(
        description="The terminal's own id for this event; a resend with the same id is answered from the "
        "first result and changes nothing",
    ),
]
Badge = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN, description="The badge scanned")]
VehicleStatusName = Literal["planned", "in_progress", "completed", "cancelled"]
StepStatusName = Literal["pending", "arrived", "in_progress", "completed"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Page(BaseModel):
    """One page of a long list: `total` matches the filter, `items` start at `offset`."""

    total: int
    limit: int
    offset: int


# ---- lines, models, routes ----------------------------------------------------------------------


class StationIn(Body):
    station_id: Code
    name: Name


class LineIn(Body):
    name: Name
    stations: list[StationIn] = Field(min_length=1, max_length=500, description="The line's stations, in order")


class StationView(BaseModel):
    station_id: str
    name: str
    position: int


class LineView(BaseModel):
    line_id: str
    name: str
    revision: int
    configured_at: datetime
    configured_by: str
    stations: list[StationView]


class VariantIn(Body):
    code: Code
    name: Name


class ModelIn(Body):
    name: Name
    variants: list[VariantIn] = Field(default_factory=list, max_length=200)


class ModelView(BaseModel):
    model: str
    name: str
    variants: list[VariantIn]
    defined_at: datetime
    updated_at: datetime
    updated_by: str


class RouteStepIn(Body):
    station_id: Code
    standard_seconds: float = Field(gt=0, le=86_400, allow_inf_nan=False)


class RouteIn(Body):
    model: Code
    steps: list[RouteStepIn] = Field(min_length=1, max_length=500, description="Stations in the order visited")
    effective_from: Instant | None = Field(
        default=None,
        description="When this version takes effect (a late entry, a replay); default now; never before the "
        "current version's, nor at or before the start of a truck of the model on the line; never in the future, "
        "at most ASSEMBLY_LINE_MAX_EVENT_AGE_DAYS old. Trucks planned or started from then on follow it",
    )


class RouteView(BaseModel):
    line_id: str
    model: str
    version: int
    steps: list[RouteStepIn]
    effective_from: datetime = Field(description="In force from then until the next version's effective_from")
    published_at: datetime = Field(description="When the version was entered")
    published_by: str
    versions: list[int]


# ---- build orders -------------------------------------------------------------------------------


class BuildOrderIn(Body):
    vin: Vin
    model: Code
    variant: Code | None = None
    line_id: Code
    kit_serial: Code = Field(description="A kit kit-receiving released to the line")
    planned_at: Instant | None = Field(
        default=None, description="When the build order was made (a late entry, a replay); default now"
    )


class BuildOrderStart(Body):
    started_at: Instant | None = Field(default=None, description="When the truck entered the line; default now")


class BuildOrderCancel(Body):
    reason: NonBlank
    cancelled_at: Instant | None = Field(
        default=None, description="When it was cancelled; default now; never before the build order was made"
    )


class SendBackIn(Body):
    to_station: Code = Field(description="The station the truck goes back to; every step from there is redone")
    reason: NonBlank
    sent_back_at: Instant | None = Field(
        default=None,
        description="When it was sent back (a rework entered late, a replay); default now. A stated time before "
        "the truck's last recorded event is refused (409 send-back.before-last-event)",
    )


class BuildOrderView(BaseModel):
    vin: str
    model: str
    variant: str | None
    line_id: str
    kit_serial: str
    status: VehicleStatusName
    route_version: int
    current_station: str | None
    held_at: str | None
    open_defects: int
    created_at: datetime
    created_by: str
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


class BuildOrderPage(Page):
    items: list[BuildOrderView]


# ---- station events -----------------------------------------------------------------------------


class _StationEventIn(Body):
    terminal_event_id: TerminalEventId
    occurred_at: Instant = Field(description="When it happened, by the terminal's clock, with its offset")


class ArrivedIn(_StationEventIn):
    """The truck (VIN scanned) arrived at the station; at the first station this starts the build."""

    type: Literal["arrived"]
    vin: Vin
    operator_badge: Badge | None = None


class WorkStartedIn(_StationEventIn):
    type: Literal["work_started"]
    vin: Vin
    operator_badge: Badge


class WorkCompletedIn(_StationEventIn):
    """Work done; at the route's last station this is the end of line (refused while a defect is open)."""

    type: Literal["work_completed"]
    vin: Vin
    operator_badge: Badge


class DefectFoundIn(_StationEventIn):
    type: Literal["defect_found"]
    vin: Vin
    code: Code
    severity: Severity
    caused_at_station: Code = Field(description="The station where the defect was caused (visited already)")
    note: Note = ""
    operator_badge: Badge | None = None


class DefectRepairedIn(_StationEventIn):
    type: Literal["defect_repaired"]
    vin: Vin
    defect_id: Code
    note: Note = ""
    operator_badge: Badge


class AndonRaisedIn(_StationEventIn):
    type: Literal["andon_raised"]
    reason: NonBlank
    stops_line: bool = False
    vin: Vin | None = None
    operator_badge: Badge | None = None


class AndonClearedIn(_StationEventIn):
    type: Literal["andon_cleared"]
    andon_id: Annotated[str, Field(max_length=100, pattern=TERMINAL_EVENT_ID_PATTERN)] | None = Field(
        default=None, description="The open andon this clears; default the station's open one"
    )
    operator_badge: Badge | None = None


class ComponentFittedIn(_StationEventIn):
    type: Literal["component_fitted"]
    vin: Vin
    part_number: Code
    serial: Code
    source: Literal["kit", "local"] | None = Field(
        default=None, description="Default: kit when the part is in the kit's BOM, else local"
    )
    unit_value: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    operator_badge: Badge


class CheckRecordedIn(_StationEventIn):
    """A measured characteristic (torque is one): pass when |value - nominal| <= tolerance."""

    type: Literal["check_recorded"]
    vin: Vin
    characteristic: Code
    value: Measure
    nominal: Measure
    tolerance: float = Field(ge=0, le=1e12, allow_inf_nan=False)
    unit: Unit = ""
    passed: bool | None = Field(default=None, description="The terminal's verdict, if any: must agree")
    defect_code: Code | None = Field(default=None, description="Code of the defect a failure opens")
    defect_severity: Severity = "major"
    operator_badge: Badge


StationEventIn = Annotated[
    ArrivedIn
    | WorkStartedIn
    | WorkCompletedIn
    | DefectFoundIn
    | DefectRepairedIn
    | AndonRaisedIn
    | AndonClearedIn
    | ComponentFittedIn
    | CheckRecordedIn,
    Field(discriminator="type"),
]


class StationEventBatchIn(Body):
    events: list[Any] = Field(
        min_length=1,
        max_length=10_000,
        description="The terminal's backlog in its own order; each item is a station event exactly as for "
        "POST /stations/{station}/events, and each is accepted or refused on its own (an item that is not even "
        "an object is refused alone, like any other malformed item)",
    )


class VehicleState(BaseModel):
    status: VehicleStatusName
    current_station: str | None
    step_status: StepStatusName | None
    open_defects: int
    held_at: str | None


class StationEventResult(BaseModel):
    terminal_event_id: str
    type: str
    station: str
    vin: str | None
    occurred_at: datetime
    accepted_at: datetime
    operator_id: str | None
    published: list[str] = Field(description="Types of the events this produced")
    vehicle: VehicleState | None = None
    defect_id: str | None = None
    andon_id: str | None = None


class BatchItemResult(BaseModel):
    index: int
    terminal_event_id: str | None
    status: int
    outcome: Literal["accepted", "replayed", "refused"]
    result: StationEventResult | None = None
    problem: dict[str, Any] | None = None


class BatchResult(BaseModel):
    station: str
    accepted: int
    replayed: int
    refused: int
    results: list[BatchItemResult]


# ---- queries ------------------------------------------------------------------------------------


class StepView(BaseModel):
    station: str
    standard_seconds: float
    status: StepStatusName
    visits: int
    arrived_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    cycle_seconds: float | None
    started_by: str | None
    completed_by: str | None


class DefectView(BaseModel):
    defect_id: str
    code: str
    severity: Severity
    station: str
    caused_at_station: str
    note: str
    from_check: bool
    found_at: datetime
    found_by: str | None
    status: Literal["open", "repaired"]
    repaired_at: datetime | None
    repaired_by: str | None
    repaired_station: str | None
    repair_note: str


class ComponentView(BaseModel):
    part_number: str
    serial: str
    source: Literal["kit", "local"]
    unit_value: float | None
    station: str
    operator_id: str | None
    fitted_at: datetime


class CheckView(BaseModel):
    station: str
    characteristic: str
    value: float
    nominal: float
    tolerance: float
    unit: str
    passed: bool
    defect_id: str | None
    operator_id: str | None
    at: datetime


class OperatorWork(BaseModel):
    operator_id: str
    station: str
    events: int
    first_at: datetime
    last_at: datetime


class TimelineEntry(BaseModel):
    at: datetime
    type: str
    station: str | None
    actor: str | None
    detail: dict[str, Any]


class KitSummary(BaseModel):
    serial: str
    kit_type: str | None
    bom_version: int | None
    status: str | None
    build_short: bool
    waiting_stations: list[str]


class VehicleView(BaseModel):
    """A truck with its genealogy: kit, route and times per station, parts and serials, operators,
    defects and repairs, checks, and its whole timeline."""

    vin: str
    model: str
    variant: str | None
    line_id: str
    status: VehicleStatusName
    route_version: int
    current_station: str | None
    held_at: str | None
    held_since: datetime | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    lead_time_seconds: float | None
    first_pass: bool | None
    kit: KitSummary
    steps: list[StepView]
    defects: list[DefectView]
    components: list[ComponentView]
    checks: list[CheckView]
    operators: list[OperatorWork]
    timeline: list[TimelineEntry]


class WipTruck(BaseModel):
    vin: str
    model: str
    state: Literal["entering", "arrived", "in_progress", "done", "held"]
    arrived_at: datetime | None
    started_at: datetime | None
    elapsed_seconds: float = Field(description="Time at the station so far (from arrival, or from line entry)")
    standard_seconds: float
    over_standard: bool
    rework: bool
    open_defects: int


class WipStation(BaseModel):
    station_id: str
    name: str
    position: int
    trucks: list[WipTruck]
    count: int
    over_standard: int


class WipView(BaseModel):
    line_id: str
    at: datetime
    total: int
    stations: list[WipStation]


class AndonView(BaseModel):
    andon_id: str
    line_id: str
    station: str
    reason: str
    stops_line: bool
    vin: str | None
    raised_at: datetime
    raised_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    duration_seconds: float | None
    open_seconds: float | None = Field(description="For an open andon: time since it was raised")


class AndonPage(Page):
    items: list[AndonView]


class KitView(BaseModel):
    """Assembly-line's view of a kit, from kit-receiving's events: can a build order take it?"""

    serial: str
    kit_type: str | None
    bom_version: int | None
    model: str | None
    variant: str | None
    status: str
    build_short: bool
    waiting_stations: list[str]
    missing_parts: list[dict[str, Any]]
    vin: str | None
    available: bool
    refusal: str | None = Field(description="The rule a build order with this kit would break now")


class PresentOperator(BaseModel):
    employee_id: str
    badge_id: str
    name: str | None
    since: datetime


class StationDetail(BaseModel):
    station_id: str
    name: str
    line_id: str
    position: int
    active: bool
    open_andon: AndonView | None
    trucks: list[WipTruck]
    operators: list[PresentOperator]
