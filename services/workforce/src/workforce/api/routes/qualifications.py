"""Qualifications: grant, renew, revoke, and what expires soon."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from mes_shared.inputs import Code, StationOrSkill
from mes_shared.service_app import sessions_of
from workforce.api import schemas
from workforce.api.access import Reader, Supervisor
from workforce.api.routes.common import READ, WRITE, EmployeeIdPath, StationPath
from workforce.service import qualifications as handlers
from workforce.service import queries
from workforce.service.policy import utc_now

router = APIRouter(tags=["qualifications"])


@router.post(
    "/employees/{employee_id}/qualifications",
    status_code=201,
    response_model=schemas.QualificationView,
    **WRITE,
    summary="Grant a qualification for a station or skill at a level until an expiry",
)
async def grant(employee_id: EmployeeIdPath, body: schemas.GrantIn, cmd: Supervisor) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.grant(uow, employee_id, body), body)


@router.post(
    "/employees/{employee_id}/qualifications/{station}/renewal",
    response_model=schemas.QualificationView,
    **WRITE,
    summary="Renew a qualification (a new expiry, maybe a new level)",
)
async def renew(
    employee_id: EmployeeIdPath, station: StationPath, body: schemas.RenewIn, cmd: Supervisor
) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.renew(uow, employee_id, station, body), body)


@router.post(
    "/employees/{employee_id}/qualifications/{station}/revocation",
    response_model=schemas.QualificationView,
    **WRITE,
    summary="Revoke a qualification from now on",
)
async def revoke(
    employee_id: EmployeeIdPath, station: StationPath, body: schemas.RevokeIn, cmd: Supervisor
) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.revoke(uow, employee_id, station, body), body)


@router.get(
    "/qualifications/expiring",
    response_model=schemas.ExpiringList,
    **READ,
    summary="Qualifications that expire within the next N days (not revoked, employee not left)",
)
async def expiring(
    request: Request,
    _: Reader,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    station: Annotated[StationOrSkill | None, Query()] = None,
    line_id: Annotated[Code | None, Query()] = None,
) -> schemas.ExpiringList:
    async with sessions_of(request)() as session:
        return await queries.expiring(session, now=utc_now(), days=days, station=station, line_id=line_id)
