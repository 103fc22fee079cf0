"""Request bodies and response views. Every view also knows its CSV rows (`rows()`): the table a
spreadsheet wants, one row per line item, nested figures flattened into columns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mes_shared.inputs import PlantDate
from reporting.api.definitions import AS_PLANNED_NOW, define
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


class PlannedNow(BaseModel):
    """Part of every view that takes `at=` (or `as_of=`): says which of its figures are read from a plan as set
    now rather than as it was known then."""

    as_planned_now: list[str] = Field(description=AS_PLANNED_NOW)


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
    target: float = Field(description=define("targets"))
    fixed: bool
    working_days: int = Field(description=define("targets"))
    planned_hours: float
    takt_minutes: float | None = Field(description=define("month_takt"))


class AnnualTargetView(View):
    csv_items: ClassVar[str | None] = "months"
    line_id: str
    year: int
    annual: int
    monthly_fixed: dict[str, int]
    months: list[MonthTargetOut]
    placeable: float = Field(description=define("placeable"))
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
    running: bool = Field(description=define("periods"))
    actual: int = Field(description=define("actual"))
    target: float = Field(description=define("target"))
    target_to_now: float = Field(description=define("target_to_now"))
    gap: float = Field(description=define("gap"))
    attainment: float | None = Field(description=define("attainment"))


class ForecastOut(BaseModel):
    year_end: float = Field(description=define("forecast"))
    low: float | None = Field(description=define("forecast"))
    high: float | None = Field(description=define("forecast"))
    run_rate: float = Field(description=define("run_rate"))
    std_dev: float | None = Field(description=define("run_rate"))
    days_observed: int
    remaining_working_days: float = Field(description=define("remaining_working_days"))
    method: str


class YearOutput(BaseModel):
    year: int
    annual_target: int | None
    actual: int = Field(description=define("year_actual"))
    plan_to_date: float = Field(description=define("plan_to_date"))
    gap: float = Field(description=define("plan_to_date"))
    remaining_working_days: float = Field(description=define("remaining_working_days"))
    required_daily_rate: float | None = Field(description=define("required_daily_rate"))
    planned_daily_rate: float | None = Field(description=define("planned_daily_rate"))
    forecast: ForecastOut
    forecast_gap: float | None = Field(description=define("on_track"))
    on_track: bool | None = Field(description=define("on_track"))


class OutputSummary(View, PlannedNow):
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
    actual: int = Field(description=define("actual"))
    target: float = Field(description=define("series"))
    gap: float = Field(description=define("series"))
    cumulative_actual: int
    cumulative_target: float


class OutputSeries(View, PlannedNow):
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
    plan_day: float = Field(description=define("curve"))
    plan_cumulative: float
    actual_day: int | None = Field(description=define("curve"))
    actual_cumulative: int | None
    forecast_cumulative: float | None = Field(description=define("curve"))
    forecast_low: float | None
    forecast_high: float | None


class OutputCurve(View, PlannedNow):
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
    local_date: date = Field(description=define("completions"))
    shift: str | None = Field(description=define("completions"))
    lead_time_seconds: float | None
    first_pass: bool | None
    defect_count: int | None


class CompletionPage(Page, PlannedNow):
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
    status: str = Field(description=define("station"))
    since: datetime = Field(description=define("station"))
    age_seconds: float = Field(description=define("age"))
    standard_seconds: float | None = Field(description=define("standard"))
    age_ratio: float | None = Field(description=define("standard"))
    over_standard: bool = Field(description=define("standard"))
    held: bool = Field(description=define("held"))
    build_short: bool = Field(description=define("per_station"))
    started_at: datetime | None


class WipStation(BaseModel):
    station: str
    name: str | None
    position: int | None
    trucks: int = Field(description=define("per_station"))
    held: int = Field(description=define("held"))
    over_standard: int = Field(description=define("standard"))
    oldest_age_seconds: float | None
    mean_age_seconds: float | None
    standard_seconds: float | None


class RampOut(BaseModel):
    goal_today: float | None = Field(description=define("ramp"))
    next_date: date | None
    next_goal: int | None
    gap: float | None = Field(description=define("ramp"))


class WipView(View, PlannedNow):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str | None
    at: datetime
    total: int = Field(description=define("in_production"))
    takt_seconds: float | None = Field(description=define("takt"))
    stations: list[WipStation]
    ramp: RampOut | None

    def rows(self) -> list[dict[str, Any]]:
        return [{"line_id": self.line_id, **s.model_dump(mode="json")} for s in self.stations]


class WipTruckPage(Page, PlannedNow):
    items: list[WipTruck]


class StatsOut(BaseModel):
    count: int
    mean: float | None
    median: float | None = Field(description=define("statistics"))
    p90: float | None = Field(description=define("statistics"))
    min: float | None
    max: float | None


class LeadTimeModel(BaseModel):
    model: str
    hours: StatsOut


class LeadTimeView(View, PlannedNow):
    line_id: str | None
    start: datetime
    end: datetime
    hours: StatsOut = Field(description=define("lead_time"))
    by_model: list[LeadTimeModel]

    def rows(self) -> list[dict[str, Any]]:
        out = [{"model": "all", **self.hours.model_dump()}]
        return out + [{"model": m.model, **m.hours.model_dump()} for m in self.by_model]


class CycleStation(BaseModel):
    station: str
    name: str | None
    position: int | None
    cycles: int = Field(description=define("cycle_time"))
    rework_cycles: int = Field(description=define("rework"))
    cycle_seconds: StatsOut
    standard_seconds: float | None = Field(description=define("cycle_standard"))
    ratio_to_standard: float | None = Field(description=define("cycle_standard"))
    ratio_to_takt: float | None = Field(description=define("cycle_standard"))
    bottleneck: bool = Field(description=define("bottleneck"))


class Bottleneck(BaseModel):
    station: str = Field(description=define("bottleneck"))
    mean_cycle_seconds: float
    standard_seconds: float | None
    takt_seconds: float | None = Field(description=define("takt"))
    reason: str


class CycleTimeView(View, PlannedNow):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str | None
    start: datetime
    end: datetime
    takt_seconds: float | None = Field(description=define("takt"))
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


class QualityView(View, PlannedNow):
    line_id: str | None
    start: datetime
    end: datetime
    completed: int = Field(description=define("completed"))
    first_pass: int = Field(description=define("first_pass"))
    fpy: float | None = Field(description=define("fpy"))
    defects_on_completed: int = Field(description=define("dpu"))
    dpu: float | None = Field(description=define("dpu"))
    defects_found: int = Field(description=define("defects_found"))
    open_defects: int = Field(description=define("open_defects"))

    def rows(self) -> list[dict[str, Any]]:
        return [self.model_dump(mode="json", exclude={"as_planned_now"})]


class ParetoItemOut(BaseModel):
    key: str
    count: int
    share: float = Field(description=define("pareto"))
    cumulative_share: float = Field(description=define("pareto"))


class ParetoView(View, PlannedNow):
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
    andons: int = Field(description=define("andon_count"))
    lost_minutes: float = Field(description=define("lost_minutes"))
    line_stop_minutes: float = Field(description=define("line_stop_minutes"))


class AndonStation(BaseModel):
    station: str
    andons: int = Field(description=define("andon_count"))
    lost_minutes: float = Field(description=define("lost_minutes"))
    line_stop_minutes: float = Field(description=define("line_stop_minutes"))


class AndonShift(BaseModel):
    shift_date: date | None
    shift: str | None
    andons: int = Field(description=define("andon_count"))
    lost_minutes: float = Field(description=define("lost_minutes"))
    line_stop_minutes: float = Field(description=define("line_stop_minutes"))


class AndonView(View, PlannedNow):
    csv_items: ClassVar[str | None] = "buckets"
    line_id: str | None
    start: datetime
    end: datetime
    total_andons: int = Field(description=define("andon_count"))
    total_lost_minutes: float = Field(description=define("lost_minutes"))
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
    open_minutes: float | None = Field(description=define("open_andons"))


class OpenAndonPage(Page, PlannedNow):
    items: list[OpenAndon]


class OeeStation(BaseModel):
    station: str
    name: str | None
    position: int | None
    planned_minutes: float = Field(description=define("oee_time"))
    downtime_minutes: float = Field(description=define("oee_time"))
    run_minutes: float = Field(description=define("oee_time"))
    ideal_minutes: float = Field(description=define("performance"))
    units: int = Field(description=define("quality"))
    good_units: int = Field(description=define("quality"))
    availability: float | None = Field(description=define("availability"))
    performance: float | None = Field(description=define("performance"))
    quality: float | None = Field(description=define("quality"))
    oee: float | None = Field(description=define("oee"))
    rating: Rating | None = Field(description=define("oee"))


class OeeView(View, PlannedNow):
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
    held_minutes: float | None = Field(description=define("held_by_shortage"))
    missing_parts: list[dict[str, Any]]


class KitsView(View, PlannedNow):
    at: datetime
    scope: str = Field(description=define("scope"))
    by_status: dict[str, int] = Field(description=define("status"))
    on_hand: int = Field(description=define("on_hand"))
    usable: int = Field(description=define("on_hand"))
    quarantined: int = Field(description=define("status"))
    in_transit: int = Field(description=define("on_hand"))
    next_arrival: datetime | None = Field(description=define("next_arrival"))
    planned_daily_rate: float | None = Field(description=define("kits_planned_rate"))
    days_of_supply: float | None = Field(description=define("days_of_supply"))
    days_of_supply_with_quarantined: float | None = Field(description=define("days_of_supply"))
    open_discrepancies_by_claim_code: dict[str, int] = Field(description=define("open_discrepancies"))
    accepted_shortages: int = Field(description=define("open_discrepancies"))
    trucks_held_by_shortage: int = Field(description=define("held_by_shortage"))
    build_short_in_production: int = Field(description=define("build_short"))
    held_trucks: list[HeldTruck] = Field(description=define("held_by_shortage"))
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


class HeldTruckPage(Page, PlannedNow):
    items: list[HeldTruck]


# ---- people ---------------------------------------------------------------------------------------


class HeadcountView(View):
    as_of: date
    total: int = Field(description=define("headcount"))
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
    recalled: int = Field(description=define("recall"))
    remaining: int = Field(description=define("recall"))
    progress: float = Field(description=define("recall"))
    days_left: int = Field(description=define("recall"))
    expected_by_now: float | None = Field(description=define("pace"))
    on_track: bool | None = Field(description=define("pace"))


class RecallView(View, PlannedNow):
    csv_items: ClassVar[str | None] = "goals"
    as_of: date
    idle_now: int = Field(description=define("idle"))
    recalled_total: int = Field(description=define("idle"))
    goals: list[RecallGoalOut]

    def rows(self) -> list[dict[str, Any]]:
        return [g.model_dump(mode="json") for g in self.goals]


class StaffingRow(BaseModel):
    line_id: str
    date: date
    shift: str
    station: str
    required: int = Field(description=define("required"))
    rostered: int = Field(description=define("rostered"))
    unqualified_rostered: int = Field(description=define("unqualified_rostered"))
    clocked_in: int = Field(description=define("clocked_in"))
    present: int = Field(description=define("present"))
    coverage: float | None = Field(description=define("coverage"))
    rostered_coverage: float | None = Field(description=define("coverage"))


class StaffingView(View, PlannedNow):
    csv_items: ClassVar[str | None] = "stations"
    line_id: str
    date: date
    at: datetime
    shifts: list[str] = Field(description=define("staffing"))
    stations: list[StaffingRow]
    required: int = Field(description=define("required"))
    clocked_in: int = Field(description=define("clocked_in"))
    present: int = Field(description=define("present"))
    coverage: float | None = Field(description=define("coverage"))

    def rows(self) -> list[dict[str, Any]]:
        return [s.model_dump(mode="json") for s in self.stations]


class ExpiringQualification(BaseModel):
    employee_id: str
    name: str | None
    badge_id: str | None
    station: str
    level: str | None
    valid_until: datetime
    days_left: float = Field(description=define("expiring"))


class ExpiringPage(Page, PlannedNow):
    at: datetime
    within_days: int
    items: list[ExpiringQualification]


# ---- localisation ---------------------------------------------------------------------------------


class LocalisationFigures(BaseModel):
    trucks: int
    local_parts: int = Field(description=define("parts"))
    total_parts: int = Field(description=define("parts"))
    rate_by_count: float | None = Field(description=define("by_count"))
    local_value: float
    known_value: float
    rate_by_value: float | None = Field(description=define("by_value"))
    parts_with_value: int
    serialised_parts: int


class LocalisationModel(LocalisationFigures):
    model: str


class LocalisationView(View, PlannedNow):
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


class LinesView(View, PlannedNow):
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
    working_day: bool = Field(description=define("calendar_day"))
    calendar_version: int | None
    shifts: list[str]
    planned_minutes: float = Field(description=define("calendar_day"))
    target: float | None = Field(description=define("calendar_day"))


class CalendarView(View, PlannedNow):
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
    required: int = Field(description=define("required"))
    clocked_in: int
    present: int
    coverage: float | None = Field(description=define("coverage"))


class DashboardView(View, PlannedNow):
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
