"""The truck on the line: its route state machine, rework loops, build-short holds and the quality gate.

Each route step goes pending -> arrived -> in_progress -> completed, and the truck moves to the next
step only when the previous one is completed (the cursor is the first step not completed). A supervisor
may send it back to an earlier station: every step from there up to where it is reopens and is visited
again as rework. Completing the last step is the end of line, refused while any defect is open.

Every command validates fully before touching state, so a refused command leaves the truck exactly as
it was; it returns the domain events it raised. Times are the terminals' own: a fact older than the
last one the truck already did is refused, never reordered or guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .errors import Conflict, InvalidInput
from .events import (
    BuildOrderCancelled,
    BuildOrderCreated,
    BuildStarted,
    CheckRecorded,
    ComponentFitted,
    DefectFound,
    DefectRepaired,
    MissingPart,
    SentBackForRework,
    VehicleArrived,
    VehicleCompleted,
    VehicleEvent,
    VehicleHeld,
    VehicleHoldReleased,
    WorkCompleted,
    WorkStarted,
)
from .guards import require_aware, require_text, require_vin
from .line import Route

SEVERITIES = ("minor", "major", "critical")
# A failed check opens a defect with this code unless the terminal names one.
CHECK_DEFECT_PREFIX = "CHK-"


class VehicleStatus(StrEnum):
    PLANNED = "planned"  # a build order: VIN, model, kit; not on the line yet
    IN_PROGRESS = "in_progress"  # started: between line entry and end of line (WIP)
    COMPLETED = "completed"  # passed the end of line
    CANCELLED = "cancelled"  # a build order withdrawn before it started


class StepStatus(StrEnum):
    PENDING = "pending"
    ARRIVED = "arrived"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(kw_only=True)
class Step:
    station: str
    standard_seconds: float
    status: StepStatus = StepStatus.PENDING
    visits: int = 0  # arrivals; more than one means rework
    arrived_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    started_by: str | None = None
    completed_by: str | None = None

    @property
    def rework(self) -> bool:
        return self.visits > 1


@dataclass(kw_only=True)
class Defect:
    defect_id: str
    code: str
    severity: str
    station: str  # where it was found
    caused_at_station: str
    note: str
    from_check: bool
    found_at: datetime
    found_by: str | None
    repaired_at: datetime | None = None
    repaired_by: str | None = None
    repaired_station: str | None = None
    repair_note: str = ""

    @property
    def is_open(self) -> bool:
        return self.repaired_at is None


@dataclass(frozen=True, slots=True)
class Shortage:
    """What the truck's kit still lacks (kit-receiving's build-short release), as known right now."""

    build_short: bool = False
    waiting_stations: frozenset[str] = frozenset()
    missing_parts: tuple[MissingPart, ...] = ()

    def holds(self, station: str) -> bool:
        return station in self.waiting_stations

    def parts_at(self, station: str) -> tuple[MissingPart, ...]:
        return tuple(p for p in self.missing_parts if p.station == station)


NO_SHORTAGE = Shortage()


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A station event as the terminal reported it: where, when (its clock), its id, and who."""

    station: str
    at: datetime
    terminal_event_id: str
    operator_id: str | None = None


@dataclass(frozen=True, slots=True)
class LastEvent:
    kind: str
    station: str
    at: datetime


