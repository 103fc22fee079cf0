"""What every route module shares: path parameter types, OpenAPI response docs, the 404 helper."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Path, Query

from mes_shared.commands import idempotency_header_doc
from mes_shared.inputs import Code, PlantDate, StationOrSkill
from mes_shared.problems import PROBLEM_RESPONSES, Problem

EmployeeIdPath = Annotated[Code, Path()]
LineIdPath = Annotated[Code, Path()]
ShiftPath = Annotated[Code, Path()]
StationPath = Annotated[StationOrSkill, Path(description="Station id or skill:<code>")]
ShiftDatePath = Annotated[PlantDate, Path()]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

WRITE: dict[str, Any] = {"responses": PROBLEM_RESPONSES, "openapi_extra": {"parameters": [idempotency_header_doc()]}}
READ: dict[str, Any] = {"responses": PROBLEM_RESPONSES}

T = TypeVar("T")


def found(value: T | None, what: str) -> T:
    if value is None:
        raise Problem(404, "Not found", f"{what} does not exist", type_="/problems/not-found")
    return value
