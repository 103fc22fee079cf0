"""Query parameters shared by the views, strictly parsed: anything malformed or unknown is a 422 problem
naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from mes_shared.inputs import CODE_PATTERN as LINE_PATTERN
from mes_shared.inputs import EARLIEST, LATEST
from mes_shared.problems import Problem
from reporting.api.definitions import define
from reporting.domain.periods import PeriodKind

LineQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=64, pattern=LINE_PATTERN, description="Line id; see GET /lines"),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="json (default) or csv; `Accept: text/csv` asks for CSV too"),
]
Year = Annotated[int, Query(ge=2000, le=2100)]
StationQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=LINE_PATTERN)]


def invalid(name: str, message: str, kind: str = "value_error") -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"query.{name}: {message}",
        type_="/problems/invalid-request",
        errors=[{"field": f"query.{name}", "message": message, "type": kind}],
    )


def parse_instant(name: str, raw: str | None, *, dates: bool) -> date | datetime | None:
    """An ISO 8601 date (when `dates`) or date-time with its offset; naive date-times are refused."""
    if raw is None:
        return None
    text = raw.strip()
    if dates and len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise invalid(name, f"{raw!r} is not a date (YYYY-MM-DD)") from None
        if not EARLIEST.date() <= day < LATEST.date():
            raise invalid(name, "dates must be in the years 2000 to 2100")
        return day
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+", 1) if "T" in text else text)
    except ValueError:
        expected = "a date (YYYY-MM-DD) or " if dates else ""
        raise invalid(name, f"{raw!r} is not {expected}an ISO 8601 date-time with offset") from None
    if instant.tzinfo is None:
        raise invalid(name, f"{raw!r} has no UTC offset: add Z or +hh:mm")
    if not EARLIEST <= instant < LATEST:
        raise invalid(name, "instants must be in the years 2000 to 2100")
    return instant.astimezone(UTC)


AtQuery = Annotated[
    str | None,
    Query(
        max_length=40,
        description=define("at"),
    ),
]


def at_param(at: AtQuery = None) -> datetime | None:
    value = parse_instant("at", at, dates=False)
    assert value is None or isinstance(value, datetime)
    return value


At = Annotated[datetime | None, Depends(at_param)]


@dataclass(frozen=True)
class RangeQuery:
    start: date | datetime | None
    end: date | datetime | None
    period: PeriodKind | None


def range_param(
    start: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description="Start: a local date in the line's time zone, or a date-time with offset",
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", max_length=40, description="End: a date includes that whole day; a date-time is exclusive"),
    ] = None,
    period: Annotated[
        PeriodKind | None, Query(description="Instead of from/to: the shift, day, week, month or year containing `at`")
    ] = None,
) -> RangeQuery:
    return RangeQuery(parse_instant("from", start, dates=True), parse_instant("to", end, dates=True), period)


TimeRange = Annotated[RangeQuery, Depends(range_param)]


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_ALLOWED: dict[int, frozenset[str]] = {}


def _allowed(route: APIRoute) -> frozenset[str]:
    found = _ALLOWED.get(id(route))
    if found is None:
        found = _ALLOWED[id(route)] = frozenset(_query_names(route.dependant))
    return found


def strict_query(request: Request) -> None:
    """Refuse query parameters the route does not know (a misspelt `lnie=` must not silently mean all lines)."""
    route: Any = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _allowed(route)
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        raise Problem(
            422,
            "Invalid request",
            f"unknown query parameter(s) {', '.join(unknown)}; this endpoint takes "
            + (", ".join(sorted(allowed)) or "none"),
            type_="/problems/invalid-request",
            errors=[
                {"field": f"query.{name}", "message": "unknown parameter", "type": "extra_forbidden"}
                for name in unknown
            ],
        )
    repeated = sorted(k for k in set(request.query_params.keys()) if len(request.query_params.getlist(k)) > 1)
    if repeated:
        raise Problem(
            422,
            "Invalid request",
            f"query parameter(s) {', '.join(repeated)} given more than once",
            type_="/problems/invalid-request",
            errors=[
                {"field": f"query.{name}", "message": "given more than once", "type": "repeated"} for name in repeated
            ],
        )
