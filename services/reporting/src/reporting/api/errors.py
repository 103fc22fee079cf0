"""Domain and service errors -> problem+json, with the broken rule."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mes_shared.problems import problem_response
from reporting.domain.errors import Conflict, DomainError, NotFound
from reporting.projections.rebuild import RebuildRunning
from reporting.service.context import ProjectionsUnavailable


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, title = 422, "Invalid input"
    if isinstance(exc, NotFound):
        status, title = 404, "Not found"
    elif isinstance(exc, Conflict):
        status, title = 409, "Refused by a rule"
    return problem_response(
        status, title, exc.message, type_=f"/problems/{exc.rule}", instance=request.url.path, rule=exc.rule
    )


async def _on_rebuild_running(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        409,
        "Refused by a rule",
        str(exc),
        type_="/problems/rebuild-running",
        instance=request.url.path,
        rule="rebuild-running",
    )


async def _on_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        503,
        "Unavailable",
        f"{exc}; retry in a moment",
        type_="/problems/projections-unavailable",
        instance=request.url.path,
        headers={"Retry-After": "2"},
        retryable=True,
    )


def install_errors(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RebuildRunning, _on_rebuild_running)
    app.add_exception_handler(ProjectionsUnavailable, _on_unavailable)