@dataclass(kw_only=True)
class Vehicle:
    vin: str
    model: str
    variant: str | None
    line_id: str
    kit_serial: str
    route_version: int
    steps: list[Step]
    status: VehicleStatus = VehicleStatus.PLANNED
    defects: list[Defect] = field(default_factory=list)
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    held_at: str | None = None  # station where a build-short hold keeps it
    held_since: datetime | None = None
    last_event: LastEvent | None = None

    # ---- creation -------------------------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        *,
        vin: str,
        model: str,
        variant: str | None,
        kit_serial: str,
        route: Route,
        shortage: Shortage,
        at: datetime,
    ) -> tuple[Vehicle, list[VehicleEvent]]:
        """A build order: the VIN bound to its model, a released kit and the model's route in force at `at`."""
        require_vin(vin)
        require_text(kit_serial, "kit serial")
        require_aware(at, "build order time")
        vehicle = cls(
            vin=vin,
            model=model,
            variant=variant,
            line_id=route.line_id,
            kit_serial=kit_serial,
            route_version=route.version,
            steps=_steps_of(route),
            created_at=at,
        )
        event = BuildOrderCreated(
            vin=vin,
            at=at,
            model=model,
            variant=variant,
            line_id=route.line_id,
            route_version=route.version,
            kit_serial=kit_serial,
            build_short=shortage.build_short,
            waiting_stations=tuple(sorted(shortage.waiting_stations)),
        )
        return vehicle, [event]

    # ---- where the truck is ---------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """Index of the first step not completed (len(steps) once the last is completed)."""
        for i, step in enumerate(self.steps):
            if step.status is not StepStatus.COMPLETED:
                return i
        return len(self.steps)

    @property
    def location(self) -> int | None:
        """Index of the step the truck is at: the one it arrived at, else the last one it completed."""
        c = self.cursor
        if c < len(self.steps) and self.steps[c].status is not StepStatus.PENDING:
            return c
        return c - 1 if c > 0 else None

    @property
    def open_defects(self) -> list[Defect]:
        return [d for d in self.defects if d.is_open]

    def step_index(self, station: str) -> int | None:
        for i, step in enumerate(self.steps):
            if step.station == station:
                return i
        return None

    def defect(self, defect_id: str) -> Defect:
        for d in self.defects:
            if d.defect_id == defect_id:
                return d
        raise InvalidInput(
            "defect.unknown", f"VIN {self.vin} has no defect {defect_id}", known=[d.defect_id for d in self.defects]
        )

    # ---- build order ----------------------------------------------------------------------------

    def start(self, route: Route, at: datetime) -> list[VehicleEvent]:
        """Enter the line: the kit is consumed and the truck follows `route` (the version in force at
        `at`) for good."""
        require_aware(at, "start time")
        self._require_status(VehicleStatus.PLANNED, "build-order.not-planned", "started")
        if (route.line_id, route.model) != (self.line_id, self.model):
            raise Conflict(
                "build-order.route-mismatch",
                f"route of {route.model} on {route.line_id} does not fit VIN {self.vin} "
                f"({self.model} on {self.line_id})",
            )
        self.steps = _steps_of(route)
        self.route_version = route.version
        self.status = VehicleStatus.IN_PROGRESS
        self.started_at = at
        self.last_event = LastEvent("build_started", route.first_station, at)
        return [
            BuildStarted(
                vin=self.vin,
                at=at,
                model=self.model,
                line_id=self.line_id,
                kit_serial=self.kit_serial,
                station=route.first_station,
                route_version=route.version,
            )
        ]

    def cancel(self, at: datetime, by: str, reason: str) -> list[VehicleEvent]:
        require_aware(at, "cancellation time")
        require_text(reason, "cancellation reason")
        if self.status is VehicleStatus.CANCELLED:
            return []
        self._require_status(VehicleStatus.PLANNED, "build-order.not-planned", "cancelled")
        if at < self.created_at:
            raise Conflict(
                "build-order.cancel.before-created",
                f"the build order of VIN {self.vin} was made at {self.created_at.isoformat()}; it cannot be "
                f"cancelled before that ({at.isoformat()})",
            )
        self.status = VehicleStatus.CANCELLED
        self.cancelled_at = at
        return [
            BuildOrderCancelled(
                vin=self.vin, at=at, line_id=self.line_id, kit_serial=self.kit_serial, reason=reason, by=by
            )
        ]

    # ---- station events -------------------------------------------------------------------------

    def arrive(self, occ: Occurrence, shortage: Shortage, route: Route | None = None) -> list[VehicleEvent]:
        """The truck arrived at a station. At the first station of a planned truck this starts the build
        (`route` is then the version in force at the arrival). At a station waiting for a missing part it is held."""
        events: list[VehicleEvent] = []
        if self.status is VehicleStatus.PLANNED:
            if route is None or occ.station != route.first_station:
                first = route.first_station if route else "the first station of its route"
                raise Conflict(
                    "route.not-started",
                    f"VIN {self.vin} has not entered the line; it enters at {first}, not {occ.station}",
                    expected_station=first if route else None,
                )
            # Arriving at the first step of a fresh route cannot be refused, so starting first is safe.
            events += self.start(route, occ.at)
        self._require_on_line(occ, "arrived")
        idx = self._check_arrival(occ)
        step = self.steps[idx]
        step.status = StepStatus.ARRIVED
        step.visits += 1
        step.arrived_at, step.started_at, step.completed_at = occ.at, None, None
        step.started_by = step.completed_by = None
        self._touch("arrived", occ)
        events.append(VehicleArrived(**self._fact(occ), rework=step.rework))
        if shortage.holds(occ.station):
            self.held_at, self.held_since = occ.station, occ.at
            events.append(
                VehicleHeld(
                    vin=self.vin,
                    at=occ.at,
                    line_id=self.line_id,
                    station=occ.station,
                    kit_serial=self.kit_serial,
                    missing_parts=shortage.parts_at(occ.station),
                )
            )
        return events

    def start_work(self, occ: Occurrence) -> list[VehicleEvent]:
        self._require_on_line(occ, "work_started")
        step = self.steps[self._require_current(occ, "start work")]
        if step.status is StepStatus.PENDING:
            raise self._not_arrived(occ, "work cannot start")
        if step.status is StepStatus.IN_PROGRESS:
            raise Conflict(
                "route.work-already-started",
                f"work on VIN {self.vin} at {occ.station} already started at {_iso(step.started_at)}",
                started_at=_iso(step.started_at),
            )
        if self.held_at == occ.station:
            raise Conflict(
                "build-short.part-missing",
                f"VIN {self.vin} is held at {occ.station} since {_iso(self.held_since)}: its kit {self.kit_serial} "
                "is build-short and the part fitted here has not arrived; work starts when kit-receiving "
                "records the replacement",
                kit_serial=self.kit_serial,
                held_since=_iso(self.held_since),
            )
        step.status = StepStatus.IN_PROGRESS
        step.started_at, step.started_by = occ.at, occ.operator_id
        self._touch("work_started", occ)
        return [WorkStarted(**self._fact(occ), rework=step.rework)]

    def complete_work(self, occ: Occurrence) -> list[VehicleEvent]:
        self._require_on_line(occ, "work_completed")
        idx = self._require_current(occ, "complete work")
        step = self.steps[idx]
        if step.status is StepStatus.PENDING:
            raise self._not_arrived(occ, "work cannot be completed")
        if step.status is StepStatus.ARRIVED:
            raise Conflict(
                "route.work-not-started",
                f"work on VIN {self.vin} at {occ.station} cannot be completed before it is started",
            )
        last = idx == len(self.steps) - 1
        still_open = self.open_defects
        if last and still_open:
            raise Conflict(
                "quality-gate.open-defects",
                f"VIN {self.vin} cannot pass the end of line at {occ.station}: {len(still_open)} open defect(s): "
                + ", ".join(f"{d.defect_id} ({d.code}, {d.severity})" for d in still_open),
                open_defects=[d.defect_id for d in still_open],
            )
        assert step.started_at is not None
        step.status = StepStatus.COMPLETED
        step.completed_at, step.completed_by = occ.at, occ.operator_id
        self._touch("work_completed", occ)
        events: list[VehicleEvent] = [
            WorkCompleted(
                **self._fact(occ),
                cycle_seconds=max(0.0, (occ.at - step.started_at).total_seconds()),
                standard_seconds=step.standard_seconds,
                rework=step.rework,
            )
        ]
        if last:
            assert self.started_at is not None
            self.status = VehicleStatus.COMPLETED
            self.completed_at = occ.at
            events.append(
                VehicleCompleted(
                    vin=self.vin,
                    at=occ.at,
                    model=self.model,
                    line_id=self.line_id,
                    station=occ.station,
                    kit_serial=self.kit_serial,
                    started_at=self.started_at,
                    lead_time_seconds=max(0.0, (occ.at - self.started_at).total_seconds()),
                    defect_count=len(self.defects),
                    first_pass=not self.defects,
                )
            )
        return events

    def find_defect(
        self, occ: Occurrence, *, code: str, severity: str, caused_at_station: str, note: str = ""
    ) -> list[VehicleEvent]:
        self._require_on_line(occ, "defect_found")
        here = self._require_present(occ, "record a defect")
        return [self._open_defect(occ, here, code, severity, caused_at_station, note, from_check=False)]

    def repair_defect(self, occ: Occurrence, *, defect_id: str, note: str = "") -> list[VehicleEvent]:
        self._require_on_line(occ, "defect_repaired")
        defect = self.defect(defect_id)
        if not defect.is_open:
            raise Conflict(
                "defect.already-repaired",
                f"defect {defect_id} of VIN {self.vin} was repaired at {_iso(defect.repaired_at)} "
                f"at {defect.repaired_station}",
                repaired_at=_iso(defect.repaired_at),
            )
        self._require_present(occ, "repair a defect")
        defect.repaired_at, defect.repaired_by = occ.at, occ.operator_id
        defect.repaired_station, defect.repair_note = occ.station, note
        self._touch("defect_repaired", occ)
        return [DefectRepaired(**self._fact(occ), defect_id=defect_id, code=defect.code, note=note)]

    def fit_component(
        self, occ: Occurrence, *, part_number: str, serial: str, source: str, unit_value: float | None
    ) -> list[VehicleEvent]:
        require_text(part_number, "part number")
        require_text(serial, "serial")
        if source not in ("kit", "local"):
            raise InvalidInput("component.source-invalid", f"source must be kit or local, got {source!r}")
        self._require_on_line(occ, "component_fitted")
        self._require_working(occ, "fit a component")
        self._touch("component_fitted", occ)
        return [
            ComponentFitted(
                **self._fact(occ), part_number=part_number, serial=serial, source=source, unit_value=unit_value
            )
        ]

    def record_check(
        self,
        occ: Occurrence,
        *,
        characteristic: str,
        value: float,
        nominal: float,
        tolerance: float,
        unit: str = "",
        passed: bool | None = None,
        defect_code: str | None = None,
        severity: str = "major",
    ) -> list[VehicleEvent]:
        """A measured characteristic (torque is one). Passed when |value - nominal| <= tolerance; a
        terminal's own verdict, when sent, must agree. A failed check also opens a defect."""
        require_text(characteristic, "characteristic")
        for name, number in (("value", value), ("nominal", nominal), ("tolerance", tolerance)):
            if not math.isfinite(number):
                raise InvalidInput("check.not-finite", f"{name} must be a finite number, got {number}")
        if tolerance < 0:
            raise InvalidInput("check.tolerance-negative", f"tolerance must not be negative, got {tolerance}")
        verdict = check_passes(value, nominal, tolerance)
        if passed is not None and passed != verdict:
            raise InvalidInput(
                "check.verdict-mismatch",
                f"{characteristic} = {value} against {nominal} ± {tolerance} is a "
                f"{'pass' if verdict else 'fail'}, but the terminal sent {'pass' if passed else 'fail'}",
            )
        self._require_on_line(occ, "check_recorded")
        here = self._require_working(occ, "record a check")
        events: list[VehicleEvent] = []
        defect_id = None
        if not verdict:
            code = defect_code or f"{CHECK_DEFECT_PREFIX}{characteristic}"
            note = f"{characteristic} = {value} {unit}".rstrip() + f", nominal {nominal} ± {tolerance}"
            found = self._open_defect(occ, here, code, severity, occ.station, note, from_check=True)
            defect_id = found.defect_id
            events.append(found)
        self._touch("check_recorded", occ)
        check = CheckRecorded(
            **self._fact(occ),
            characteristic=characteristic,
            value=value,
            nominal=nominal,
            tolerance=tolerance,
            unit=unit,
            passed=verdict,
            defect_id=defect_id,
        )
        return [check, *events]

    # ---- supervisor and kit-receiving -----------------------------------------------------------

    def send_back(
        self, *, to_station: str, reason: str, by: str, at: datetime, stated: bool = False
    ) -> list[VehicleEvent]:
        """Rework: reopen every step from `to_station` up to where the truck is; it visits them again.

        `at` is when it happened: stated by the supervisor (a rework entered late, a replay), or the server's
        time. A stated time before the truck's last event is refused (the steps it reopens would not be the
        ones the truck had then); the server's time is moved up to that event (a terminal's clock ahead)."""
        require_aware(at, "send-back time")
        require_text(reason, "send-back reason")
        self._require_status(VehicleStatus.IN_PROGRESS, "send-back.not-on-line", "sent back")
        target = self.step_index(to_station)
        if target is None:
            raise Conflict(
                "route.station-not-on-route",
                f"{to_station} is not on the route of VIN {self.vin} (v{self.route_version}: "
                f"{', '.join(s.station for s in self.steps)})",
                route=[s.station for s in self.steps],
            )
        here = self.location
        if here is None:
            raise Conflict(
                "send-back.nothing-done", f"VIN {self.vin} has not arrived at any station yet; nothing to redo"
            )
        if target > here:
            raise Conflict(
                "send-back.not-earlier",
                f"VIN {self.vin} is at {self.steps[here].station}; it can only be sent back to that station or "
                f"an earlier one, not to {to_station}",
            )
        if self.last_event is not None and at < self.last_event.at:
            if stated:
                raise Conflict(
                    "send-back.before-last-event",
                    f"VIN {self.vin} was sent back at {at.isoformat()}, before its last recorded event "
                    f"({self.last_event.kind} at {self.last_event.station} at {self.last_event.at.isoformat()}); "
                    "enter the facts in the order they happened",
                    last_event_at=self.last_event.at.isoformat(),
                )
            at = self.last_event.at
        events: list[VehicleEvent] = []
        if self.held_at is not None:
            events.append(self._release(at, "sent_back"))
        for step in self.steps[target : here + 1]:
            step.status = StepStatus.PENDING
            step.arrived_at = step.started_at = step.completed_at = None
            step.started_by = step.completed_by = None
        self.last_event = LastEvent("sent_back", to_station, at)
        events.append(
            SentBackForRework(
                vin=self.vin,
                at=at,
                line_id=self.line_id,
                from_station=self.steps[here].station,
                to_station=to_station,
                reason=reason,
                by=by,
            )
        )
        return events

    def release_hold(self, shortage: Shortage, at: datetime) -> list[VehicleEvent]:
        """Kit-receiving recorded the missing part: a truck held for it may go on."""
        require_aware(at, "release time")
        if self.status is not VehicleStatus.IN_PROGRESS or self.held_at is None or shortage.holds(self.held_at):
            return []
        # The part may have been recorded before a lagging read model held the truck: the hold never ends
        # before it began.
        assert self.held_since is not None
        return [self._release(max(at, self.held_since), "part_arrived")]

    # ---- rules ----------------------------------------------------------------------------------

    def _require_status(self, required: VehicleStatus, rule: str, verb: str) -> None:
        if self.status is not required:
            raise Conflict(rule, f"VIN {self.vin} is {self.status}; only a {required} truck can be {verb}")

    def _require_on_line(self, occ: Occurrence, kind: str) -> None:
        """Common to every station event: the truck is on the line, and this fact is not older than the
        last one it did (a terminal's backlog is judged in its own order, never reordered)."""
        if self.status is VehicleStatus.COMPLETED:
            raise Conflict(
                "vehicle.completed",
                f"VIN {self.vin} passed the end of line at {_iso(self.completed_at)}; no more station events",
                completed_at=_iso(self.completed_at),
            )
        if self.status is VehicleStatus.CANCELLED:
            raise Conflict("vehicle.cancelled", f"the build order of VIN {self.vin} was cancelled")
        if self.status is VehicleStatus.PLANNED:
            raise Conflict(
                "route.not-started",
                f"VIN {self.vin} has not entered the line; it enters with an arrival at "
                f"{self.steps[0].station if self.steps else 'the first station of its route'}",
            )
        self._require_in_order(occ, kind)

    def _require_in_order(self, occ: Occurrence, kind: str) -> None:
        require_aware(occ.at, "occurred_at")
        last = self.last_event
        if last is not None and occ.at < last.at:
            raise Conflict(
                "station-event.out-of-order",
                f"{kind} at {occ.station} for VIN {self.vin} happened at {occ.at.isoformat()}, before the last "
                f"thing the truck already did: {last.kind} at {last.station} at {last.at.isoformat()}; "
                "a terminal's events are taken in the order they happened",
                last_event={"type": last.kind, "station": last.station, "at": last.at.isoformat()},
            )

    def _index(self, station: str) -> int:
        idx = self.step_index(station)
        if idx is None:
            raise Conflict(
                "route.station-not-on-route",
                f"{station} is not on the route of VIN {self.vin} ({self.model} v{self.route_version}: "
                f"{', '.join(s.station for s in self.steps)})",
                route=[s.station for s in self.steps],
            )
        return idx

    def _where(self) -> str:
        here = self.location
        if here is None:
            return f"has not arrived at {self.steps[0].station} yet"
        step = self.steps[here]
        doing = {
            StepStatus.ARRIVED: "arrived at",
            StepStatus.IN_PROGRESS: "in work at",
            StepStatus.COMPLETED: "done at",
        }[step.status]
        return f"is {doing} {step.station}"

    def _require_current(self, occ: Occurrence, doing: str) -> int:
        """The event's station is the step the truck is due at (no skipping, no station twice)."""
        idx, c = self._index(occ.station), self.cursor
        if idx < c:
            step = self.steps[idx]
            raise Conflict(
                "route.station-already-done",
                f"VIN {self.vin} already completed {occ.station} at {_iso(step.completed_at)}; it visits a station "
                "again only when a supervisor sends it back for rework",
                completed_at=_iso(step.completed_at),
            )
        if idx > c:
            due = self.steps[c]
            raise Conflict(
                "route.station-skipped",
                f"cannot {doing} at {occ.station}: VIN {self.vin} {self._where()}; {due.station} comes first "
                "on its route",
                due_station=due.station,
            )
        return idx

    def _check_arrival(self, occ: Occurrence) -> int:
        idx = self._require_current(occ, "arrive")
        step = self.steps[idx]
        if step.status is not StepStatus.PENDING:
            raise Conflict(
                "route.already-arrived",
                f"VIN {self.vin} already arrived at {occ.station} at {_iso(step.arrived_at)}",
                arrived_at=_iso(step.arrived_at),
            )
        return idx

    def _not_arrived(self, occ: Occurrence, what: str) -> Conflict:
        return Conflict(
            "route.not-arrived",
            f"{what}: VIN {self.vin} has not arrived at {occ.station} (it {self._where().removeprefix('is ')})",
        )

    def _require_working(self, occ: Occurrence, doing: str) -> int:
        idx = self._require_current(occ, doing)
        step = self.steps[idx]
        if step.status is StepStatus.PENDING:
            raise self._not_arrived(occ, f"cannot {doing}")
        if step.status is not StepStatus.IN_PROGRESS:
            raise Conflict(
                "route.work-not-started",
                f"cannot {doing} on VIN {self.vin} at {occ.station}: work there has not started",
            )
        return idx

    def _require_present(self, occ: Occurrence, doing: str) -> int:
        """Defects are recorded and repaired where the truck is (arrived, in work, or just done there)."""
        idx, here = self._index(occ.station), self.location
        if idx != here:
            raise Conflict(
                "route.vehicle-not-at-station",
                f"cannot {doing} for VIN {self.vin} at {occ.station}: the truck {self._where()}",
            )
        return idx

    def _open_defect(
        self, occ: Occurrence, here: int, code: str, severity: str, caused_at: str, note: str, *, from_check: bool
    ) -> DefectFound:
        require_text(code, "defect code")
        if severity not in SEVERITIES:
            raise InvalidInput("defect.severity-invalid", f"severity must be one of {', '.join(SEVERITIES)}")
        caused = self.step_index(caused_at)
        if caused is None or caused > here:
            visited = ", ".join(s.station for s in self.steps[: here + 1])
            raise Conflict(
                "defect.caused-at-invalid",
                f"a defect on VIN {self.vin} found at {occ.station} can only be caused at a station it has "
                f"visited ({visited}), not {caused_at}",
            )
        defect = Defect(
            defect_id=f"{self.vin}-D{len(self.defects) + 1}",
            code=code,
            severity=severity,
            station=occ.station,
            caused_at_station=caused_at,
            note=note,
            from_check=from_check,
            found_at=occ.at,
            found_by=occ.operator_id,
        )
        self.defects.append(defect)
        if not from_check:
            self._touch("defect_found", occ)
        return DefectFound(
            **self._fact(occ),
            defect_id=defect.defect_id,
            code=code,
            severity=severity,
            caused_at_station=caused_at,
            note=note,
            from_check=from_check,
        )

    def _release(self, at: datetime, reason: str) -> VehicleHoldReleased:
        assert self.held_at is not None and self.held_since is not None
        event = VehicleHoldReleased(
            vin=self.vin,
            at=at,
            line_id=self.line_id,
            station=self.held_at,
            kit_serial=self.kit_serial,
            reason=reason,
            held_seconds=max(0.0, (at - self.held_since).total_seconds()),
        )
        self.held_at = self.held_since = None
        return event

    def _touch(self, kind: str, occ: Occurrence) -> None:
        self.last_event = LastEvent(kind, occ.station, occ.at)

    def _fact(self, occ: Occurrence) -> dict[str, object]:
        return {
            "vin": self.vin,
            "at": occ.at,
            "line_id": self.line_id,
            "station": occ.station,
            "terminal_event_id": occ.terminal_event_id,
            "operator_id": occ.operator_id,
        }


def check_passes(value: float, nominal: float, tolerance: float) -> bool:
    """|value - nominal| <= tolerance, forgiving the binary rounding of decimal inputs (10.3 - 10.0)."""
    slack = 1e-9 * max(1.0, abs(nominal), abs(tolerance))
    return abs(value - nominal) <= tolerance + slack


def _steps_of(route: Route) -> list[Step]:
    return [Step(station=s.station_id, standard_seconds=s.standard_seconds) for s in route.steps]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def stations_of(vehicles: Iterable[Vehicle]) -> set[str]:
    """Every station on the routes of the given trucks (a line must keep them while trucks need them)."""
    return {s.station for v in vehicles for s in v.steps}
