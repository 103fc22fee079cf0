"""The projections' fold: one event in, the projection rows it contributes out. Pure and deterministic.

`fold(envelope, seq)` dispatches on the event type to a small function that maps the typed payload to
rows of the projection tables (merged by the tables' column rules) and names the views it changes. The
instant of every fact is the envelope's `time` (when it happened), never when it was received; `seq`
(the event's place in the log) only breaks ties between equal times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from mes_shared.envelope import Envelope, EventData
from mes_shared.events import kits as k
from mes_shared.events import people as p
from mes_shared.events import stations as s
from mes_shared.events import vehicles as v
from reporting.domain.calendar import zone

Row = tuple[str, dict[str, Any]]

# View names, as the live stream announces them and the dashboard refreshes them.
OUTPUT, WIP, FLOW, QUALITY, ANDONS, OEE = "output", "wip", "flow", "quality", "andons", "oee"
KITS, PEOPLE, STAFFING, LOCALISATION, LINES, TARGETS = "kits", "people", "staffing", "localisation", "lines", "targets"
ALL_VIEWS: frozenset[str] = frozenset(
    {OUTPUT, WIP, FLOW, QUALITY, ANDONS, OEE, KITS, PEOPLE, STAFFING, LOCALISATION, LINES, TARGETS}
)


def log_seq(partition: int, offset: int) -> int:
    """A total order of log positions: partition first, then offset (ties between equal event times)."""
    return (partition << 40) | offset


@dataclass(frozen=True, slots=True)
class Fact:
    """What every fold function knows about the event besides its payload."""

    event_id: UUID
    at: datetime
    seq: int

    def version(self, group: str) -> dict[str, Any]:
        return {f"{group}_at": self.at, f"{group}_seq": self.seq}


@dataclass(frozen=True, slots=True)
class Effects:
    rows: tuple[Row, ...]
    views: frozenset[str]


E = TypeVar("E", bound=EventData)
FoldFn = Callable[[Any, Fact], Iterator[Row]]
FOLDS: dict[str, tuple[FoldFn, frozenset[str]]] = {}


def folds(
    model: type[E], *views: str
) -> Callable[[Callable[[E, Fact], Iterator[Row]]], Callable[[E, Fact], Iterator[Row]]]:
    def register(fn: Callable[[E, Fact], Iterator[Row]]) -> Callable[[E, Fact], Iterator[Row]]:
        if model.event_type in FOLDS:
            raise TypeError(f"{model.event_type} is folded twice")
        FOLDS[model.event_type] = (fn, frozenset(views))
        return fn

    return register


def fold(envelope: Envelope, seq: int) -> Effects | None:
    """The rows and views of one event; None for event types reporting does not fold.

    Raises when a known event's data breaks its contract (the caller dead-letters it)."""
    entry = FOLDS.get(envelope.type)
    if entry is None:
        return None
    fn, views = entry
    fact = Fact(envelope.id, envelope.time, seq)
    return Effects(tuple(fn(envelope.payload(), fact)), views)


def _json(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items]


# ---- stations: lines, routes, andons --------------------------------------------------------------


@folds(s.LineConfigured, LINES, WIP, OEE, FLOW)
def _line_configured(e: s.LineConfigured, f: Fact) -> Iterator[Row]:
    stations = sorted(_json(e.stations), key=lambda st: (st["position"], st["station_id"]))
    yield "lines", {"line_id": e.line_id, "name": e.name, "stations": stations, **f.version("definition")}


@folds(s.RoutePublished, LINES, WIP, OEE, FLOW)
def _route_published(e: s.RoutePublished, f: Fact) -> Iterator[Row]:
    yield (
        "routes",
        {
            "line_id": e.line_id,
            "model": e.model,
            "version": e.version,
            "steps": _json(e.steps),
            "published_at": f.at,
        },
    )


@folds(s.AndonRaised, ANDONS, OEE)
def _andon_raised(e: s.AndonRaised, f: Fact) -> Iterator[Row]:
    yield (
        "andons",
        {
            "line_id": e.line_id,
            "andon_id": e.andon_id,
            "station": e.station,
            "reason": e.reason,
            "raised_by": e.raised_by,
            "vin": e.vin,
            "stops_line": e.stops_line,
            "raised_at": f.at,
        },
    )


@folds(s.AndonCleared, ANDONS, OEE)
def _andon_cleared(e: s.AndonCleared, f: Fact) -> Iterator[Row]:
    yield (
        "andons",
        {
            "line_id": e.line_id,
            "andon_id": e.andon_id,
            "station": e.station,
            "stops_line": e.stops_line,
            "cleared_at": f.at,
            "cleared_by": e.cleared_by,
            "duration_seconds": e.duration_seconds,
        },
    )


