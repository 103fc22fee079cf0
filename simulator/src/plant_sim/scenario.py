"""Scenarios: the plant the simulator runs, as data (YAML or JSON), validated before anything is sent.

`first-plant` (the default) starts like the first plant: one line of ten stations, two truck models, one
shift of 450 net minutes, about 300 people transferred on day one and 120 idle ones recalled over the first
weeks, 18 trucks in assembly on day one ramping to 50, toward 2,000 trucks in the first full year.
`compact` is a small plant with two shifts on every day of the week, sized for tests and quick looks.
`python -m plant_sim scenario [name]` prints one; every field is described in simulator/README.md.
"""

from __future__ import annotations

from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from plant_sim.calendar import PlantCalendar, ShiftPattern

Code = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Share = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
BUILTIN = ("first-plant", "compact")
DEFAULT = "first-plant"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(Spec):
    """A uniform range [low, high]."""

    low: Annotated[float, Field(ge=0)]
    high: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


# ---- calendar -----------------------------------------------------------------------------------


class BreakSpec(Spec):
    start: time
    end: time


class ShiftSpec(Spec):
    code: Code
    start: time = Field(description="Local wall-clock time")
    end: time = Field(description="At or before start: the shift crosses midnight")
    breaks: list[BreakSpec] = Field(default_factory=list, max_length=6)


class CalendarSpec(Spec):
    time_zone: str
    working_days: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=7)
    holidays: list[date] = Field(default_factory=list)
    shifts: list[ShiftSpec] = Field(min_length=1, max_length=3)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        codes = [s.code for s in self.shifts]
        if len(set(codes)) != len(codes):
            raise ValueError(f"shift codes must be distinct: {codes}")
        if len(set(self.working_days)) != len(self.working_days):
            raise ValueError(f"working days list a weekday twice: {self.working_days}")
        return self

    def plant_calendar(self, valid_from: date) -> PlantCalendar:
        return PlantCalendar(
            time_zone=self.time_zone,
            working_days=frozenset(self.working_days),
            holidays=frozenset(self.holidays),
            shifts=tuple(
                ShiftPattern(s.code, s.start, s.end, tuple((b.start, b.end) for b in s.breaks)) for s in self.shifts
            ),
            valid_from=valid_from,
        )


# ---- line ---------------------------------------------------------------------------------------


class PartSpec(Spec):
    part: Code
    description: Text
    quantity: int = Field(default=1, ge=1, le=100)


class ComponentSpec(Spec):
    """A part fitted with its serial number scanned (`component_fitted`). A kit component is in the kit's
    BOM; a local one is bought near the plant (localisation), with its unit value."""

    part: Code
    description: Text
    source: Literal["kit", "local"]
    unit_value: Annotated[float, Field(ge=0, le=1e7)] | None = None


class CheckSpec(Spec):
    """A measured characteristic (torque is one): pass when |value - nominal| <= tolerance."""

    characteristic: Code
    nominal: float
    tolerance: Positive
    unit: Annotated[str, Field(max_length=20)] = ""


class StationSpec(Spec):
    id: Code
    name: Text
    bays: int = Field(ge=1, le=50, description="Trucks worked on at once")
    standard_minutes: Positive = Field(le=1440, description="Standard working time per truck")
    crew: int = Field(ge=1, le=200, description="Operators required per shift")
    parts: list[PartSpec] = Field(default_factory=list, max_length=50)
    components: list[ComponentSpec] = Field(default_factory=list, max_length=10)
    checks: list[CheckSpec] = Field(default_factory=list, max_length=10)


class LineSpec(Spec):
    id: Code
    name: Text
    stations: list[StationSpec] = Field(min_length=2, max_length=40)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        ids = [s.id for s in self.stations]
        if len(set(ids)) != len(ids):
            raise ValueError(f"station ids must be distinct: {ids}")
        parts = [p.part for s in self.stations for p in s.parts] + [
            c.part for s in self.stations for c in s.components if c.source == "kit"
        ]
        if len(set(parts)) != len(parts):
            raise ValueError("a part number may be listed once per line (parts and kit components)")
        return self


class VariantSpec(Spec):
    code: Code
    name: Text
    share: Share = 1.0


class ModelSpec(Spec):
    code: Code
    name: Text
    share: Share
    standard_factor: Positive = Field(default=1.0, le=5)
    variants: list[VariantSpec] = Field(min_length=1, max_length=10)


# ---- production, people, kits, quality, andons ------------------------------------------------------


class RampPoint(Spec):
    working_day: int = Field(ge=1, description="1 = the first working day of the run")
    wip: int = Field(ge=1, le=10_000)


class ProductionSpec(Spec):
    annual_target: int = Field(ge=1, le=1_000_000, description="Trucks planned for a full year")
    wip_ramp: list[RampPoint] = Field(min_length=1, max_length=50)
    entry_gap_minutes: Positive = Field(description="Least working time between two trucks entering the line")
    move_minutes: Annotated[float, Field(ge=0, le=120)] = 5.0
    learning_initial_factor: float = Field(default=1.5, ge=1, le=5, description="Cycle times on day one vs standard")
    learning_half_life_days: Positive = Field(default=30, description="Working days to halve the learning excess")
    cycle_time_cv: float = Field(default=0.12, ge=0, le=1, description="Variation of cycle times (lognormal)")
    rework_held_share: Share = Field(
        default=0.0,
        description="Share of trucks held for a missing part (past the first station) that a supervisor sends back "
        "to the station before for rework while they wait; they come back and are held again",
    )

    @field_validator("wip_ramp")
    @classmethod
    def _ramp(cls, points: list[RampPoint]) -> list[RampPoint]:
        days = [p.working_day for p in points]
        if days != sorted(set(days)):
            raise ValueError("WIP ramp points must have increasing working days")
        return points


