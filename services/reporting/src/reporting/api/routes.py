"""Report endpoints: thin routes that parse, authorize, read one snapshot and render JSON or CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from mes_shared.commands import idempotency_header_doc
from mes_shared.problems import PROBLEM_RESPONSES
from reporting.api import schemas
from reporting.api.access import Planner, Reader
from reporting.api.definitions import view_description
from reporting.api.params import (
    LINE_PATTERN,
    At,
    Format,
    Limit,
    LineQuery,
    Offset,
    RangeQuery,
    StationQuery,
    TimeRange,
    Year,
    invalid,
    parse_instant,
    strict_query,
)
from reporting.api.render import respond
from reporting.domain.calendar import LineCalendar
from reporting.domain.periods import PeriodKind
from reporting.service import flow, kits, lines, localisation, lost_time, output, people, quality, targets
from reporting.service.context import Reader as Snapshot
from reporting.service.context import reading
from reporting.service.ranges import Range, resolve_range
from reporting.settings import Settings

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}
READ: dict[str, Any] = {"responses": {**PROBLEM_RESPONSES, **CSV_RESPONSE}}
WRITE: dict[str, Any] = {"responses": PROBLEM_RESPONSES, "openapi_extra": {"parameters": [idempotency_header_doc()]}}
LinePath = Annotated[str, Path(min_length=1, max_length=64, pattern=LINE_PATTERN)]
KitTypeQuery = Annotated[
    str | None, Query(min_length=1, max_length=64, pattern=LINE_PATTERN, description="Only kits of this kit type")
]

router = APIRouter(dependencies=[Depends(strict_query)])


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@asynccontextmanager
async def snapshot(request: Request, at: datetime | None) -> AsyncIterator[Snapshot]:
    settings = settings_of(request)
    async with reading(request.app.state.runtime.engine, default_zone=settings.time_zone, at=at) as reader:
        yield reader


async def span_of(reader: Snapshot, cal: LineCalendar, query: RangeQuery) -> Range:
    return resolve_range(cal, reader.at, start=query.start, end=query.end, period=query.period)


async def calendar_for(reader: Snapshot, line_id: str | None) -> LineCalendar:
    return await reader.calendar(line_id) if line_id is not None else await reader.plant_calendar()


def _name(*parts: Any) -> str:
    return "-".join(str(p) for p in parts if p is not None)


async def over_span(
    request: Request,
    line: str | None,
    span: RangeQuery,
    at: datetime | None,
    format: str | None,
    name: str,
    report: Callable[..., Awaitable[schemas.View]],
    *extra: Any,
) -> Response:
    """A report over a time range of one line (or the plant), bucketed in that line's calendar: `report(reader,
    line_id, window, *extra)`, named `name-line-extra...` when downloaded."""
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=False)
        window = await span_of(reader, await calendar_for(reader, line_id), span)
        view = await report(reader, line_id, window, *extra)
    return respond(request, view, format, _name(name, line_id, *extra))


# ---- lines ----------------------------------------------------------------------------------------


@router.get(
    "/lines",
    tags=["lines"],
    response_model=schemas.LinesView,
    **READ,
    description=view_description("/lines"),
    summary="Lines reporting knows of",
)
async def get_lines(request: Request, _: Reader, at: At = None, format: Format = None) -> Response:
    async with snapshot(request, at) as reader:
        view = await lines.list_lines(reader)
    return respond(request, view, format, "lines")


@router.get(
    "/lines/{line_id}/calendar",
    tags=["lines"],
    response_model=schemas.CalendarView,
    **READ,
    description=view_description("/lines/{line_id}/calendar"),
    summary="Working days, shifts, planned minutes and target per day (default: this month)",
)
async def get_calendar(
    request: Request, line_id: LinePath, _: Reader, span: TimeRange, at: At = None, format: Format = None
) -> Response:
    async with snapshot(request, at) as reader:
        await reader.line(line_id, required=True)
        cal = await reader.calendar(line_id)
        query = span if span.start or span.period else RangeQuery(None, None, "month")
        view = await lines.calendar_days(reader, line_id, await span_of(reader, cal, query))
    return respond(request, view, format, _name("calendar", line_id))


# ---- output ---------------------------------------------------------------------------------------


@router.get(
    "/output",
    tags=["output"],
    response_model=schemas.OutputSummary,
    **READ,
    description=view_description("/output"),
    summary="Output versus target: this shift, today, this week, this month and the year to date, with the "
    "required daily rate and the year-end forecast",
)
async def get_output(
    request: Request, _: Reader, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        view = await output.summary(reader, line_id, settings_of(request).forecast_lookback_days)
    return respond(request, view, format, _name("output", line_id))


@router.get(
    "/output/series",
    tags=["output"],
    response_model=schemas.OutputSeries,
    **READ,
    description=view_description("/output/series"),
    summary="Actual versus target per shift, day, week or month over a range (default: this month by day)",
)
async def get_output_series(
    request: Request,
    _: Reader,
    span: TimeRange,
    line: LineQuery = None,
    bucket: Annotated[PeriodKind, Query(description="Size of each point")] = "day",
    at: At = None,
    format: Format = None,
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        cal = await reader.calendar(line_id)
        query = span if span.start or span.period else RangeQuery(None, None, "month")
        view = await output.series(reader, line_id, await span_of(reader, cal, query), bucket)
    return respond(request, view, format, _name("output-series", line_id, bucket))


@router.get(
    "/output/curve",
    tags=["output"],
    response_model=schemas.OutputCurve,
    **READ,
    description=view_description("/output/curve"),
    summary="The year's cumulative output against the plan curve, day by day, with the forecast and its band",
)
async def get_output_curve(
    request: Request, _: Reader, line: LineQuery = None, year: Year | None = None, at: At = None, format: Format = None
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        cal = await reader.calendar(line_id)
        view = await output.curve(
            reader, line_id, year or cal.local_date(reader.at).year, settings_of(request).forecast_lookback_days
        )
    return respond(request, view, format, _name("output-curve", line_id, view.year))


@router.get(
    "/output/completions",
    tags=["output"],
    response_model=schemas.CompletionPage,
    **READ,
    description=view_description("/output/completions"),
    summary="Trucks completed in a range (default: today), with their shift, lead time and first pass",
)
async def get_completions(
    request: Request,
    _: Reader,
    span: TimeRange,
    line: LineQuery = None,
    at: At = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = None,
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        window = await span_of(reader, await reader.calendar(line_id), span)
        view = await output.completion_page(reader, line_id, window, limit, offset)
    return respond(request, view, format, _name("completions", line_id))


# ---- WIP and flow ---------------------------------------------------------------------------------


@router.get(
    "/wip",
    tags=["flow"],
    response_model=schemas.WipView,
    **READ,
    description=view_description("/wip"),
    summary="Trucks in production per station, their age against the standard time, takt and the WIP ramp",
)
async def get_wip(
    request: Request, _: Reader, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=False)
        view = await flow.wip(reader, line_id)
    return respond(request, view, format, _name("wip", line_id))


@router.get(
    "/wip/trucks",
    tags=["flow"],
    response_model=schemas.WipTruckPage,
    **READ,
    description=view_description("/wip/trucks"),
    summary="Each truck in production: where, since when, against its standard time (oldest first)",
)
async def get_wip_trucks(
    request: Request,
    _: Reader,
    line: LineQuery = None,
    station: StationQuery = None,
    at: At = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = None,
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=False)
        trucks = await flow.wip_trucks(reader, line_id, station)
    view = schemas.WipTruckPage(
        as_planned_now=reader.planned_now("/wip/trucks"),
        total=len(trucks),
        limit=limit,
        offset=offset,
        items=trucks[offset : offset + limit],
    )
    return respond(request, view, format, _name("wip-trucks", line_id, station))


@router.get(
    "/flow/lead-time",
    tags=["flow"],
    response_model=schemas.LeadTimeView,
    **READ,
    description=view_description("/flow/lead-time"),
    summary="Lead time (line entry to exit) of the trucks completed in a range (default: today), in hours",
)
async def get_lead_time(
    request: Request, _: Reader, span: TimeRange, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    return await over_span(request, line, span, at, format, "lead-time", flow.lead_time)


@router.get(
    "/flow/cycle-times",
    tags=["flow"],
    response_model=schemas.CycleTimeView,
    **READ,
    description=view_description("/flow/cycle-times"),
    summary="Cycle time per station against its standard and takt, and the bottleneck (default: today)",
)
async def get_cycle_times(
    request: Request, _: Reader, span: TimeRange, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    return await over_span(request, line, span, at, format, "cycle-times", flow.cycle_times)


# ---- quality --------------------------------------------------------------------------------------


@router.get(
    "/quality",
    tags=["quality"],
    response_model=schemas.QualityView,
    **READ,
    description=view_description("/quality"),
    summary="First-pass yield and defects per unit of the trucks completed in a range (default: today)",
)
async def get_quality(
    request: Request, _: Reader, span: TimeRange, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    return await over_span(request, line, span, at, format, "quality", quality.quality)


@router.get(
    "/quality/pareto",
    tags=["quality"],
    response_model=schemas.ParetoView,
    **READ,
    description=view_description("/quality/pareto"),
    summary="Pareto of the defects found in a range by code, by the station that found them or by the "
    "station that caused them",
)
async def get_pareto(
    request: Request,
    _: Reader,
    span: TimeRange,
    line: LineQuery = None,
    by: Annotated[Literal["code", "station", "caused_at"], Query()] = "code",
    at: At = None,
    format: Format = None,
) -> Response:
    return await over_span(request, line, span, at, format, "pareto", quality.defect_pareto, by)


# ---- lost time ------------------------------------------------------------------------------------


@router.get(
    "/andons",
    tags=["lost time"],
    response_model=schemas.AndonView,
    **READ,
    description=view_description("/andons"),
    summary="Andon count and lost minutes per station and shift, line-stop minutes per shift (default: today)",
)
async def get_andons(
    request: Request, _: Reader, span: TimeRange, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    return await over_span(request, line, span, at, format, "andons", lost_time.andon_report)


@router.get(
    "/andons/open",
    tags=["lost time"],
    response_model=schemas.OpenAndonPage,
    **READ,
    description=view_description("/andons/open"),
    summary="Andons raised and not yet cleared, oldest first",
)
async def get_open_andons(
    request: Request,
    _: Reader,
    line: LineQuery = None,
    at: At = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = None,
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=False)
        found = await lost_time.open_andons(reader, line_id)
    view = schemas.OpenAndonPage(
        as_planned_now=reader.planned_now("/andons/open"),
        total=len(found),
        limit=limit,
        offset=offset,
        items=found[offset : offset + limit],
    )
    return respond(request, view, format, _name("open-andons", line_id))


@router.get(
    "/oee",
    tags=["lost time"],
    response_model=schemas.OeeView,
    **READ,
    description=view_description("/oee"),
    summary="OEE per station with availability, performance and quality apart (default: today)",
)
async def get_oee(
    request: Request, _: Reader, span: TimeRange, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        window = await span_of(reader, await reader.calendar(line_id), span)
        view = await lost_time.oee_report(reader, line_id, window)
    return respond(request, view, format, _name("oee", line_id))


# ---- kits -----------------------------------------------------------------------------------------


@router.get(
    "/kits",
    tags=["kits"],
    response_model=schemas.KitsView,
    **READ,
    description=view_description("/kits"),
    summary="Kits on hand by status, days of supply at the planned rate, open discrepancies by claim code, "
    "trucks held by a shortage",
)
async def get_kits(
    request: Request,
    _: Reader,
    line: LineQuery = None,
    kit_type: KitTypeQuery = None,
    at: At = None,
    format: Format = None,
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=False)
        view = await kits.kits_summary(reader, line_id, kit_type)
    return respond(request, view, format, _name("kits", line_id))


@router.get(
    "/kits/discrepancies",
    tags=["kits"],
    response_model=schemas.DiscrepancyPage,
    **READ,
    description=view_description("/kits/discrepancies"),
    summary="Discrepancies by status and claim code (default: open ones)",
)
async def get_discrepancies(
    request: Request,
    _: Reader,
    status: Annotated[Literal["open", "shortage_accepted", "resolved", "all"], Query()] = "open",
    claim_code: Annotated[Literal["M", "S", "D", "W", "F", "DP", "DT", "A", "surplus"] | None, Query()] = None,
    kit_type: KitTypeQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = None,
) -> Response:
    async with snapshot(request, None) as reader:
        view = await kits.discrepancy_page(reader, status, claim_code, kit_type, limit, offset)
    return respond(request, view, format, _name("discrepancies", status, claim_code))


@router.get(
    "/kits/held-trucks",
    tags=["kits"],
    response_model=schemas.HeldTruckPage,
    **READ,
    description=view_description("/kits/held-trucks"),
    summary="Trucks waiting at a station for a part their build-short kit lacks",
)
async def get_held_trucks(
    request: Request,
    _: Reader,
    line: LineQuery = None,
    at: At = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = None,
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=False)
        view = await kits.held_page(reader, line_id, limit, offset)
    return respond(request, view, format, _name("held-trucks", line_id))


# ---- people ---------------------------------------------------------------------------------------

AsOf = Annotated[str | None, Query(max_length=10, description="A local date (YYYY-MM-DD), default today")]


async def _as_of(reader: Snapshot, raw: str | None) -> date:
    parsed = parse_instant("as_of", raw, dates=True)
    if parsed is None:
        return (await reader.plant_calendar()).local_date(reader.at)
    if isinstance(parsed, datetime):
        raise invalid("as_of", "give a date (YYYY-MM-DD)")
    return parsed


@router.get(
    "/people/headcount",
    tags=["people"],
    response_model=schemas.HeadcountView,
    **READ,
    description=view_description("/people/headcount"),
    summary="Headcount by origin (transferred, recalled, new hire) and status on a date",
)
async def get_headcount(
    request: Request,
    _: Reader,
    as_of: AsOf = None,
    employee_id_prefix: Annotated[
        str | None,
        Query(min_length=1, max_length=64, pattern=LINE_PATTERN, description="Only employees whose id starts so"),
    ] = None,
    format: Format = None,
) -> Response:
    async with snapshot(request, None) as reader:
        view = await people.headcount(reader, await _as_of(reader, as_of), employee_id_prefix)
    return respond(request, view, format, "headcount")


@router.get(
    "/people/recall",
    tags=["people"],
    response_model=schemas.RecallView,
    **READ,
    description=view_description("/people/recall"),
    summary="Recall of idle employees against each goal",
)
async def get_recall(request: Request, _: Reader, as_of: AsOf = None, format: Format = None) -> Response:
    async with snapshot(request, None) as reader:
        view = await people.recall(reader, await _as_of(reader, as_of), asked=as_of is not None)
    return respond(request, view, format, "recall")


@router.get(
    "/people/staffing",
    tags=["people"],
    response_model=schemas.StaffingView,
    **READ,
    description=view_description("/people/staffing"),
    summary="Staffing coverage per station and shift: required, rostered, clocked in, present "
    "(default: the current or last shift)",
)
async def get_staffing(
    request: Request,
    _: Reader,
    line: LineQuery = None,
    day: Annotated[str | None, Query(alias="date", max_length=10, description="Shift date (YYYY-MM-DD)")] = None,
    shift: Annotated[str | None, Query(min_length=1, max_length=32, pattern=LINE_PATTERN)] = None,
    at: At = None,
    format: Format = None,
) -> Response:
    parsed = parse_instant("date", day, dates=True)
    if isinstance(parsed, datetime):
        raise invalid("date", "give a date (YYYY-MM-DD)")
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        view = await people.staffing(reader, line_id, parsed, shift)
    return respond(request, view, format, _name("staffing", line_id, view.date))


@router.get(
    "/people/qualifications/expiring",
    tags=["people"],
    response_model=schemas.ExpiringPage,
    **READ,
    description=view_description("/people/qualifications/expiring"),
    summary="Qualifications that expire within the next days (default: the configured warning window)",
)
async def get_expiring(
    request: Request,
    _: Reader,
    within_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    station: StationQuery = None,
    at: At = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: Format = None,
) -> Response:
    days = within_days or settings_of(request).qualification_warning_days
    async with snapshot(request, at) as reader:
        view = await people.expiring(reader, days, station, limit, offset)
    return respond(request, view, format, "qualifications-expiring")


# ---- localisation ---------------------------------------------------------------------------------


@router.get(
    "/localisation",
    tags=["localisation"],
    response_model=schemas.LocalisationView,
    **READ,
    description=view_description("/localisation"),
    summary="Share of the trucks' parts not from the kit, by count and by value where known (default: today)",
)
async def get_localisation(
    request: Request, _: Reader, span: TimeRange, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    return await over_span(request, line, span, at, format, "localisation", localisation.localisation)


# ---- targets --------------------------------------------------------------------------------------


@router.put(
    "/targets/{line_id}/wip-ramp",
    tags=["targets"],
    response_model=schemas.WipRampView,
    **WRITE,
    summary="Set the WIP ramp goal of a line: WIP wanted by dates (e.g. 50 trucks in production by a date)",
)
async def put_wip_ramp(line_id: LinePath, body: schemas.WipRampIn, cmd: Planner, request: Request) -> Response:
    zone = settings_of(request).time_zone
    return await cmd.run(lambda uow: targets.set_ramp(uow, line_id, body, zone), body)


@router.get(
    "/targets/{line_id}/wip-ramp",
    tags=["targets"],
    response_model=schemas.WipRampView,
    **READ,
    description=view_description("/targets"),
)
async def get_wip_ramp(request: Request, line_id: LinePath, _: Reader, format: Format = None) -> Response:
    async with snapshot(request, None) as reader:
        view = await targets.ramp_view(reader, line_id)
    return respond(request, view, format, _name("wip-ramp", line_id))


@router.put(
    "/targets/{line_id}/{year}",
    tags=["targets"],
    response_model=schemas.AnnualTargetView,
    **WRITE,
    summary="Set a line's annual plan for a year, optionally fixing some months; spread over planned working time",
)
async def put_annual_target(
    line_id: LinePath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: schemas.AnnualTargetIn,
    cmd: Planner,
    request: Request,
) -> Response:
    zone = settings_of(request).time_zone
    return await cmd.run(lambda uow: targets.set_annual(uow, line_id, year, body, zone), body)


@router.get(
    "/targets/{line_id}/{year}",
    tags=["targets"],
    response_model=schemas.AnnualTargetView,
    **READ,
    description=view_description("/targets"),
    summary="A line's annual plan with each month's target, working days, planned hours and takt",
)
async def get_annual_target(
    request: Request,
    line_id: LinePath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    _: Reader,
    format: Format = None,
) -> Response:
    async with snapshot(request, None) as reader:
        view = await targets.annual_view(reader, line_id, year)
    return respond(request, view, format, _name("target", line_id, year))
