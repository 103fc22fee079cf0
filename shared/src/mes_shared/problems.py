"""RFC 9457 problem details for every error a service returns.

Besides the problems the routes raise, the handlers here tell apart, once for every path (SQLAlchemy sessions
and raw asyncpg alike), the errors nobody raises on purpose: the service's own database unreachable (503 with
Retry-After: the caller sends the same request again later), a value the database refused (422: the input's
fault) and everything else (500, logged with its traceback).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from mes_shared.correlation import correlation_id_var
from mes_shared.faults import OutageLog, input_fault, is_infrastructure_fault

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What a caller is told to wait before sending a request again while the database is unavailable.
DEFAULT_RETRY_AFTER_S = 5


class ProblemDetails(BaseModel):
    """Documented shape of every error body (RFC 9457), for the OpenAPI document."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    correlation_id: str | None = None


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem; extensions become extra members."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.headers = headers
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or f"/problems/{title.lower().replace(' ', '-')}"
        self.extensions = extensions


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body["correlation_id"] = correlation_id_var.get()
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]  # only FastAPI's leading marker; a field may well be called "body"
    return ".".join(str(part) for part in parts) or "body"


def respond(problem: Problem, instance: str | None) -> JSONResponse:
    return problem_response(
        problem.status,
        problem.title,
        problem.detail,
        type_=problem.type,
        instance=instance,
        headers=problem.headers,
        **problem.extensions,
    )


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return respond(exc, request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        return problem_response(
            400,
            "Malformed JSON",
            f"the request body is not valid JSON: {first.get('ctx', {}).get('error', '')}",
            type_="/problems/malformed-json",
            instance=request.url.path,
        )
    invalid = [{"field": _field(e["loc"]), "message": e["msg"], "type": e["type"]} for e in errors]
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in invalid)
    return problem_response(
        422, "Invalid request", detail, type_="/problems/invalid-request", instance=request.url.path, errors=invalid
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {
        400: "Bad request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        406: "Not acceptable",
        413: "Content too large",
        414: "URI too long",
        415: "Unsupported media type",
    }
    title = titles.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return problem_response(
        exc.status_code,
        title,
        detail,
        type_=f"/problems/{title.lower().replace(' ', '-')}",
        instance=request.url.path,
        headers=dict(exc.headers or {}),
    )


async def _on_integrity(request: Request, exc: Exception) -> JSONResponse:
    # Two requests raced to create the same thing; the loser is told, nothing was half-written.
    log.info("integrity conflict on %s: %s", request.url.path, exc)
    return problem_response(
        409,
        "Conflict",
        "the request conflicts with data written at the same moment; read the current state and retry",
        type_="/problems/concurrent-conflict",
        instance=request.url.path,
    )


class FaultAnswers:
    """How the service answers an error nobody raised on purpose; one per app (`app.state.faults`).

    A database outage is answered 503 + Retry-After on every request it hits, but logged in a few lines per
    outage (`OutageLog`), not a traceback per request; the first request that succeeds again ends it."""

    def __init__(self, retry_after_s: int = DEFAULT_RETRY_AFTER_S) -> None:
        self.retry_after_s = retry_after_s
        self.outage = OutageLog(log, "database (HTTP requests)")

    def problem_for(self, exc: BaseException, method: str, path: str) -> Problem:
        if is_infrastructure_fault(exc):
            self.outage.failed(exc)
            return Problem(
                503,
                "Service unavailable",
                "the service's database cannot be reached just now. Send the same request again after "
                f"{self.retry_after_s} s: its id (Idempotency-Key, terminal_event_id) makes a resend harmless",
                type_="/problems/service-unavailable",
                headers={"Retry-After": str(self.retry_after_s)},
                retryable=True,
            )
        refused = input_fault(exc)
        if refused is not None:
            return _unstorable(refused, method, path)
        log.error("unhandled error on %s %s", method, path, exc_info=exc)
        return Problem(
            500,
            "Internal error",
            "the service failed to handle the request; it was logged",
            type_="/problems/internal-error",
        )

    def succeeded(self) -> None:
        if self.outage.in_outage:
            self.outage.recovered()


def _unstorable(refused: BaseException, method: str, path: str) -> Problem:
    """A value the input checks let through and the database refused (NUL in text, a number or an instant out
    of range): the input's fault, so a 422 naming what the database names (a column, a type) where it can."""
    message = str(refused).strip().splitlines()[0][:300] if str(refused).strip() else type(refused).__name__
    names = {
        name: value
        for name, value in (
            ("field", getattr(refused, "column_name", None)),
            ("datatype", getattr(refused, "data_type_name", None)),
        )
        if isinstance(value, str) and value
    }
    log.info("value refused by the database on %s %s: %s", method, path, message)
    return Problem(
        422,
        "Invalid input",
        f"a value in the request cannot be stored: {message}",
        type_="/problems/invalid-value",
        **names,
    )


def retry_after_s(value: str | None, *, default_s: float, cap_s: float) -> float:
    """For clients: how long a `Retry-After` header (seconds or an HTTP date) asks to wait before a resend,
    `default_s` when it says nothing usable, never more than `cap_s` (a client keeps its own deadline)."""
    if value is None or not value.strip():
        return default_s
    text = value.strip()
    if text.isdigit():
        return min(float(text), cap_s)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default_s
    wait = (when if when.tzinfo else when.replace(tzinfo=UTC)) - datetime.now(UTC)
    return min(max(wait.total_seconds(), 0.0), cap_s)


def faults_of(scope: Scope) -> FaultAnswers:
    app = scope.get("app")
    found = getattr(getattr(app, "state", None), "faults", None)
    return found if isinstance(found, FaultAnswers) else FaultAnswers()


def answer_unexpected(exc: BaseException, scope: Scope) -> JSONResponse:
    """The answer to an exception no handler took: 503, 422 or 500 (used by the handlers below and by the
    outermost middleware, so that every path gives the same answer)."""
    problem = faults_of(scope).problem_for(exc, scope.get("method", ""), scope.get("path", ""))
    return respond(problem, scope.get("path"))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return answer_unexpected(exc, request.scope)


def install_problem_handlers(app: FastAPI, *, retry_after_s: int = DEFAULT_RETRY_AFTER_S) -> None:
    app.state.faults = FaultAnswers(retry_after_s)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(IntegrityError, _on_integrity)
    # The database's and its driver's errors, on SQLAlchemy's and on raw asyncpg's paths (OSError: a refused or
    # timed-out connection). Handled inside the app so that the answer keeps the request's correlation id.
    for database_error in (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        app.add_exception_handler(database_error, _on_unexpected)
    app.add_exception_handler(Exception, _on_unexpected)


# Route decorators' `responses=`: the problems a route can answer, with their schema under problem+json
# (mes_shared.openapi adds the component, and 401/403/413/503 where they can happen).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{ProblemDetails.__name__}"}}},
        "description": description,
    }
    for status, description in {
        400: "Malformed request",
        401: "Missing or invalid token",
        403: "Role or station not allowed",
        404: "Not found",
        409: "Refused by a rule",
        422: "Invalid input",
    }.items()
}