class RecallSpec(Spec):
    goal: int = Field(ge=0, description="Idle people to recall")
    by_day: int = Field(ge=1, le=3660, description="... by this calendar day of the run (1 = first day)")
    first_day: int = Field(default=2, ge=1)
    per_working_day: int = Field(ge=0, le=1000)


class PeopleSpec(Spec):
    transferred_active: int = Field(ge=1, le=20_000)
    transferred_idle: int = Field(ge=0, le=20_000)
    recall: RecallSpec
    new_hires_per_month: Annotated[float, Field(ge=0, le=1000)] = 0
    leavers_per_month: Annotated[float, Field(ge=0, le=1000)] = 0
    hiring_from_day: int = Field(default=30, ge=1)
    absence_rate: Share = 0.03
    late_rate: Share = 0.05
    forgot_clock_out_rate: Share = 0.02
    trainee_working_days: int = Field(default=20, ge=0, le=400)
    qualification_days: Range = Field(description="Validity of a grant, in days after the run's window")
    support_skills: list[Code] = Field(min_length=1, max_length=20)
    spare_crew_share: Share = Field(default=0.25, description="Extra operators a station takes beyond its crew")
    history_grants: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="People with a past qualification from the training record on another station (granted 300 "
        "days before the run): the first expired before the run, the next expiring on its second day, in turn",
    )
    leavers_last_scans_late: bool = Field(
        default=False,
        description="A leaver's scans on a shift after they were chosen to leave reach workforce only after HR "
        "recorded the leave (a terminal offline): a late clock-in of someone who left since",
    )


class CarrierSpec(Spec):
    name: Text
    origin: Text
    share: Share


class DiscrepancySpec(Spec):
    rate: Share = Field(description="Share of kits with a discrepancy at receipt")
    shortage_share: Share = Field(description="... of which a part is missing (M or S)")
    damage_share: Share = Field(description="... damaged (D, DT or DP); the rest rusted (A, written off)")
    build_short_share: Share = Field(description="Shortages accepted for a build-short release")
    replacement_days: Range
    decision_hours: Range


class KitsSpec(Spec):
    initial_stock: int = Field(ge=0, le=10_000, description="Kits received early on the first working day")
    shipment_every_days: int = Field(ge=1, le=60)
    target_days_of_supply: Positive = Field(
        le=120, description="Each ASN tops kits on hand and in transit up to this many days of the plan"
    )
    announce_ahead_days: Annotated[float, Field(ge=0, le=60)] = 7
    docks: list[Code] = Field(min_length=1, max_length=10)
    carriers: list[CarrierSpec] = Field(min_length=1, max_length=10)
    discrepancies: DiscrepancySpec
    release_minutes: Range


class DefectSpec(Spec):
    code: Code
    severity: Literal["minor", "major", "critical"]
    share: Share = 1.0


class QualitySpec(Spec):
    defect_rate: Share = Field(description="Share of trucks with a defect found (and repaired) on the line")
    defects: list[DefectSpec] = Field(min_length=1, max_length=50)
    found_at_end_share: Share = Field(default=0.6, description="Defects found at the last station")
    check_failure_rate: Share
    repair_minutes: Range


class AndonSpec(Spec):
    per_station_shift: Annotated[float, Field(ge=0, le=20)]
    stops_line_share: Share
    minutes: Range
    reasons: list[Text] = Field(min_length=1, max_length=20)


class Scenario(Spec):
    name: Code
    description: Annotated[str, Field(max_length=2000)] = ""
    calendar: CalendarSpec
    line: LineSpec
    models: list[ModelSpec] = Field(min_length=1, max_length=20)
    production: ProductionSpec
    people: PeopleSpec
    kits: KitsSpec
    quality: QualitySpec
    andons: AndonSpec

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        codes = [m.code for m in self.models]
        if len(set(codes)) != len(codes):
            raise ValueError(f"model codes must be distinct: {codes}")
        if not any(m.share for m in self.models):
            raise ValueError("at least one model needs a share above 0")
        needed = sum(s.crew for s in self.line.stations) * len(self.calendar.shifts)
        if self.people.transferred_active < needed:
            raise ValueError(
                f"transferred_active ({self.people.transferred_active}) cannot staff the line: the stations' crews "
                f"need {needed} people over {len(self.calendar.shifts)} shift(s)"
            )
        if self.people.recall.goal > self.people.transferred_idle:
            raise ValueError(
                f"the recall goal ({self.people.recall.goal}) exceeds the idle people ({self.people.transferred_idle})"
            )
        return self


class ScenarioError(Exception):
    """The scenario file is missing, unreadable or breaks a rule; the message says where."""


def _parse(text: str, where: str) -> Scenario:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where} is not valid YAML or JSON: {exc}") from exc
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise ScenarioError(f"{where} is not a valid scenario:\n" + "\n".join(lines)) from exc


def builtin_text(name: str = DEFAULT) -> str:
    if name not in BUILTIN:
        raise ScenarioError(f"no built-in scenario {name!r}; built in: {', '.join(BUILTIN)}")
    return (resources.files("plant_sim") / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")


def load(source: str | Path | None = None) -> Scenario:
    """A built-in scenario by name (default first-plant), or a YAML/JSON file by path."""
    if source is None or str(source) in BUILTIN:
        name = DEFAULT if source is None else str(source)
        return _parse(builtin_text(name), f"built-in scenario {name}")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from exc
    return _parse(text, str(path))