# ---- people: calendar, rosters, employees, recall, qualifications, clock-in/out -------------------


@folds(p.CalendarPublished, OUTPUT, OEE, LINES, TARGETS, KITS, STAFFING)
def _calendar_published(e: p.CalendarPublished, f: Fact) -> Iterator[Row]:
    zone(e.time_zone)  # an unknown zone is a broken event: refuse it here, not in every query
    yield (
        "calendars",
        {
            "line_id": e.line_id,
            "version": e.version,
            "time_zone": e.time_zone,
            "valid_from": e.valid_from,
            "working_days": sorted(set(e.working_days)),
            "holidays": sorted({d.isoformat() for d in e.holidays}),
            "shifts": _json(e.shifts),
            "published_at": f.at,
        },
    )


@folds(p.RosterPublished, STAFFING)
def _roster_published(e: p.RosterPublished, f: Fact) -> Iterator[Row]:
    yield (
        "rosters",
        {
            "line_id": e.line_id,
            "date": e.date,
            "shift": e.shift,
            "assignments": _json(e.assignments),
            "required": _json(e.required),
            "unqualified": _json(e.unqualified_assignments),
            **f.version("roster"),
        },
    )


def _status(employee_id: str, status: str, effective: Any, f: Fact, origin: str) -> Row:
    """A status (and the origin that goes with it) in force from `effective` on."""
    return "employee_status", {
        "event_id": f.event_id,
        "employee_id": employee_id,
        "status": status,
        "origin": origin,
        "effective": effective,
        "at": f.at,
        "seq": f.seq,
    }


@folds(p.EmployeeRegistered, PEOPLE, STAFFING)
def _employee_registered(e: p.EmployeeRegistered, f: Fact) -> Iterator[Row]:
    yield (
        "employees",
        {
            "employee_id": e.employee_id,
            "badge_id": e.badge_id,
            "name": e.name,
            **f.version("identity"),
            "origin": e.origin,
            **f.version("origin"),
            "registered_on": e.status_since,
        },
    )
    yield _status(e.employee_id, e.status, e.status_since, f, e.origin)


@folds(p.EmployeeUpdated, PEOPLE)
def _employee_updated(e: p.EmployeeUpdated, f: Fact) -> Iterator[Row]:
    yield "employees", {"employee_id": e.employee_id, "badge_id": e.badge_id, "name": e.name, **f.version("identity")}


@folds(p.EmployeeStatusChanged, PEOPLE, STAFFING)
def _employee_status_changed(e: p.EmployeeStatusChanged, f: Fact) -> Iterator[Row]:
    yield "employees", {"employee_id": e.employee_id, "origin": e.origin, **f.version("origin")}
    yield _status(e.employee_id, e.to_status, e.effective_date, f, e.origin)


@folds(p.EmployeeRecalled, PEOPLE, STAFFING)
def _employee_recalled(e: p.EmployeeRecalled, f: Fact) -> Iterator[Row]:
    yield (
        "recalls",
        {
            "event_id": f.event_id,
            "employee_id": e.employee_id,
            "recalled_on": e.recalled_on,
            "goal_id": e.goal_id,
            "at": f.at,
        },
    )
    yield _status(e.employee_id, "active", e.recalled_on, f, "recalled")  # a recall makes the origin recalled


@folds(p.RecallGoalSet, PEOPLE)
def _recall_goal_set(e: p.RecallGoalSet, f: Fact) -> Iterator[Row]:
    yield (
        "recall_goals",
        {
            "goal_id": e.goal_id,
            "target_count": e.target_count,
            "by_date": e.by_date,
            "note": e.note,
            **f.version("goal"),
            "first_set_at": f.at,
        },
    )


def _qualification_change(
    e: p.QualificationGranted | p.QualificationRenewed | p.QualificationRevoked | p.QualificationExpired,
    f: Fact,
    kind: str,
    at: datetime,
    **window: Any,
) -> Row:
    return (
        "qualification_changes",
        {
            "event_id": f.event_id,
            "employee_id": e.employee_id,
            "station": e.station,
            "kind": kind,
            "level": e.level,
            "valid_from": window.get("valid_from"),
            "valid_until": window.get("valid_until"),
            "at": at,
            "seq": f.seq,
        },
    )


