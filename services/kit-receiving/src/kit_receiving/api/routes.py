"""Thin routes: parse, authorize, hand the command to its handler, map the result."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from kit_receiving.api import schemas
from kit_receiving.api.access import Logistics, Reader
from kit_receiving.service import handlers, queries
from mes_shared.commands import idempotency_header_doc
from mes_shared.inputs import INT4_MAX, Code, Instant
from mes_shared.problems import PROBLEM_RESPONSES, Problem
from mes_shared.service_app import sessions_of

SerialPath = Annotated[Code, Path()]
CodePath = SerialPath
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
WRITE: dict[str, Any] = {"responses": PROBLEM_RESPONSES, "openapi_extra": {"parameters": [idempotency_header_doc()]}}
READ: dict[str, Any] = {"responses": PROBLEM_RESPONSES}

router = APIRouter()


T = TypeVar("T")


def _found(value: T | None, what: str) -> T:
    if value is None:
        raise Problem(404, "Not found", f"{what} does not exist", type_="/problems/not-found")
    return value


# ---- kit types ----------------------------------------------------------------------------------


@router.post(
    "/kit-types",
    tags=["kit types"],
    status_code=201,
    response_model=schemas.KitTypeView,
    **WRITE,
    summary="Define a kit type with its first BOM version, in force from effective_from",
)
async def create_kit_type(body: schemas.KitTypeCreate, cmd: Logistics) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.create_kit_type(uow, body), body)


@router.post(
    "/kit-types/{code}/bom-versions",
    tags=["kit types"],
    status_code=201,
    response_model=schemas.KitTypeView,
    **WRITE,
    summary="Publish a new BOM version in force from effective_from (409 when dated before the current one, or at "
    "or before a kit of the type was announced); kits announced from then on take it, kits announced keep theirs",
)
async def publish_bom_version(code: CodePath, body: schemas.BomVersionCreate, cmd: Logistics) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.publish_bom_version(uow, code, body), body)


@router.get("/kit-types", tags=["kit types"], **READ)
async def list_kit_types(request: Request, _: Reader) -> list[dict[str, Any]]:
    async with sessions_of(request)() as session:
        return await queries.list_kit_types(session)


@router.get("/kit-types/{code}", tags=["kit types"], response_model=schemas.KitTypeView, **READ)
async def get_kit_type(
    code: CodePath,
    request: Request,
    _: Reader,
    version: Annotated[int | None, Query(ge=1, le=INT4_MAX, description="BOM version; default current")] = None,
    at: Annotated[
        Instant | None,
        Query(description="The BOM version in force at this instant (the first version before it took effect)"),
    ] = None,
) -> schemas.KitTypeView:
    async with sessions_of(request)() as session:
        return _found(
            await queries.kit_type_view(session, code, version, at=at),
            f"kit type {code}" + (f" BOM version {version}" if version else ""),
        )


# ---- shipments ----------------------------------------------------------------------------------


@router.post(
    "/shipments",
    tags=["shipments"],
    status_code=201,
    response_model=schemas.ShipmentView,
    responses=WRITE["responses"] | {200: {"model": schemas.ShipmentView, "description": "The same ASN again"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Announce a shipment (ASN); announcing the same ASN again changes nothing",
)
async def announce_shipment(body: schemas.ShipmentAnnounce, cmd: Logistics) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.announce_shipment(uow, body), body)


@router.put(
    "/shipments/{shipment_id}",
    tags=["shipments"],
    response_model=schemas.ShipmentView,
    **WRITE,
    summary="Correct an ASN before any of its kits has arrived",
)
async def correct_shipment(shipment_id: SerialPath, body: schemas.ShipmentCorrection, cmd: Logistics) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.correct_shipment(uow, shipment_id, body), body)


@router.post(
    "/shipments/{shipment_id}/cancel",
    tags=["shipments"],
    response_model=schemas.ShipmentView,
    **WRITE,
    summary="Cancel an ASN before any of its kits has arrived",
)
async def cancel_shipment(shipment_id: SerialPath, body: schemas.ShipmentCancel, cmd: Logistics) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.cancel_shipment(uow, shipment_id, body), body)


@router.get("/shipments", tags=["shipments"], response_model=schemas.ShipmentPage, **READ)
async def list_shipments(
    request: Request,
    _: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[Literal["announced", "cancelled", "receiving", "received"] | None, Query()] = None,
) -> schemas.ShipmentPage:
    async with sessions_of(request)() as session:
        return await queries.list_shipments(session, status=status, limit=limit, offset=offset)


@router.get("/shipments/{shipment_id}", tags=["shipments"], response_model=schemas.ShipmentView, **READ)
async def get_shipment(shipment_id: SerialPath, request: Request, _: Reader) -> schemas.ShipmentView:
    async with sessions_of(request)() as session:
        return _found(await queries.shipment_view(session, shipment_id), f"shipment {shipment_id}")


# ---- kits ---------------------------------------------------------------------------------------


@router.post(
    "/kits/{serial}/receipt",
    tags=["kits"],
    response_model=schemas.KitView,
    **WRITE,
    summary="Receive a kit at the dock and check it against its BOM",
)
async def receive_kit(serial: SerialPath, body: schemas.ReceiptIn, cmd: Logistics) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.receive_kit(uow, serial, body), body)


@router.post(
    "/kits/{serial}/discrepancies/{discrepancy_id}/resolution",
    tags=["kits"],
    response_model=schemas.KitView,
    **WRITE,
    summary="Resolve a discrepancy of a kit",
)
async def resolve_discrepancy(
    serial: SerialPath, discrepancy_id: SerialPath, body: schemas.ResolutionIn, cmd: Logistics
) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.resolve_discrepancy(uow, serial, discrepancy_id, body), body)


@router.post(
    "/kits/{serial}/release",
    tags=["kits"],
    response_model=schemas.KitView,
    **WRITE,
    summary="Release a kit to the line; refused with 409 while a discrepancy is open",
)
async def release_kit(serial: SerialPath, cmd: Logistics, body: schemas.ReleaseIn | None = None) -> JSONResponse:
    release = body or schemas.ReleaseIn()
    return await cmd.run(lambda uow: handlers.release_kit(uow, serial, release), release)


@router.get(
    "/kits/{serial}",
    tags=["kits"],
    response_model=schemas.KitDetail,
    **READ,
    summary="A kit with its discrepancies and whole history",
)
async def get_kit(serial: SerialPath, request: Request, _: Reader) -> schemas.KitView:
    async with sessions_of(request)() as session:
        return _found(await queries.kit_view(session, serial, with_history=True), f"kit {serial}")


@router.get("/kits", tags=["kits"], response_model=schemas.KitPage, **READ)
async def list_kits(
    request: Request,
    _: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[schemas.KitStatusName | None, Query()] = None,
    kit_type: Annotated[Code | None, Query()] = None,
    shipment_id: Annotated[Code | None, Query()] = None,
    unannounced: bool | None = None,
    build_short: bool | None = None,
) -> schemas.KitPage:
    async with sessions_of(request)() as session:
        return await queries.list_kits(
            session,
            status=status,
            kit_type=kit_type,
            shipment_id=shipment_id,
            unannounced=unannounced,
            build_short=build_short,
            limit=limit,
            offset=offset,
        )


@router.get(
    "/inventory",
    tags=["reports"],
    response_model=schemas.Inventory,
    **READ,
    summary="Kits on hand by status and kit type",
)
async def inventory(request: Request, _: Reader, kit_type: Annotated[Code | None, Query()] = None) -> schemas.Inventory:
    async with sessions_of(request)() as session:
        return await queries.inventory(session, kit_type=kit_type)


@router.get("/discrepancies", tags=["reports"], response_model=schemas.DiscrepancyPage, **READ)
async def list_discrepancies(
    request: Request,
    _: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[Literal["open", "shortage_accepted", "resolved"] | None, Query()] = "open",
    claim_code: Annotated[schemas.ClaimCodeOut | None, Query()] = None,
) -> schemas.DiscrepancyPage:
    async with sessions_of(request)() as session:
        return await queries.list_discrepancies(
            session, status=status, claim_code=claim_code, limit=limit, offset=offset
        )


@router.get(
    "/discrepancies/open-by-claim-code",
    tags=["reports"],
    response_model=schemas.OpenDiscrepancySummary,
    **READ,
    summary="Open discrepancies counted by claim code",
)
async def open_by_claim_code(request: Request, _: Reader) -> schemas.OpenDiscrepancySummary:
    async with sessions_of(request)() as session:
        return await queries.open_discrepancy_summary(session)
