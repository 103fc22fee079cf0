"""Lines (as assembly-line configures them), their calendars, rosters and staffing coverage."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from mes_shared.inputs import Code, PlantDate
from mes_shared.problems import Problem
from mes_shared.service_app import sessions_of
from workforce.api import schemas
from workforce.api.access import PolicyDep, Reader, Supervisor
from workforce.api.routes.common import READ, WRITE, LineIdPath, ShiftDatePath, ShiftPath, found
from workforce.service import planning as handlers
from workforce.service import queries
from workforce.service.policy import utc_now

router = APIRouter()

MAX_PLANNED_DAYS = 366


@router.get(
    "/lines",
    tags=["lines"],
    response_model=list[schemas.LineView],
    **READ,
    summary="Lines and stations known from assembly-line's configuration",
)
async def list_lines(request: Request, _: Reader) -> list[schemas.LineView]:
    async with sessions_of(request)() as session:
        return await queries.list_lines(session)


@router.put(
    "/lines/{line_id}/calendar",
    tags=["calendar"],
    response_model=schemas.CalendarView,
    responses=WRITE["responses"] | {201: {"model": schemas.CalendarView, "description": "A new version"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Publish the line's calendar: a new version from valid_from on; the same calendar again changes nothing",
)
async def publish_calendar(line_id: LineIdPath, body: schemas.CalendarIn, cmd: Supervisor) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.publish_calendar(uow, line_id, body), body)


@router.get(
    "/lines/{line_id}/calendar",
    tags=["calendar"],
    response_model=schemas.CalendarView,
    **READ,
    summary="The calendar version that applies on a date (default today in the plant)",
)
async def get_calendar(
    line_id: LineIdPath, request: Request, _: Reader, policy: PolicyDep, on: Annotated[PlantDate | None, Query()] = None
) -> schemas.CalendarView:
    day = on or policy.today(utc_now())
    async with sessions_of(request)() as session:
        return found(await queries.applicable_calendar(session, line_id, day), f"a calendar of line {line_id} on {day}")


@router.get("/lines/{line_id}/calendar/versions", tags=["calendar"], response_model=list[schemas.CalendarView], **READ)
async def calendar_versions(line_id: LineIdPath, request: Request, _: Reader) -> list[schemas.CalendarView]:
    async with sessions_of(request)() as session:
        return await queries.calendar_versions(session, line_id)


@router.get(
    "/lines/{line_id}/planned-time",
    tags=["calendar"],
    response_model=list[schemas.PlannedDay],
    **READ,
    summary="Planned working time per day: the shifts that run, their instants and net minutes",
)
async def planned_time(
    line_id: LineIdPath,
    request: Request,
    _: Reader,
    first: Annotated[PlantDate, Query(alias="from")],
    last: Annotated[PlantDate, Query(alias="to")],
) -> list[schemas.PlannedDay]:
    if last < first or last - first >= timedelta(days=MAX_PLANNED_DAYS):
        raise Problem(
            422,
            "Invalid request",
            f"'to' must be on or after 'from', at most {MAX_PLANNED_DAYS} days in all",
            type_="/problems/invalid-request",
        )
    async with sessions_of(request)() as session:
        return await queries.planned_time(session, line_id, first, last)


@router.put(
    "/lines/{line_id}/rosters/{shift_date}/{shift}",
    tags=["rosters"],
    response_model=schemas.RosterView,
    responses=WRITE["responses"] | {201: {"model": schemas.RosterView, "description": "The first roster"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Publish who works which station on a date and shift, and the headcount each station needs",
)
async def publish_roster(
    line_id: LineIdPath,
    shift_date: ShiftDatePath,
    shift: ShiftPath,
    body: schemas.RosterIn,
    cmd: Supervisor,
    policy: PolicyDep,
) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.publish_roster(uow, line_id, shift_date, shift, body, policy), body)


@router.get(
    "/lines/{line_id}/rosters/{shift_date}/{shift}", tags=["rosters"], response_model=schemas.RosterView, **READ
)
async def get_roster(
    line_id: LineIdPath, shift_date: ShiftDatePath, shift: ShiftPath, request: Request, _: Reader
) -> schemas.RosterView:
    async with sessions_of(request)() as session:
        return found(
            await queries.roster_view(session, line_id, shift_date, shift),
            f"a roster of line {line_id} for shift {shift} on {shift_date}",
        )


@router.get(
    "/lines/{line_id}/coverage",
    tags=["rosters"],
    response_model=schemas.Coverage,
    **READ,
    summary="Staffing coverage per station: required, rostered, clocked in, and qualified among them",
)
async def coverage(
    line_id: LineIdPath,
    request: Request,
    _: Reader,
    shift_date: Annotated[PlantDate, Query(alias="date")],
    shift: Annotated[Code, Query()],
) -> schemas.Coverage:
    async with sessions_of(request)() as session:
        return found(await queries.coverage(session, line_id, shift_date, shift, utc_now()), f"line {line_id}")
