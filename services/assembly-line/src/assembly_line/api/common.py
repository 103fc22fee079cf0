"""What every route module shares: OpenAPI extras for writes and reads, path parameters, 404s."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query, Request

from assembly_line.domain import VIN_PATTERN
from mes_shared.commands import idempotency_header_doc
from mes_shared.inputs import Code
from mes_shared.problems import PROBLEM_RESPONSES, Problem

CodePath = Annotated[Code, Path()]
VinPath = Annotated[
    str, Path(min_length=17, max_length=17, pattern=VIN_PATTERN, description="17 characters, never I, O or Q")
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


def max_event_age(request: Request) -> timedelta:
    """How late a fact may be entered: the same bound as a terminal's station events."""
    max_age: timedelta = request.app.state.settings.max_event_age
    return max_age
