"""Badge scans at station terminals. A terminal token acts only for its own stations."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from workforce.api import schemas
from workforce.api.access import PolicyDep, Terminal
from workforce.api.routes.common import WRITE
from workforce.service import clock as handlers

router = APIRouter(tags=["clock-in"])


@router.post(
    "/clock-ins",
    status_code=201,
    response_model=schemas.ClockResultView,
    responses=WRITE["responses"]
    | {200: {"model": schemas.ClockResultView, "description": "Not clocked in (see result), or a resend"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Clock in by badge scan at a station; a resend with the same terminal_event_id counts once",
)
async def clock_in(body: schemas.ClockInIn, cmd: Terminal, policy: PolicyDep) -> JSONResponse:
    cmd.principal.ensure_station(body.station)
    return await cmd.run(lambda uow: handlers.clock_in_scan(uow, body, policy), body)


@router.post(
    "/clock-outs",
    response_model=schemas.ClockResultView,
    **WRITE,
    summary="Clock out by badge scan; closes the employee's open presence",
)
async def clock_out(body: schemas.ClockOutIn, cmd: Terminal, policy: PolicyDep) -> JSONResponse:
    cmd.principal.ensure_station(body.station)
    return await cmd.run(lambda uow: handlers.clock_out_scan(uow, body, policy), body)