@folds(p.QualificationGranted, PEOPLE)
def _qualification_granted(e: p.QualificationGranted, f: Fact) -> Iterator[Row]:
    yield _qualification_change(e, f, "granted", f.at, valid_from=e.valid_from, valid_until=e.valid_until)


@folds(p.QualificationRenewed, PEOPLE)
def _qualification_renewed(e: p.QualificationRenewed, f: Fact) -> Iterator[Row]:
    yield _qualification_change(e, f, "renewed", f.at, valid_from=e.valid_from, valid_until=e.valid_until)


@folds(p.QualificationRevoked, PEOPLE)
def _qualification_revoked(e: p.QualificationRevoked, f: Fact) -> Iterator[Row]:
    yield _qualification_change(e, f, "revoked", e.revoked_at)


@folds(p.QualificationExpired, PEOPLE)
def _qualification_expired(e: p.QualificationExpired, f: Fact) -> Iterator[Row]:
    yield _qualification_change(e, f, "expired", e.expired_at)


def _clocking(e: p.ClockedIn | p.ClockedOut, f: Fact, kind: str, **extra: Any) -> Row:
    return "clockings", {
        "event_id": f.event_id,
        "kind": kind,
        "employee_id": e.employee_id,
        "station": e.station,
        "line_id": e.line_id,
        "shift_date": e.shift_date,
        "shift": e.shift,
        "at": e.at,
        **extra,
    }


@folds(p.ClockedIn, STAFFING)
def _clocked_in(e: p.ClockedIn, f: Fact) -> Iterator[Row]:
    yield _clocking(e, f, "in")


@folds(p.ClockedOut, STAFFING)
def _clocked_out(e: p.ClockedOut, f: Fact) -> Iterator[Row]:
    yield _clocking(e, f, "out", automatic=e.automatic, reason=getattr(e, "reason", None))


# ---- kits -----------------------------------------------------------------------------------------


def _kit(serial: str, **values: Any) -> Row:
    return "kits", {"serial": serial, **values}


def _kit_status(serial: str, status: str, f: Fact) -> Row:
    return "kit_status_changes", {"event_id": f.event_id, "serial": serial, "status": status, "at": f.at, "seq": f.seq}


@folds(k.KitTypeBomPublished, KITS, LOCALISATION)
def _bom_published(e: k.KitTypeBomPublished, f: Fact) -> Iterator[Row]:
    yield (
        "bom_versions",
        {
            "kit_type": e.kit_type,
            "version": e.version,
            "model": e.model,
            "variant": e.variant,
            "part_count": sum(line.quantity for line in e.lines),
            "line_count": len(e.lines),
            "published_at": f.at,
        },
    )


@folds(k.ShipmentAnnounced, KITS)
@folds(k.ShipmentCorrected, KITS)
def _shipment_eta(e: k.ShipmentAnnounced | k.ShipmentCorrected, f: Fact) -> Iterator[Row]:
    yield (
        "shipment_eta_changes",
        {
            "event_id": f.event_id,
            "shipment_id": e.shipment_id,
            "expected_arrival": e.expected_arrival,
            "at": f.at,
            "seq": f.seq,
        },
    )


@folds(k.KitAnnounced, KITS)
def _kit_announced(e: k.KitAnnounced, f: Fact) -> Iterator[Row]:
    yield _kit(
        e.serial,
        kit_type=e.kit_type,
        bom_version=e.bom_version,
        **f.version("spec"),
        status="announced",
        **f.version("status"),
        expected_arrival=e.expected_arrival,
        **f.version("eta"),
        shipment_id=e.shipment_id,
        announced_at=f.at,
    )
    yield _kit_status(e.serial, "announced", f)


@folds(k.KitAmended, KITS)
def _kit_amended(e: k.KitAmended, f: Fact) -> Iterator[Row]:
    yield _kit(e.serial, kit_type=e.kit_type, bom_version=e.bom_version, **f.version("spec"))


@folds(k.KitCancelled, KITS)
def _kit_cancelled(e: k.KitCancelled, f: Fact) -> Iterator[Row]:
    yield _kit(e.serial, status="cancelled", **f.version("status"), shipment_id=e.shipment_id)
    yield _kit_status(e.serial, "cancelled", f)


@folds(k.KitReceived, KITS)
def _kit_received(e: k.KitReceived, f: Fact) -> Iterator[Row]:
    yield _kit(
        e.serial,
        kit_type=e.kit_type,
        bom_version=e.bom_version,
        **f.version("spec"),
        status=e.status,
        **f.version("status"),
        shipment_id=e.shipment_id,
        unannounced=e.unannounced,
        received_at=f.at,
    )
    yield _kit_status(e.serial, e.status, f)


