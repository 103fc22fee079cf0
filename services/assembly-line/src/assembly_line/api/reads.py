"""Queries: a truck with its genealogy, WIP by station against the standard, andons, kits, stations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from assembly_line.api import schemas
from assembly_line.api.access import Reader, StationPath, StationReader, TruckReader
from assembly_line.api.common import READ, CodePath, Limit, Offset, VinPath, found
from assembly_line.service import queries
from mes_shared.inputs import Code
from mes_shared.service_app import sessions_of

router = APIRouter()


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(
    "/vehicles/{vin}",
    tags=["vehicles"],
    response_model=schemas.VehicleView,
    **READ,
    summary="A truck with its genealogy: kit, parts and serials, operators, times per station, defects and "
    "repairs, checks, timeline",
)
async def get_vehicle(vin: VinPath, request: Request, _: TruckReader) -> schemas.VehicleView:
    async with sessions_of(request)() as session:
        return found(await queries.vehicle_view(session, vin, now=_now()), f"VIN {vin}")


@router.get(
    "/wip",
    tags=["vehicles"],
    response_model=schemas.WipView,
    **READ,
    summary="Trucks on the line by station, with the time spent there against the route's standard",
)
async def get_wip(request: Request, _: Reader, line_id: Annotated[Code, Query()]) -> schemas.WipView:
    async with sessions_of(request)() as session:
        return found(await queries.wip(session, line_id, now=_now()), f"line {line_id}")


@router.get("/andons", tags=["andons"], response_model=schemas.AndonPage, **READ, summary="Andons, newest first")
async def list_andons(
    request: Request,
    _: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    open: Annotated[bool | None, Query(description="true: only open ones; false: only cleared ones")] = None,
    line_id: Annotated[Code | None, Query()] = None,
    station: Annotated[Code | None, Query()] = None,
) -> schemas.AndonPage:
    async with sessions_of(request)() as session:
        return await queries.list_andons(
            session, open_only=open, line_id=line_id, station=station, limit=limit, offset=offset, now=_now()
        )


@router.get(
    "/kits/{serial}",
    tags=["kits"],
    response_model=schemas.KitView,
    **READ,
    summary="A kit as kit-receiving reported it, and whether a build order may take it now",
)
async def get_kit(serial: CodePath, request: Request, _: Reader) -> schemas.KitView:
    async with sessions_of(request)() as session:
        return found(await queries.kit_view(session, serial), f"kit {serial} (as reported by kit-receiving)")


@router.get(
    "/stations/{station}",
    tags=["stations"],
    response_model=schemas.StationDetail,
    **READ,
    summary="A station: the trucks at it, its open andon, the operators clocked in there now",
)
async def get_station(station: StationPath, request: Request, _: StationReader) -> schemas.StationDetail:
    async with sessions_of(request)() as session:
        return found(await queries.station_detail(session, station, now=_now()), f"station {station}")
