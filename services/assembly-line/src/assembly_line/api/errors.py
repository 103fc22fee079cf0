"""Maps domain errors to problem+json: the rule code travels with the message and the facts."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from assembly_line.domain import Conflict, DomainError, NotFound
from mes_shared.correlation import correlation_id_var
from mes_shared.problems import Problem, problem_response

TITLES = {404: "Not found", 409: "Refused by a rule", 422: "Invalid input"}


def status_of(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 422


def problem_body(exc: DomainError | Problem, instance: str) -> dict[str, Any]:
    """The same body `problem_response` sends, for results that travel inside another response (a batch)."""
    if isinstance(exc, Problem):
        body = {"type": exc.type, "title": exc.title, "status": exc.status, "detail": exc.detail}
        extensions = exc.extensions
    else:
        status = status_of(exc)
        body = {"type": f"/problems/{exc.rule}", "title": TITLES[status], "status": status, "detail": exc.message}
        extensions = {"rule": exc.rule, **exc.extensions}
    return body | {"instance": instance, "correlation_id": correlation_id_var.get()} | extensions


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    return problem_response(
        status,
        TITLES[status],
        exc.message,
        type_=f"/problems/{exc.rule}",
        instance=request.url.path,
        rule=exc.rule,
        **exc.extensions,
    )


# Raised by the hot path's own asyncpg statements (SQLAlchemy's IntegrityError is mapped by mes_shared): two
# writes raced. Nothing was written; the caller sends it again. A deadlock or serialization failure is the
# database's own fault, answered 503 with Retry-After by the shared handlers.
RACES = (asyncpg.exceptions.IntegrityConstraintViolationError,)


def concurrent_conflict(instance: str) -> dict[str, Any]:
    return {
        "type": "/problems/concurrent-conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "the request conflicts with data written at the same moment; nothing was written, send it again",
        "instance": instance,
        "correlation_id": correlation_id_var.get(),
    }


async def _on_race(request: Request, exc: Exception) -> JSONResponse:
    body = concurrent_conflict(request.url.path)
    return JSONResponse(body, status_code=409, media_type="application/problem+json")


def install_domain_errors(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    for race in RACES:
        app.add_exception_handler(race, _on_race)
