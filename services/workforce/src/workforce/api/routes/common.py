"""What every route module shares: path parameter types, OpenAPI response docs, the 404 helper."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Path, Query

from mes_shared.commands import idempotency_header_doc
from mes_shared.problems import PROBLEM_RESPONSES, Problem
from workforce.api.schemas import CODE_PATTERN, STATION_OR_SKILL_PATTERN

EmployeeIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
LineIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
ShiftPath = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
StationPath = Annotated[
    str, Path(min_length=1, max_length=70, pattern=STATION_OR_SKILL_PATTERN, description="Station id or skill:<code>")
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

WRITE: dict[str, Any] = {"responses": PROBLEM_RESPONSES, "openapi_extra": {"parameters": [idempotency_header_doc()]}}
READ: dict[str, Any] = {"responses": PROBLEM_RESPONSES}

T = TypeVar("T")


def found(value: T | None, what: str) -> T:
    if value is None:
        raise Problem(404, "Not found", f"{what} does not exist", type_="/problems/not-found")
    return value
