"""Lines and their stations in order, vehicle models and their variants, and versioned routes.

All of it is data: a mixed-model line gets a new model by defining it and publishing its route. A route
lists the stations a model visits, in the line's order, each with its standard time. Routes are
versioned: publishing never changes a version a truck is already following. Each version is in force
from its `effective_from` (a late entry or a replay dates it in the past), and a truck follows the
version in force when it was planned or started (`mes_shared.versions.in_force`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import Conflict, InvalidInput
from .guards import require_text

MAX_STANDARD_SECONDS = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Station:
    station_id: str
    name: str
    position: int  # 1-based, in the line's order


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    name: str
    stations: tuple[Station, ...]
    revision: int

    def position(self, station_id: str) -> int | None:
        for station in self.stations:
            if station.station_id == station_id:
                return station.position
        return None

    @property
    def station_ids(self) -> tuple[str, ...]:
        return tuple(s.station_id for s in self.stations)


@dataclass(frozen=True, slots=True)
class Variant:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class VehicleModel:
    model: str
    name: str
    variants: tuple[Variant, ...]

    def has_variant(self, code: str) -> bool:
        return any(v.code == code for v in self.variants)


@dataclass(frozen=True, slots=True)
class RouteStep:
    station_id: str
    standard_seconds: float


@dataclass(frozen=True, slots=True)
class Route:
    line_id: str
    model: str
    version: int
    steps: tuple[RouteStep, ...]
    effective_from: datetime  # in force from then until the next version's effective_from

    @property
    def first_station(self) -> str:
        return self.steps[0].station_id

    @property
    def station_ids(self) -> tuple[str, ...]:
        return tuple(s.station_id for s in self.steps)


# ---- lines --------------------------------------------------------------------------------------


def configure_line(
    *,
    line_id: str,
    name: str,
    stations: Sequence[tuple[str, str]],
    current: Line | None,
    stations_on_other_lines: Mapping[str, str],
    latest_routes: Iterable[Route],
    stations_in_use: Iterable[str],
) -> Line | None:
    """The line as configured now, or None when nothing changed.

    `stations_on_other_lines`: station id -> line id for stations of the request that belong to
    another line. `latest_routes`: the current route of each model on this line, which must stay valid.
    `stations_in_use`: stations on the routes of trucks still on the line, which must not disappear.
    """
    require_text(line_id, "line id")
    require_text(name, f"name of line {line_id}")
    if not stations:
        raise InvalidInput("line.no-stations", f"line {line_id} needs at least one station")
    ids = [station_id for station_id, _ in stations]
    duplicates = sorted({s for s in ids if ids.count(s) > 1})
    if duplicates:
        raise InvalidInput("line.station-duplicate", f"line {line_id} lists station(s) {', '.join(duplicates)} twice")
    for station_id, station_name in stations:
        require_text(station_id, f"a station id of line {line_id}")
        require_text(station_name, f"name of station {station_id}")
    elsewhere = {s: other for s, other in stations_on_other_lines.items() if other != line_id}
    if elsewhere:
        listed = ", ".join(f"{s} (line {other})" for s, other in sorted(elsewhere.items()))
        raise Conflict(
            "line.station-on-other-line",
            f"station ids are unique in the plant; already on another line: {listed}",
            stations=sorted(elsewhere),
        )
    configured = Line(
        line_id=line_id,
        name=name,
        stations=tuple(Station(sid, sname, pos) for pos, (sid, sname) in enumerate(stations, start=1)),
        revision=(current.revision + 1) if current else 1,
    )
    if current is not None and (current.name, current.stations) == (configured.name, configured.stations):
        return None
    removed = set(current.station_ids if current else ()) - set(ids)
    stranded = sorted(removed & set(stations_in_use))
    if stranded:
        raise Conflict(
            "line.station-in-use",
            f"station(s) {', '.join(stranded)} cannot be removed from line {line_id}: trucks on the line "
            "still have to visit them",
            stations=stranded,
        )
    for route in latest_routes:
        problem = route_problem(configured, [s.station_id for s in route.steps])
        if problem is not None:
            raise Conflict(
                "line.route-broken",
                f"the change would break route v{route.version} of model {route.model}: {problem}; "
                "publish a new route for it first",
                model=route.model,
                route_version=route.version,
            )
    return configured


# ---- models -------------------------------------------------------------------------------------


def define_model(model: str, name: str, variants: Sequence[tuple[str, str]]) -> VehicleModel:
    require_text(model, "model code")
    require_text(name, f"name of model {model}")
    codes = [code for code, _ in variants]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InvalidInput("model.variant-duplicate", f"model {model} lists variant(s) {', '.join(duplicates)} twice")
    for code, variant_name in variants:
        require_text(code, f"a variant code of model {model}")
        require_text(variant_name, f"name of variant {code}")
    return VehicleModel(model, name, tuple(Variant(code, vname) for code, vname in variants))


# ---- routes -------------------------------------------------------------------------------------


def route_problem(line: Line, station_ids: Sequence[str]) -> str | None:
    """Why a list of stations is not a valid route on `line` (None when it is)."""
    if not station_ids:
        return "a route needs at least one station"
    duplicates = sorted({s for s in station_ids if list(station_ids).count(s) > 1})
    if duplicates:
        return f"station(s) {', '.join(duplicates)} listed twice (a station is visited again only by rework)"
    unknown = [s for s in station_ids if line.position(s) is None]
    if unknown:
        return f"station(s) {', '.join(unknown)} are not on line {line.line_id}"
    positions = [line.position(s) or 0 for s in station_ids]
    for i in range(1, len(station_ids)):
        (a, pa), (b, pb) = (station_ids[i - 1], positions[i - 1]), (station_ids[i], positions[i])
        if pb <= pa:
            return f"{b} (position {pb}) comes before {a} (position {pa}) on line {line.line_id}"
    return None


def publish_route(
    *,
    line: Line,
    model: VehicleModel | None,
    model_code: str,
    steps: Sequence[RouteStep],
    latest: Route | None,
    effective_from: datetime,
    last_start: datetime | None,
) -> Route | None:
    """The new route version in force from `effective_from`, or None when `steps` are exactly the latest
    version's. Versions follow each other in time: a new one may not take effect before the latest, nor
    at or before `last_start` (the latest start of a truck of the model on the line), which would have
    followed it but keeps the version it started with."""
    if model is None:
        raise Conflict(
            "route.model-unknown",
            f"model {model_code} is not defined; define it first with PUT /models/{model_code}",
            model=model_code,
        )
    for step in steps:
        if not (0 < step.standard_seconds <= MAX_STANDARD_SECONDS):
            raise InvalidInput(
                "route.standard-time-invalid",
                f"standard time of {step.station_id} must be more than 0 and at most {MAX_STANDARD_SECONDS:.0f} s, "
                f"got {step.standard_seconds}",
            )
    ids = [s.station_id for s in steps]
    problem = route_problem(line, ids)
    if problem is not None:
        rule = "route.invalid-stations" if steps else "route.no-steps"
        raise Conflict(rule, f"route of model {model.model} on line {line.line_id} is refused: {problem}")
    if latest is not None and effective_from < latest.effective_from:
        raise Conflict(
            "route.effective-before-current",
            f"route of model {model.model} on line {line.line_id} cannot take effect at {effective_from.isoformat()}: "
            f"the current version v{latest.version} is in force from {latest.effective_from.isoformat()}, and "
            "versions follow each other in time",
            current_version=latest.version,
            current_effective_from=latest.effective_from.isoformat(),
            effective_from=effective_from.isoformat(),
        )
    if latest is not None and latest.steps == tuple(steps):
        return None
    if last_start is not None and effective_from <= last_start:
        raise Conflict(
            "route.effective-before-started-truck",
            f"route of model {model.model} on line {line.line_id} cannot take effect at {effective_from.isoformat()}: "
            f"a truck of the model started on the line at {last_start.isoformat()} and keeps the version it started "
            "with; date the new version after it",
            last_start=last_start.isoformat(),
            effective_from=effective_from.isoformat(),
        )
    return Route(line.line_id, model.model, (latest.version + 1) if latest else 1, tuple(steps), effective_from)
