"""Lines and their stations, vehicle models and variants, routes per model (supervisors write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from assembly_line.api import schemas
from assembly_line.api.access import Reader, Supervisor
from assembly_line.api.common import READ, WRITE, CodePath, found, max_event_age
from assembly_line.service import handlers, queries
from mes_shared.inputs import INT4_MAX, Instant
from mes_shared.service_app import sessions_of

router = APIRouter(tags=["lines and routes"])


@router.put(
    "/lines/{line_id}",
    response_model=schemas.LineView,
    responses=WRITE["responses"] | {201: {"model": schemas.LineView, "description": "A new line"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Configure a line and its stations in order (201 when new); station ids are unique in the plant",
)
async def put_line(line_id: CodePath, body: schemas.LineIn, cmd: Supervisor) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.put_line(uow, line_id, body), body)


@router.get("/lines", response_model=list[schemas.LineView], **READ)
async def list_lines(request: Request, _: Reader) -> list[schemas.LineView]:
    async with sessions_of(request)() as session:
        return await queries.list_lines(session)


@router.get("/lines/{line_id}", response_model=schemas.LineView, **READ)
async def get_line(line_id: CodePath, request: Request, _: Reader) -> schemas.LineView:
    async with sessions_of(request)() as session:
        return found(await queries.line_view(session, line_id), f"line {line_id}")


@router.put(
    "/models/{model}",
    response_model=schemas.ModelView,
    responses=WRITE["responses"] | {201: {"model": schemas.ModelView, "description": "A new model"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Define a vehicle model and its variants (201 when new)",
)
async def put_model(model: CodePath, body: schemas.ModelIn, cmd: Supervisor) -> JSONResponse:
    return await cmd.run(lambda uow: handlers.put_model(uow, model, body), body)


@router.get("/models", response_model=list[schemas.ModelView], **READ)
async def list_models(request: Request, _: Reader) -> list[schemas.ModelView]:
    async with sessions_of(request)() as session:
        return await queries.list_models(session)


@router.get("/models/{model}", response_model=schemas.ModelView, **READ)
async def get_model(model: CodePath, request: Request, _: Reader) -> schemas.ModelView:
    async with sessions_of(request)() as session:
        return found(await queries.model_view(session, model), f"model {model}")


@router.post(
    "/lines/{line_id}/routes",
    status_code=201,
    response_model=schemas.RouteView,
    responses=WRITE["responses"] | {200: {"model": schemas.RouteView, "description": "The same as the current one"}},
    openapi_extra=WRITE["openapi_extra"],
    summary="Publish a model's route on the line as a new version in force from effective_from (200 when "
    "identical to the current one; 409 when dated before it, or at or before a truck of the model started); a "
    "truck follows the version in force when it was planned or started, for good",
)
async def post_route(line_id: CodePath, body: schemas.RouteIn, cmd: Supervisor, request: Request) -> JSONResponse:
    max_age = max_event_age(request)
    return await cmd.run(lambda uow: handlers.post_route(uow, line_id, body, max_age=max_age), body)


@router.get("/lines/{line_id}/routes", response_model=list[schemas.RouteView], **READ)
async def list_routes(line_id: CodePath, request: Request, _: Reader) -> list[schemas.RouteView]:
    async with sessions_of(request)() as session:
        found(await queries.line_view(session, line_id), f"line {line_id}")
        return await queries.list_routes(session, line_id)


@router.get("/lines/{line_id}/routes/{model}", response_model=schemas.RouteView, **READ)
async def get_route(
    line_id: CodePath,
    model: CodePath,
    request: Request,
    _: Reader,
    version: Annotated[
        int | None, Query(ge=1, le=INT4_MAX, description="Route version; default the current one")
    ] = None,
    at: Annotated[
        Instant | None,
        Query(description="The version in force at this instant (the first version before it took effect)"),
    ] = None,
) -> schemas.RouteView:
    async with sessions_of(request)() as session:
        return found(
            await queries.route_view(session, line_id, model, version, at=at),
            f"route of {model} on line {line_id}" + (f" version {version}" if version else ""),
        )