@folds(k.KitQuarantined, KITS)
def _kit_quarantined(e: k.KitQuarantined, f: Fact) -> Iterator[Row]:
    yield _kit(e.serial, status="quarantined", **f.version("status"))
    yield _kit_status(e.serial, "quarantined", f)


@folds(k.KitQuarantineLifted, KITS)
def _kit_quarantine_lifted(e: k.KitQuarantineLifted, f: Fact) -> Iterator[Row]:
    yield _kit(e.serial, status="received", **f.version("status"))
    yield _kit_status(e.serial, "received", f)


@folds(k.KitReleased, KITS, LOCALISATION)
def _kit_released(e: k.KitReleased, f: Fact) -> Iterator[Row]:
    yield _kit(
        e.serial,
        kit_type=e.kit_type,
        bom_version=e.bom_version,
        **f.version("spec"),
        status="released",
        **f.version("status"),
        build_short=e.build_short,
        waiting_stations=sorted(e.waiting_stations),
        **f.version("release"),
        released_at=f.at,
    )
    yield _kit_status(e.serial, "released", f)


@folds(k.KitConsumed, KITS)
def _kit_consumed(e: k.KitConsumed, f: Fact) -> Iterator[Row]:
    yield _kit(e.serial, status="consumed", **f.version("status"), consumed_at=f.at, consumed_by_vin=e.vin)
    yield _kit_status(e.serial, "consumed", f)


def _discrepancy(e: k.DiscrepancyRecorded | k.DiscrepancyResolved, f: Fact, **state: Any) -> Row:
    return "discrepancies", {
        "serial": e.serial,
        "discrepancy_id": e.discrepancy_id,
        "claim_code": e.claim_code,
        "part_number": e.part_number,
        "quantity": e.quantity,
        "station": e.station,
        **state,
        **f.version("state"),
    }


def _discrepancy_change(e: k.DiscrepancyRecorded | k.DiscrepancyResolved, f: Fact, status: str) -> Row:
    return "discrepancy_changes", {
        "event_id": f.event_id,
        "serial": e.serial,
        "discrepancy_id": e.discrepancy_id,
        "claim_code": e.claim_code,
        "status": status,
        "at": f.at,
        "seq": f.seq,
    }


@folds(k.DiscrepancyRecorded, KITS)
def _discrepancy_recorded(e: k.DiscrepancyRecorded, f: Fact) -> Iterator[Row]:
    yield _discrepancy(e, f, recorded_at=f.at, status="open")
    yield _discrepancy_change(e, f, "open")


@folds(k.DiscrepancyResolved, KITS)
def _discrepancy_resolved(e: k.DiscrepancyResolved, f: Fact) -> Iterator[Row]:
    yield _discrepancy(
        e, f, status=e.discrepancy_status, resolution=e.resolution, resolved_at=f.at, resolved_by=e.resolved_by
    )
    yield _discrepancy_change(e, f, e.discrepancy_status)
    if e.kit_status == "released":
        # A replacement for a build-short kit already at the line frees its waiting stations.
        yield _kit(
            e.serial, build_short=e.build_short, waiting_stations=sorted(e.waiting_stations), **f.version("release")
        )


# ---- vehicles -------------------------------------------------------------------------------------


def _movement(e: Any, f: Fact, kind: str, station: str, **extra: Any) -> Row:
    return "station_events", {
        "event_id": f.event_id,
        "vin": e.vin,
        "line_id": e.line_id,
        "station": station,
        "kind": kind,
        "at": f.at,
        "seq": f.seq,
        "operator_id": getattr(e, "operator_id", None),
        **extra,
    }


@folds(v.BuildOrderCreated, WIP, KITS)
def _build_order_created(e: v.BuildOrderCreated, f: Fact) -> Iterator[Row]:
    yield (
        "vehicles",
        {
            "vin": e.vin,
            "line_id": e.line_id,
            "model": e.model,
            "route_version": e.route_version,
            "kit_serial": e.kit_serial,
            "build_short": e.build_short,
            "waiting_stations": sorted(e.waiting_stations),
            "ordered_at": f.at,
        },
    )


if hasattr(v, "BuildOrderCancelled"):  # added to the catalogue while reporting was written

    @folds(v.BuildOrderCancelled, WIP, KITS)
    def _build_order_cancelled(e: Any, f: Fact) -> Iterator[Row]:
        yield "vehicles", {"vin": e.vin, "line_id": e.line_id, "kit_serial": e.kit_serial, "cancelled_at": f.at}


