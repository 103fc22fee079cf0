"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mes_shared.correlation import correlation_id_var

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


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


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        type_=exc.type,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extensions,
    )


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


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        "Internal error",
        "the service failed to handle the request; it was logged",
        type_="/problems/internal-error",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(IntegrityError, _on_integrity)
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
