"""Makes a service's OpenAPI document tell the truth about what a client meets.

- Who may call: every operation behind a role gate (`mes_shared.auth.require`) carries the bearer scheme with
  the roles it allows (OpenAPI 3.1 lets a non-OAuth requirement list role names), and its 401 and 403.
- What an error looks like: every 4xx and 5xx is a problem (RFC 9457) under `application/problem+json` with
  the `ProblemDetails` schema, never under `application/json`; FastAPI's own 422 (`HTTPValidationError`)
  is replaced, since the problem handlers answer every validation error.
- What can go wrong besides the route's own rules: a body can be too large (413) and the database can be
  out (503 with Retry-After) on every guarded operation, as they all read or write it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from mes_shared.problems import PROBLEM_MEDIA_TYPE, ProblemDetails

BEARER = "bearer"
PROBLEM_REF = {"$ref": f"#/components/schemas/{ProblemDetails.__name__}"}
# FastAPI's default 422 body, which our problem handlers never send.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_EVERY_GUARDED_OPERATION = {
    401: "Missing or invalid token",
    403: "Role or station not allowed",
    503: "The database is unavailable; retry after the time given",
}


def document_contract(app: FastAPI) -> None:
    """Have `app.openapi()` return the truthful document (built once, then cached like FastAPI's own)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = truthful(FastAPI.openapi(app), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def truthful(schema: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault(
        ProblemDetails.__name__, ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A signed token (`./mes token --role R`); the operation lists the roles it allows "
            "(admin is always allowed).",
        }
    }
    for route in _api_routes(routes):
        if not route.include_in_schema:
            continue
        roles = allowed_roles(route.dependant)
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _document(operation, roles)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        if name in schemas and f'"#/components/schemas/{name}"' not in json.dumps(schema):
            del schemas[name]
    return schema


def _api_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every API route as FastAPI documents it: newer FastAPI keeps an included router whole in `app.routes`
    and resolves its routes (prefix and router dependencies applied) through `iter_route_contexts`."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in contexts(list(routes)) if contexts is not None else routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def allowed_roles(dependant: Dependant) -> frozenset[str] | None:
    """The roles every role gate of a route lets through (their intersection), None when it has no gate."""
    allowed: frozenset[str] | None = None
    pending = [dependant]
    while pending:
        current = pending.pop()
        gate = getattr(current.call, "allowed_roles", None)
        if gate is not None:
            roles = frozenset(str(role) for role in gate)
            allowed = roles if allowed is None else allowed & roles
        pending.extend(current.dependencies)
    return allowed


def _document(operation: dict[str, Any], roles: frozenset[str] | None) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if roles is not None:
        operation["security"] = [{BEARER: sorted(roles)}]
        for status, description in _EVERY_GUARDED_OPERATION.items():
            responses.setdefault(str(status), {"description": description})
        responses["503"]["headers"] = {
            "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
        }
    if "requestBody" in operation:
        responses.setdefault("413", {"description": "The body is larger than this operation accepts"})
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
            if response.get("description") == "Validation Error":  # FastAPI's default wording
                response["description"] = "Invalid input"