@folds(v.BuildStarted, WIP, KITS)
def _build_started(e: v.BuildStarted, f: Fact) -> Iterator[Row]:
    yield (
        "vehicles",
        {
            "vin": e.vin,
            "line_id": e.line_id,
            "model": e.model,
            "route_version": getattr(e, "route_version", None),
            "kit_serial": e.kit_serial,
            "started_at": f.at,
            "start_station": e.station,
        },
    )
    yield _movement(e, f, "started", e.station)


@folds(v.VehicleArrived, WIP)
def _arrived(e: v.VehicleArrived, f: Fact) -> Iterator[Row]:
    yield _movement(e, f, "arrived", e.station)


@folds(v.WorkStarted, WIP)
def _work_started(e: v.WorkStarted, f: Fact) -> Iterator[Row]:
    yield _movement(e, f, "work_started", e.station)


@folds(v.WorkCompleted, WIP, FLOW, OEE)
def _work_completed(e: v.WorkCompleted, f: Fact) -> Iterator[Row]:
    yield _movement(
        e,
        f,
        "work_completed",
        e.station,
        cycle_seconds=e.cycle_seconds,
        standard_seconds=e.standard_seconds,
        rework=e.rework,
    )


@folds(v.SentBackForRework, WIP)
def _sent_back(e: v.SentBackForRework, f: Fact) -> Iterator[Row]:
    yield _movement(e, f, "sent_back", e.to_station, from_station=e.from_station)


def _hold_change(e: v.VehicleHeld | v.VehicleHoldReleased, f: Fact, *, held: bool) -> Row:
    return (
        "hold_changes",
        {
            "event_id": f.event_id,
            "vin": e.vin,
            "station": e.station,
            "line_id": e.line_id,
            "kit_serial": e.kit_serial,
            "missing_parts": _json(e.missing_parts) if isinstance(e, v.VehicleHeld) else None,
            "held": held,
            "at": f.at,
            "seq": f.seq,
        },
    )


@folds(v.VehicleHeld, WIP, KITS)
def _held(e: v.VehicleHeld, f: Fact) -> Iterator[Row]:
    yield _hold_change(e, f, held=True)
    yield _movement(e, f, "held", e.station)


@folds(v.VehicleHoldReleased, WIP, KITS)
def _hold_released(e: v.VehicleHoldReleased, f: Fact) -> Iterator[Row]:
    yield _hold_change(e, f, held=False)
    yield _movement(e, f, "hold_released", e.station)


@folds(v.DefectFound, QUALITY, OEE)
def _defect_found(e: v.DefectFound, f: Fact) -> Iterator[Row]:
    yield (
        "defects",
        {
            "vin": e.vin,
            "defect_id": e.defect_id,
            "line_id": e.line_id,
            "station": e.station,
            "caused_at_station": e.caused_at_station,
            "code": e.code,
            "severity": e.severity,
            "from_check": e.from_check,
            "found_at": f.at,
        },
    )


@folds(v.DefectRepaired, QUALITY)
def _defect_repaired(e: v.DefectRepaired, f: Fact) -> Iterator[Row]:
    yield (
        "defects",
        {
            "vin": e.vin,
            "defect_id": e.defect_id,
            "line_id": e.line_id,
            "code": e.code,
            "repaired_at": f.at,
            "repaired_station": e.station,
        },
    )


@folds(v.ComponentFitted, LOCALISATION)
def _component_fitted(e: v.ComponentFitted, f: Fact) -> Iterator[Row]:
    yield (
        "components",
        {
            "event_id": f.event_id,
            "vin": e.vin,
            "line_id": e.line_id,
            "station": e.station,
            "part_number": e.part_number,
            "serial": e.serial,
            "source": e.source,
            "unit_value": e.unit_value,
            "at": f.at,
        },
    )


@folds(v.VehicleCompleted, OUTPUT, WIP, FLOW, QUALITY, OEE, LOCALISATION, KITS)
def _completed(e: v.VehicleCompleted, f: Fact) -> Iterator[Row]:
    yield (
        "vehicles",
        {
            "vin": e.vin,
            "line_id": e.line_id,
            "model": e.model,
            "kit_serial": e.kit_serial,
            "started_at": e.started_at,
            "completed_at": f.at,
            "end_station": e.station,
            "lead_time_seconds": e.lead_time_seconds,
            "defect_count": e.defect_count,
            "first_pass": e.first_pass,
        },
    )
    yield _movement(e, f, "completed", e.station)
