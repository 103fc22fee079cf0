"""The live side: the Server-Sent Events stream of changes, the wall-screen dashboard page and its data."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from reporting.api import schemas
from reporting.api.access import StreamReader
from reporting.api.definitions import view_description
from reporting.api.params import At, Format, LineQuery, strict_query
from reporting.api.render import respond
from reporting.api.routes import READ, settings_of, snapshot
from reporting.projections.runner import MAX_SUBJECTS
from reporting.service import dashboard
from reporting.service.live import event_stream

router = APIRouter(dependencies=[Depends(strict_query)])

# The page loads nothing from elsewhere: a wall screen on a factory network has no internet.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
STATIC = {
    "app.js": "application/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


def _asset(name: str) -> str:
    return resources.files("reporting.api").joinpath("static", name).read_text(encoding="utf-8")


@router.get(
    "/stream",
    tags=["live"],
    summary="Server-Sent Events: `change` (the views and subjects a committed batch changed), `heartbeat`",
    description=(
        "`hello` first (`views`: every view), then a `change` per committed batch (at once after a quiet spell; "
        "what comes within 50 ms of the last one sent is merged into the next): "
        "`views` it changed, `generation` (set when a rebuild swapped in), `subjects` the facts touched "
        f"(VINs, stations, lines, kit serials, employee ids; sorted, at most {MAX_SUBJECTS}) and `more`: true when "
        "`subjects` is incomplete (cut, or not known: a target change, a rebuild's swap, a reconnect, a slow "
        "reader), so anything may have changed. A `heartbeat` every `REPORTING_STREAM_HEARTBEAT_S` (15 s) "
        "while nothing happens. `?token=` is accepted with a manager token."
    ),
    response_class=StreamingResponse,
    responses={**READ["responses"], 200: {"content": {"text/event-stream": {}}}},
)
async def stream(request: Request, _: StreamReader) -> StreamingResponse:
    hub = request.app.state.runtime.hub
    return StreamingResponse(
        event_stream(hub, settings_of(request).stream_heartbeat_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "keep-alive"},
    )


@router.get(
    "/dashboard/data",
    tags=["live"],
    response_model=schemas.DashboardView,
    **READ,
    description=view_description("/dashboard/data"),
    summary="Every figure of the dashboard for one line, from one snapshot",
)
async def dashboard_data(
    request: Request, _: StreamReader, line: LineQuery = None, at: At = None, format: Format = None
) -> Response:
    async with snapshot(request, at) as reader:
        line_id = await reader.line(line, required=True)
        assert line_id is not None
        view = await dashboard.dashboard(reader, line_id, settings_of(request).forecast_lookback_days)
    return respond(request, view, format, f"dashboard-{line_id}")


def _page_headers() -> dict[str, Any]:
    return {"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@router.get(
    "/dashboard",
    tags=["live"],
    response_class=HTMLResponse,
    summary="The wall-screen dashboard (the page holds no data: it reads with a manager token, "
    "`?token=` once or typed in, kept in the browser)",
)
async def dashboard_page(
    line: LineQuery = None,
    token: Annotated[str | None, Query(max_length=4096, description="A manager token; kept by the page")] = None,
) -> HTMLResponse:
    return HTMLResponse(_asset("dashboard.html"), headers=_page_headers())


@router.get("/dashboard/app.js", include_in_schema=False)
async def dashboard_js() -> Response:
    return Response(_asset("app.js"), media_type=STATIC["app.js"], headers=_page_headers())


@router.get("/dashboard/app.css", include_in_schema=False)
async def dashboard_css() -> Response:
    return Response(_asset("app.css"), media_type=STATIC["app.css"], headers=_page_headers())
