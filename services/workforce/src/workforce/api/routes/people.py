"""Employees, HR's CSV import, status, recall and headcount."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mes_shared.inputs import Code, SearchText
from mes_shared.problems import PROBLEM_RESPONSES, Problem
from mes_shared.service_app import sessions_of
from workforce.api import schemas
from workforce.api.access import PolicyDep, Reader, SettingsDep, Supervisor
from workforce.api.routes.common import READ, WRITE, EmployeeIdPath, Limit, Offset, found
from workforce.service import employees as handlers
from workforce.service import importing, queries
from workforce.service.policy import utc_now

router = APIRouter()

CSV_MEDIA_TYPES = {"text/csv", "application/csv"}


@router.post(
    "/employees",
    tags=["employees"],
    status_code=201,
    response_model=schemas.EmployeeView,
    responses=WRITE["responses"] | {200: {"model": schemas.EmployeeView, "description": "The same registration again"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Register an employee; the same registration again changes nothing",
)
async def register_employee(body: schemas.EmployeeIn, cmd: Supervisor, policy: PolicyDep) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.register_employee(uow, body, policy), body)


class _Upload(BaseModel):
    """What identifies an uploaded file for the Idempotency-Key check."""

    sha256: str


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(
            413,
            "Content too large",
            f"the file is larger than {limit} bytes; split it into parts",
            type_="/problems/import.csv.too-large",
            rule="import.csv.too-large",
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(
                413,
                "Content too large",
                f"the file is larger than {limit} bytes; split it into parts",
                type_="/problems/import.csv.too-large",
                rule="import.csv.too-large",
            )
        chunks.append(chunk)
    return b"".join(chunks)


IMPORT_DOC = {
    "requestBody": {
        "required": True,
        "description": "UTF-8 CSV with the header `employee_id,badge_id,name,origin,status,status_since` (any order; "
        "`;` works as separator too). origin: transferred | recalled | new_hire; status: idle | active | on_leave | "
        "left; status_since: YYYY-MM-DD.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    "parameters": WRITE["openapi_extra"]["parameters"],
}


@router.post(
    "/employees/import",
    tags=["employees"],
    response_model=schemas.ImportResult,
    responses=PROBLEM_RESPONSES
    | {
        413: PROBLEM_RESPONSES[422] | {"description": "File too large or too many rows"},
        415: PROBLEM_RESPONSES[422] | {"description": "Not text/csv"},
    },
    openapi_extra=IMPORT_DOC,
    summary="Import employees from HR's CSV: valid rows are taken, each bad row is reported with its line",
)
async def import_employees(request: Request, cmd: Supervisor, policy: PolicyDep, settings: SettingsDep) -> JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise Problem(
            415,
            "Unsupported media type",
            f"send the file as text/csv (got {media_type or 'no content type'})",
            type_="/problems/import.csv.media-type",
            rule="import.csv.media-type",
        )
    raw = await _read_limited(request, settings.import_max_bytes)
    # Parsing thousands of rows is CPU work: off the event loop, so consumers keep their heartbeats.
    checked = await asyncio.to_thread(lambda: importing.check(importing.parse(raw, max_rows=settings.import_max_rows)))
    upload = _Upload(sha256=hashlib.sha256(raw).hexdigest())
    return await cmd.run(lambda uow: handlers.import_employees(uow, checked, policy), upload)


@router.get("/employees", tags=["employees"], response_model=schemas.EmployeePage, **READ)
async def list_employees(
    request: Request,
    _: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    origin: Annotated[schemas.OriginName | None, Query()] = None,
    status: Annotated[schemas.StatusName | None, Query()] = None,
    badge_id: Annotated[Code | None, Query()] = None,
    name: Annotated[SearchText | None, Query(description="Part of the name, any case")] = None,
) -> schemas.EmployeePage:
    async with sessions_of(request)() as session:
        return await queries.list_employees(
            session, origin=origin, status=status, badge_id=badge_id, name=name, limit=limit, offset=offset
        )


@router.get(
    "/employees/{employee_id}",
    tags=["employees"],
    response_model=schemas.EmployeeDetail,
    **READ,
    summary="An employee with status history, recalls, qualifications and the open presence",
)
async def get_employee(employee_id: EmployeeIdPath, request: Request, _: Reader) -> schemas.EmployeeDetail:
    async with sessions_of(request)() as session:
        return found(await queries.employee_detail(session, employee_id, utc_now()), f"employee {employee_id}")


@router.patch(
    "/employees/{employee_id}",
    tags=["employees"],
    response_model=schemas.EmployeeView,
    **WRITE,
    summary="Correct a name or reissue a badge",
)
async def update_employee(employee_id: EmployeeIdPath, body: schemas.EmployeePatch, cmd: Supervisor) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.update_employee(uow, employee_id, body), body)


@router.post(
    "/employees/{employee_id}/status",
    tags=["employees"],
    response_model=schemas.EmployeeView,
    **WRITE,
    summary="Change an employee's status from a date (idle to active is a recall)",
)
async def change_status(
    employee_id: EmployeeIdPath, body: schemas.StatusChangeIn, cmd: Supervisor, policy: PolicyDep
) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.change_status(uow, employee_id, body, policy), body)


@router.post(
    "/employees/{employee_id}/recall",
    tags=["recall"],
    response_model=schemas.EmployeeView,
    **WRITE,
    summary="Recall an idle employee: active from the date; counts for the current recall goal",
)
async def recall(
    employee_id: EmployeeIdPath, body: schemas.RecallIn, cmd: Supervisor, policy: PolicyDep
) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.recall_employee(uow, employee_id, body, policy), body)


@router.post(
    "/recall/goals",
    tags=["recall"],
    status_code=201,
    response_model=schemas.RecallGoalView,
    responses=WRITE["responses"] | {200: {"model": schemas.RecallGoalView, "description": "The same goal again"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Set the recall goal: how many idle people back at work by which date",
)
async def set_recall_goal(body: schemas.RecallGoalIn, cmd: Supervisor, policy: PolicyDep) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.set_recall_goal(uow, body, policy), body)


@router.get("/recall/goals", tags=["recall"], response_model=list[schemas.RecallGoalView], **READ)
async def list_recall_goals(request: Request, _: Reader) -> list[schemas.RecallGoalView]:
    async with sessions_of(request)() as session:
        return await queries.list_recall_goals(session)


@router.get(
    "/recall/progress",
    tags=["recall"],
    response_model=schemas.RecallProgressView,
    **READ,
    summary="Progress against a recall goal (default: the latest one)",
)
async def recall_progress(
    request: Request,
    _: Reader,
    policy: PolicyDep,
    goal_id: Annotated[Code | None, Query()] = None,
) -> schemas.RecallProgressView:
    async with sessions_of(request)() as session:
        return found(
            await queries.recall_progress(session, goal_id, policy.today(utc_now())),
            f"recall goal {goal_id}" if goal_id else "a recall goal",
        )


@router.get(
    "/headcount",
    tags=["employees"],
    response_model=schemas.Headcount,
    **READ,
    summary="Headcount by origin and status",
)
async def headcount(request: Request, _: Reader) -> schemas.Headcount:
    async with sessions_of(request)() as session:
        return await queries.headcount(session)
