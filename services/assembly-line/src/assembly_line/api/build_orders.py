"""Build orders (VIN, model, released kit), their start and cancellation, and send-back for rework."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from assembly_line.api import schemas
from assembly_line.api.access import Reader, Supervisor
from assembly_line.api.common import READ, WRITE, Limit, Offset, VinPath, found, max_event_age
from assembly_line.service import handlers, queries
from mes_shared.inputs import Code
from mes_shared.service_app import sessions_of

router = APIRouter(tags=["build orders"])


@router.post(
    "/build-orders",
    status_code=201,
    response_model=schemas.BuildOrderView,
    responses=WRITE["responses"] | {200: {"model": schemas.BuildOrderView, "description": "The same order again"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Bind a VIN to its model and a kit kit-receiving released; an unreleased, quarantined or "
    "consumed kit is refused with 409",
)
async def create_build_order(body: schemas.BuildOrderIn, cmd: Supervisor, request: Request) -> JSONResponse:
    max_age = max_event_age(request)
    return await cmd.run(lambda uow: handlers.create_build_order(uow, body, max_age=max_age), body)


@router.post(
    "/build-orders/{vin}/start",
    response_model=schemas.BuildOrderView,
    **WRITE,
    summary="Start the build (the kit is consumed); an arrival at the route's first station does the same",
)
async def start_build(
    vin: VinPath, cmd: Supervisor, request: Request, body: schemas.BuildOrderStart | None = None
) -> JSONResponse:
    start = body or schemas.BuildOrderStart()
    max_age = max_event_age(request)
    return await cmd.run(lambda uow: handlers.start_build(uow, vin, start, max_age=max_age), start)


@router.post(
    "/build-orders/{vin}/cancel",
    response_model=schemas.BuildOrderView,
    **WRITE,
    summary="Cancel a build order that has not started; its kit is free again",
)
async def cancel_build_order(
    vin: VinPath, body: schemas.BuildOrderCancel, cmd: Supervisor, request: Request
) -> JSONResponse:
    max_age = max_event_age(request)
    return await cmd.run(lambda uow: handlers.cancel_build_order(uow, vin, body, max_age=max_age), body)


@router.get("/build-orders", response_model=schemas.BuildOrderPage, **READ)
async def list_build_orders(
    request: Request,
    _: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[schemas.VehicleStatusName | None, Query()] = None,
    line_id: Annotated[Code | None, Query()] = None,
    model: Annotated[Code | None, Query()] = None,
) -> schemas.BuildOrderPage:
    async with sessions_of(request)() as session:
        return await queries.list_build_orders(
            session, status=status, line_id=line_id, model=model, limit=limit, offset=offset
        )


@router.get("/build-orders/{vin}", response_model=schemas.BuildOrderView, **READ)
async def get_build_order(vin: VinPath, request: Request, _: Reader) -> schemas.BuildOrderView:
    async with sessions_of(request)() as session:
        return found(await queries.build_order_view(session, vin), f"build order of VIN {vin}")


@router.post(
    "/vehicles/{vin}/send-back",
    tags=["vehicles"],
    response_model=schemas.VehicleView,
    **WRITE,
    summary="Send a truck back for rework to a station it has reached: every step from there is done again",
)
async def send_back(vin: VinPath, body: schemas.SendBackIn, cmd: Supervisor, request: Request) -> JSONResponse:
    max_age = max_event_age(request)
    return await cmd.run(lambda uow: handlers.send_back(uow, vin, body, max_age=max_age), body)
