"""Admin: rebuild every projection from the log beside the live ones, and see where the projections are."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from mes_shared.problems import PROBLEM_RESPONSES, Problem
from reporting.adapters.tables import rebuilds
from reporting.api import schemas
from reporting.api.access import Admin
from reporting.api.params import Format, Limit, Offset, strict_query
from reporting.api.render import respond
from reporting.api.routes import READ
from reporting.projections import store
from reporting.projections.rebuild import RebuildRunning
from reporting.projections.tables import LAYOUT
from reporting.service.runtime import ReportingRuntime

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(strict_query)])


def _view(row: Any) -> schemas.RebuildView:
    return schemas.RebuildView(
        id=row.id,
        schema_name=row.schema_name,
        status=row.status,
        requested_by=row.requested_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        records_read=row.records_read,
        events_applied=row.events_applied,
        end_offsets=row.end_offsets,
        detail=row.detail,
    )


@router.post(
    "/rebuild",
    status_code=202,
    response_model=schemas.RebuildView,
    responses=PROBLEM_RESPONSES,
    summary="Rebuild every projection from the start of the topics into fresh tables, then swap them in; "
    "the live views keep serving meanwhile (409 while a rebuild runs)",
)
async def start_rebuild(request: Request, principal: Admin) -> JSONResponse:
    runtime: ReportingRuntime = request.app.state.runtime
    runtime.start_rebuild(principal.subject)
    rebuilder = runtime.rebuild
    assert rebuilder is not None
    await asyncio.wait_for(rebuilder.prepared.wait(), 60)
    if rebuilder.status is None:
        error = rebuilder.error
        if isinstance(error, RebuildRunning):
            raise error
        raise Problem(500, "Internal error", f"the rebuild could not start: {error}", type_="/problems/rebuild-failed")
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(sa.select(rebuilds).where(rebuilds.c.id == rebuilder.status.id))).one()
    return JSONResponse(
        _view(row).model_dump(mode="json"), status_code=202, headers={"Location": f"/admin/rebuilds/{row.id}"}
    )


@router.get("/rebuilds", response_model=schemas.Page, **READ, summary="Rebuilds, newest first")
async def list_rebuilds(
    request: Request, _: Admin, limit: Limit = 20, offset: Offset = 0, format: Format = None
) -> Response:
    async with request.app.state.runtime.engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(rebuilds))
        rows = (
            await conn.execute(sa.select(rebuilds).order_by(rebuilds.c.id.desc()).limit(limit).offset(offset))
        ).all()
    view = schemas.Page(total=total or 0, limit=limit, offset=offset, items=[_view(r) for r in rows])
    return respond(request, view, format, "rebuilds")


@router.get("/rebuilds/{rebuild_id}", response_model=schemas.RebuildView, **READ)
async def get_rebuild(
    request: Request, rebuild_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _: Admin, format: Format = None
) -> Response:
    async with request.app.state.runtime.engine.connect() as conn:
        row = (await conn.execute(sa.select(rebuilds).where(rebuilds.c.id == rebuild_id))).one_or_none()
    if row is None:
        raise Problem(404, "Not found", f"rebuild {rebuild_id} does not exist", type_="/problems/not-found")
    return respond(request, _view(row), format, f"rebuild-{rebuild_id}")


@router.get(
    "/projections",
    response_model=schemas.ProjectionStatus,
    **READ,
    summary="The active projection schema, its layout and the log positions it has folded",
)
async def projection_status(request: Request, _: Admin, format: Format = None) -> Response:
    runtime: ReportingRuntime = request.app.state.runtime
    async with runtime.engine.connect() as conn:
        pointer = await store.read_pointer(conn)
        if pointer is None:
            raise Problem(
                503, "Unavailable", "no projection schema is active yet", type_="/problems/projections-unavailable"
            )
        reached = await store.read_positions(conn, pointer.schema)
    running = runtime.rebuild_task is not None and not runtime.rebuild_task.done()
    view = schemas.ProjectionStatus(
        generation=pointer.generation,
        schema_name=pointer.schema,
        layout=pointer.layout,
        code_layout=LAYOUT,
        swapped_at=pointer.swapped_at,
        positions={f"{tp.topic}/{tp.partition}": n for tp, n in sorted(reached.items())},
        records=sum(reached.values()),
        rebuild_running=running,
    )
    return respond(request, view, format, "projections")
