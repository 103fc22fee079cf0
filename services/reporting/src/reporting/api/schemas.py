"""Request bodies and response views. Every view also knows its CSV rows (`rows()`): the table a
spreadsheet wants, one row per line item, nested figures flattened into columns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mes_shared.inputs import PlantDate
from reporting.domain.periods import PeriodKind

Rating = Literal["good", "fair", "low"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class View(BaseModel):
    # The list field whose items are the CSV rows: it names the columns of an empty table.
    csv_items: ClassVar[str | None] = None

    def rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def columns(self) -> list[str]:
        if self.csv_items is None:
            return []
        args = get_args(type(self).model_fields[self.csv_items].annotation)
        model = args[0] if args else None
        return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


class Page(View):
    """One page of a long list: `total` matches the filter, `items` start at `offset`."""

    csv_items: ClassVar[str | None] = "items"
    total: int
    limit: int
    offset: int
    items: list[Any]

    def rows(self) -> list[dict[str, Any]]:
        return [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in self.items]


# ---- targets --------------------------------------------------------------------------------------


class AnnualTargetIn(Body):
    annual: int = Field(ge=0, le=1_000_000, description="Trucks planned for the year on this line")
    monthly: dict[str, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict,
        max_length=12,
        description='Optional fixed months, {"1": 120, ...}; the other months share the rest by planned working time',
    )

    @field_validator("monthly")
    @classmethod
    def _months(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [m for m in value if not (m.isdigit() and 1 <= int(m) <= 12 and str(int(m)) == m)]
        if bad:
            raise ValueError(f"months are the numbers 1 to 12 as strings, not {', '.join(sorted(bad))}")
        return value


class MonthTargetOut(BaseModel):
    month: int
    target: float
    fixed: bool
    working_days: int
    planned_hours: float
    takt_minutes: float | None = Field(description="Planned minutes per truck in this month")


class AnnualTargetView(View):
    csv_items: ClassVar[str | None] = "months"
    line_id: str
    year: int
    annual: int
    monthly_fixed: dict[str, int]
    months: list[MonthTargetOut]
    placeable: float = Field(description="Part of the annual target that falls on planned working time")
    warnings: list[str]
    updated_at: datetime
    updated_by: str

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, "year": self.year, **m.model_dump()} for m in self.months]


class RampPointIn(Body):
    date: PlantDate
    wip: int = Field(ge=0, le=100_000)


class WipRampIn(Body):
    points: list[RampPointIn] = Field(
        min_length=1, max_length=366, description="WIP goals by date, e.g. 50 by 2026-01-31"
    )


class WipRampView(View):
    csv_items: ClassVar[str | None] = "points"
    line_id: str
    points: list[RampPointIn]
    goal_today: float | None
    next_point: RampPointIn | None
    updated_at: datetime
    updated_by: str

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, "date": p.date.isoformat(), "wip": p.wip} for p in self.points]


# ---- output ---------------------------------------------------------------------------------------


class PeriodOutput(BaseModel):
    period: PeriodKind
    label: str
    start: datetime
    end: datetime
    running: bool = Field(description="`at` falls inside the period")
    actual: int
    target: float = Field(description="Target of the whole period")
    target_to_now: float = Field(description="Target of the period up to `at`")
    gap: float = Field(description="actual - target_to_now")
    attainment: float | None = Field(description="actual / target_to_now")


class ForecastOut(BaseModel):
    year_end: float
    low: float | None
    high: float | None
    run_rate: float = Field(description="Trucks per planned working day over the last days_observed working days")
    std_dev: float | None
    days_observed: int
    remaining_working_days: float
    method: str


class YearOutput(BaseModel):
    year: int
    annual_target: int | None
    actual: int
    plan_to_date: float
    gap: float
    remaining_working_days: float
    required_daily_rate: float | None = Field(description="Trucks per working day now needed to meet the annual plan")
    planned_daily_rate: float | None = Field(description="The plan's trucks per working day this month")
    forecast: ForecastOut
    forecast_gap: float | None = Field(description="forecast year end - annual target")
    on_track: bool | None = Field(description="The forecast reaches the annual target")


class OutputSummary(View):
    csv_items: ClassVar[str | None] = "periods"
    line_id: str
    at: datetime
    time_zone: str
    periods: list[PeriodOutput]
    year: YearOutput
    warnings: list[str]

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, **p.model_dump(mode="json")} for p in self.periods]


class SeriesPoint(BaseModel):
    label: str
    start: datetime
    end: datetime
    actual: int
    target: float
    gap: float
    cumulative_actual: int
    cumulative_target: float


class OutputSeries(View):
    csv_items: ClassVar[str | None] = "points"
    line_id: str
    bucket: PeriodKind
    start: datetime
    end: datetime
    time_zone: str
    points: list[SeriesPoint]

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, "bucket": self.bucket, **p.model_dump(mode="json")} for p in self.points]


class CurvePoint(BaseModel):
    date: date
    working_day: bool
    plan_day: float
    plan_cumulative: float
    actual_day: int | None
    actual_cumulative: int | None
    forecast_cumulative: float | None
    forecast_low: float | None
    forecast_high: float | None


class OutputCurve(View):
    csv_items: ClassVar[str | None] = "points"
    line_id: str
    year: int
    at: datetime
    time_zone: str
    annual_target: int | None
    forecast: ForecastOut
    points: list[CurvePoint]
    warnings: list[str]

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, **p.model_dump(mode="json")} for p in self.points]


class CompletionOut(BaseModel):
    vin: str
    model: str | None
    completed_at: datetime
    local_date: date
    shift: str | None
    lead_time_seconds: float | None
    first_pass: bool | None
    defect_count: int | None


class CompletionPage(Page):
    line_id: str
    start: datetime
    end: datetime
    items: list[CompletionOut]


# ---- WIP and flow ---------------------------------------------------------------------------------


class WipTruck(BaseModel):
    vin: str
    line_id: str
    model: str | None
    station: str
    status: str
    since: datetime
    age_seconds: float
    standard_seconds: float | None
    age_ratio: float | None = Field(description="age at the station / standard time")
    over_standard: bool
    held: bool
    build_short: bool
    started_at: datetime | None


class WipStation(BaseModel):
    station: str
    name: str | None
    position: int | None
    trucks: int
    held: int
    over_standard: int
    oldest_age_seconds: float | None
    mean_age_seconds: float | None
    standard_seconds: float | None


class RampOut(BaseModel):
    goal_today: float | None
    next_date: date | None
    next_goal: int | None
    gap: float | None


class WipView(View):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str | None
    at: datetime
    total: int
    takt_seconds: float | None = Field(description="Planned working seconds per truck at the current plan rate")
    stations: list[WipStation]
    ramp: RampOut | None

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, **s.model_dump(mode="json")} for s in self.stations]


class WipTruckPage(Page):
    items: list[WipTruck]


class StatsOut(BaseModel):
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    min: float | None
    max: float | None


class LeadTimeModel(BaseModel):
    model: str
    hours: StatsOut


class LeadTimeView(View):
    line_id: str | None
    start: datetime
    end: datetime
    hours: StatsOut
    by_model: list[LeadTimeModel]

    def rows(self) -> list[dict[str, Any]]:
        out = [{"model": "all", **self.hours.model_dump()}]
        return out + [{"model": m.model, **m.hours.model_dump()} for m in self.by_model]


class CycleStation(BaseModel):
    station: str
    name: str | None
    position: int | None
    cycles: int
    rework_cycles: int
    cycle_seconds: StatsOut
    standard_seconds: float | None = Field(description="Mean standard time of the cycles")
    ratio_to_standard: float | None
    ratio_to_takt: float | None
    bottleneck: bool


class Bottleneck(BaseModel):
    station: str
    mean_cycle_seconds: float
    standard_seconds: float | None
    takt_seconds: float | None
    reason: str


class CycleTimeView(View):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str | None
    start: datetime
    end: datetime
    takt_seconds: float | None
    stations: list[CycleStation]
    bottleneck: Bottleneck | None

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for s in self.stations:
            row = s.model_dump(mode="json", exclude={"cycle_seconds"})
            row.update({f"cycle_{k}": v for k, v in s.cycle_seconds.model_dump().items()})
            rows.append(row)
        return rows


# ---- quality --------------------------------------------------------------------------------------


class QualityView(View):
    line_id: str | None
    start: datetime
    end: datetime
    completed: int
    first_pass: int
    fpy: float | None
    defects_on_completed: int
    dpu: float | None
    defects_found: int
    open_defects: int

    def rows(self) -> list[dict[str, Any]]:
        return [self.model_dump(mode="json")]


class ParetoItemOut(BaseModel):
    key: str
    count: int
    share: float
    cumulative_share: float


class ParetoView(View):
    csv_items: ClassVar[str | None] = "items"
    line_id: str | None
    start: datetime
    end: datetime
    by: Literal["code", "station", "caused_at"]
    total: int
    items: list[ParetoItemOut]

    def rows(self) -> list[dict[str, Any]]:
        return [{"by": self.by, **i.model_dump()} for i in self.items]


# ---- lost time ------------------------------------------------------------------------------------


class AndonBucket(BaseModel):
    station: str
    shift_date: date | None
    shift: str | None
    andons: int = Field(description="Andons raised in this bucket")
    lost_minutes: float = Field(description="Minutes between raise and clear inside this bucket")
    line_stop_minutes: float = Field(description="Of which the line was stopped")


class AndonStation(BaseModel):
    station: str
    andons: int
    lost_minutes: float
    line_stop_minutes: float


class AndonShift(BaseModel):
    shift_date: date | None
    shift: str | None
    andons: int
    lost_minutes: float
    line_stop_minutes: float = Field(description="Minutes the line stood still (overlapping stops counted once)")


class AndonView(View):
    csv_items: ClassVar[str | None] = "buckets"
    line_id: str | None
    start: datetime
    end: datetime
    total_andons: int
    total_lost_minutes: float
    by_station: list[AndonStation]
    by_shift: list[AndonShift]
    buckets: list[AndonBucket]

    def rows(self) -> list[dict[str, Any]]:
        return [b.model_dump(mode="json") for b in self.buckets]


class OpenAndon(BaseModel):
    line_id: str
    andon_id: str
    station: str | None
    reason: str | None
    raised_by: str | None
    vin: str | None
    stops_line: bool | None
    raised_at: datetime | None
    open_minutes: float | None


class OpenAndonPage(Page):
    items: list[OpenAndon]


class OeeStation(BaseModel):
    station: str
    name: str | None
    position: int | None
    planned_minutes: float
    downtime_minutes: float
    run_minutes: float
    ideal_minutes: float
    units: int
    good_units: int
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    rating: Rating | None


class OeeView(View):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str
    start: datetime
    end: datetime
    stations: list[OeeStation]

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, **s.model_dump(mode="json")} for s in self.stations]


# ---- kits -----------------------------------------------------------------------------------------


class HeldTruck(BaseModel):
    vin: str
    line_id: str | None
    station: str
    kit_serial: str | None
    held_at: datetime | None
    held_minutes: float | None
    missing_parts: list[dict[str, Any]]


class KitsView(View):
    at: datetime
    scope: str = Field(description="Which kits are counted: one kit type, the kit types a line builds, or the plant")
    by_status: dict[str, int]
    on_hand: int = Field(description="Quarantined + received + released, not yet consumed by a build")
    usable: int = Field(description="Received (clear) + released: can go to the line")
    quarantined: int
    in_transit: int
    next_arrival: datetime | None
    planned_daily_rate: float | None
    days_of_supply: float | None = Field(description="usable / planned trucks per working day")
    days_of_supply_with_quarantined: float | None
    open_discrepancies_by_claim_code: dict[str, int]
    accepted_shortages: int
    trucks_held_by_shortage: int
    build_short_in_production: int
    held_trucks: list[HeldTruck]
    note: str | None

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [{"figure": f"status:{k}", "value": v} for k, v in sorted(self.by_status.items())]
        for name in (
            "on_hand",
            "usable",
            "quarantined",
            "in_transit",
            "planned_daily_rate",
            "days_of_supply",
            "days_of_supply_with_quarantined",
            "accepted_shortages",
            "trucks_held_by_shortage",
            "build_short_in_production",
        ):
            rows.append({"figure": name, "value": getattr(self, name)})
        rows += [
            {"figure": f"open_discrepancies:{k}", "value": v}
            for k, v in sorted(self.open_discrepancies_by_claim_code.items())
        ]
        return rows


class DiscrepancyOut(BaseModel):
    serial: str
    discrepancy_id: str
    claim_code: str | None
    part_number: str | None
    quantity: int | None
    station: str | None
    status: str | None
    resolution: str | None
    recorded_at: datetime | None
    resolved_at: datetime | None
    kit_status: str | None


class DiscrepancyPage(Page):
    items: list[DiscrepancyOut]


class HeldTruckPage(Page):
    items: list[HeldTruck]


# ---- people ---------------------------------------------------------------------------------------


class HeadcountView(View):
    as_of: date
    total: int
    by_origin: dict[str, int]
    by_status: dict[str, int]
    matrix: list[dict[str, Any]] = Field(description="One entry per (origin, status) with its count")

    def rows(self) -> list[dict[str, Any]]:
        return list(self.matrix)


class RecallGoalOut(BaseModel):
    goal_id: str
    target_count: int
    by_date: date
    note: str | None
    recalled: int
    remaining: int
    progress: float
    days_left: int
    expected_by_now: float | None = Field(description="Linear pace from the day the goal was set")
    on_track: bool | None


class RecallView(View):
    csv_items: ClassVar[str | None] = "goals"
    as_of: date
    idle_now: int
    recalled_total: int
    goals: list[RecallGoalOut]

    def rows(self) -> list[dict[str, Any]]:
        return [g.model_dump(mode="json") for g in self.goals]


class StaffingRow(BaseModel):
    line_id: str
    date: date
    shift: str
    station: str
    required: int
    rostered: int
    unqualified_rostered: int
    clocked_in: int = Field(description="Different people who clocked in at the station for this shift")
    present: int = Field(description="Clocked in and not out at `at`")
    coverage: float | None = Field(description="clocked_in / required")
    rostered_coverage: float | None


class StaffingView(View):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str
    date: date
    at: datetime
    shifts: list[str]
    stations: list[StaffingRow]
    required: int
    clocked_in: int
    present: int
    coverage: float | None

    def rows(self) -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in self.stations]


class ExpiringQualification(BaseModel):
    employee_id: str
    name: str | None
    badge_id: str | None
    station: str
    level: str | None
    valid_until: datetime
    days_left: float


class ExpiringPage(Page):
    at: datetime
    within_days: int
    items: list[ExpiringQualification]


# ---- localisation ---------------------------------------------------------------------------------


class LocalisationFigures(BaseModel):
    trucks: int
    local_parts: int
    total_parts: int
    rate_by_count: float | None
    local_value: float
    known_value: float
    rate_by_value: float | None
    parts_with_value: int
    serialised_parts: int


class LocalisationModel(LocalisationFigures):
    model: str


class LocalisationView(View):
    line_id: str | None
    start: datetime
    end: datetime
    overall: LocalisationFigures
    by_model: list[LocalisationModel]
    method: str

    def rows(self) -> list[dict[str, Any]]:
        return [{"model": "all", **self.overall.model_dump()}] + [m.model_dump() for m in self.by_model]


# ---- lines ----------------------------------------------------------------------------------------


class StationOut(BaseModel):
    station_id: str
    name: str
    position: int


class LineOut(BaseModel):
    line_id: str
    name: str | None
    stations: list[StationOut]
    time_zone: str
    calendar_version: int | None
    target_years: list[int]
    has_wip_ramp: bool


class LinesView(View):
    csv_items: ClassVar[str | None] = "lines"
    lines: list[LineOut]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                **line.model_dump(mode="json", exclude={"stations", "target_years"}),
                "stations": len(line.stations),
                "target_years": " ".join(map(str, line.target_years)),
            }
            for line in self.lines
        ]


class CalendarDay(BaseModel):
    date: date
    working_day: bool
    calendar_version: int | None
    shifts: list[str]
    planned_minutes: float
    target: float | None


class CalendarView(View):
    csv_items: ClassVar[str | None] = "days"
    line_id: str
    time_zone: str
    days: list[CalendarDay]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"line_id": self.line_id, **{**d.model_dump(mode="json"), "shifts": " ".join(d.shifts)}} for d in self.days
        ]


# ---- dashboard and admin --------------------------------------------------------------------------


class StaffingSummary(BaseModel):
    shift: str | None
    required: int
    clocked_in: int
    present: int
    coverage: float | None


class DashboardView(View):
    line_id: str
    at: datetime
    time_zone: str
    generation: int
    output: OutputSummary
    curve: OutputCurve
    wip: WipView
    open_andons: list[OpenAndon]
    quality: QualityView
    kits: KitsView
    staffing: StaffingSummary
    bottleneck: Bottleneck | None

    def rows(self) -> list[dict[str, Any]]:
        out = [{"figure": f"output.{p.period}.actual", "value": p.actual} for p in self.output.periods]
        out += [{"figure": f"output.{p.period}.target_to_now", "value": p.target_to_now} for p in self.output.periods]
        out += [
            {"figure": "year.forecast", "value": self.output.year.forecast.year_end},
            {"figure": "wip.total", "value": self.wip.total},
            {"figure": "andons.open", "value": len(self.open_andons)},
            {"figure": "quality.fpy", "value": self.quality.fpy},
            {"figure": "kits.usable", "value": self.kits.usable},
            {"figure": "kits.days_of_supply", "value": self.kits.days_of_supply},
            {"figure": "staffing.coverage", "value": self.staffing.coverage},
        ]
        return out


class RebuildView(View):
    id: int
    schema_name: str
    status: str
    requested_by: str
    started_at: datetime
    finished_at: datetime | None
    records_read: int
    events_applied: int
    end_offsets: dict[str, int]
    detail: str | None

    def rows(self) -> list[dict[str, Any]]:
        return [self.model_dump(mode="json", exclude={"end_offsets"})]


class ProjectionStatus(View):
    generation: int
    schema_name: str
    layout: str
    code_layout: str
    swapped_at: datetime
    positions: dict[str, int]
    records: int = Field(description="Log records folded (sum of the positions)")
    rebuild_running: bool

    def rows(self) -> list[dict[str, Any]]:
        return [{"partition": k, "next_offset": v} for k, v in sorted(self.positions.items())]
