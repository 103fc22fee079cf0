"""The line: trucks enter with a released kit under the WIP ramp, queue at each station for a bay, are worked
on by the station's crew, and move on; the last station is the end of line and the quality gate.

A visit is a chain of steps, each some working minutes after the previous one (breaks and time off do not
count): work started, serial parts fitted, checks measured (a failed one opens a defect that is repaired
and measured again), a defect found and repaired, an andon raised and cleared while the truck waits, work
completed. Each step is signed off by an operator clocked in at the station at that moment. A truck whose
kit was released build-short waits at the station that fits the missing part until the replacement came.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from plant_sim.actions import Kind
from plant_sim.model.kits import READY_MARGIN, Kit, Kits
from plant_sim.model.people import People
from plant_sim.model.world import World
from plant_sim.scenario import ModelSpec, StationSpec

# The build order requires the kit's release: assembly-line not knowing it released yet is its read model lagging.
KIT_LAG_RULES = ("kit.unknown", "kit.type-unknown", "kit.not-released", "kit.quarantined")
OPERATOR_LAG_RULES = ("operator.not-clocked-in", "operator.not-qualified", "operator.not-active")
ENTRY_MINUTES = 2.0  # from the build order to the truck's arrival at the first station
RECHECK_MINUTES = 3.0
SEND_BACK_MINUTES = 10.0  # a held truck is sent back for rework this long after it arrived
REWORK_SHARE = 0.3  # a rework visit takes this share of the station's standard time


@dataclass(eq=False)
class Truck:
    n: int
    vin: str
    kit: Kit
    model: ModelSpec
    defect_station: int | None  # where a defect will be found, if any
    caused_at: int | None
    order_seq: int | None = None
    seq: int | None = None  # the truck's latest action
    station: int = -1
    open_defect: int | None = None  # the action that opened the defect being repaired
    first_pass: bool = True
    rework_at: int | None = None  # the station it was sent back to, until the rework there is done
    sent_back: bool = False


@dataclass
class Step:
    gap: float  # working minutes after the previous step
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Visit:
    truck: Truck
    station: Station
    steps: deque[Step]


@dataclass(eq=False)
class Station:
    index: int
    spec: StationSpec
    id: str
    queue: deque[Truck] = field(default_factory=deque)
    busy: int = 0
    wake_at: datetime | None = None
    andon_until: datetime | None = None

    @property
    def code(self) -> str:
        return self.spec.id


@dataclass
class LineStats:
    started: int = 0
    completed: int = 0
    defects: int = 0
    failed_checks: int = 0
    andons: int = 0
    held: int = 0
    sent_back: int = 0
    deferred: int = 0

    @property
    def wip(self) -> int:
        return self.started - self.completed


class Line:
    def __init__(self, world: World, people: People, kits: Kits) -> None:
        self.w = world
        self.people = people
        self.kits = kits
        self.spec = world.scenario.production
        self.line_id = world.ids.line(world.scenario.line.id)
        self.stations = [Station(i, s, world.station_ids[s.id]) for i, s in enumerate(world.stations)]
        self.models = {m.code: m for m in world.scenario.models}
        self.stats = LineStats()
        self._rng = world.env.rng("line")
        self._quality = world.env.rng("quality")
        self._andon = world.env.rng("andons")
        self._trucks = 0
        self._last_entry: datetime | None = None
        self._entry_at: datetime | None = None
        self.line_seq: int | None = None
        self.route_seqs: dict[str, int] = {}

    # ---- set-up ----------------------------------------------------------------------------------

    def setup(self) -> None:
        env = self.w.env
        self.line_seq = env.emit(
            Kind.CONFIGURE_LINE,
            f"line:{self.line_id}",
            {
                "line_id": self.line_id,
                "name": self.w.scenario.line.name,
                "stations": [{"station_id": s.id, "name": s.spec.name} for s in self.stations],
            },
        )
        for model in self.w.scenario.models:
            code = self.w.ids.model(model.code)
            defined = env.emit(
                Kind.DEFINE_MODEL,
                f"model:{code}",
                {
                    "model": code,
                    "name": model.name,
                    "variants": [{"code": v.code, "name": v.name} for v in model.variants],
                },
            )
            self.route_seqs[model.code] = env.emit(
                Kind.PUBLISH_ROUTE,
                f"line:{self.line_id}",
                {
                    "line_id": self.line_id,
                    "model": code,
                    "steps": [
                        {
                            "station_id": s.id,
                            "standard_seconds": round(s.spec.standard_minutes * model.standard_factor * 60),
                        }
                        for s in self.stations
                    ],
                },
                requires=(self.line_seq, defined),
            )

    def start(self) -> None:
        self.kits.on_release = self._wake_entry
        self._enter_later(self.w.start)

    # ---- the WIP ramp and line entry ---------------------------------------------------------------

    def cap(self, now: datetime) -> int:
        """WIP allowed on the working day of `now`: linear between the ramp's points."""
        points = self.spec.wip_ramp
        day = self.w.working_day_number(self.w.calendar.local_date(now))
        if day <= points[0].working_day:
            return points[0].wip
        for before, after in itertools.pairwise(points):
            if before.working_day <= day < after.working_day:
                share = (day - before.working_day) / (after.working_day - before.working_day)
                return round(before.wip + (after.wip - before.wip) * share)
        return points[-1].wip

    def _wake_entry(self) -> None:
        self._enter_later(self.w.env.now)

    def _enter_later(self, at: datetime) -> None:
        if self._entry_at is not None and self.w.env.now <= self._entry_at <= at:
            return
        self._entry_at = at
        self.w.env.at(at, self._try_enter)

    def _try_enter(self) -> None:
        env, cal = self.w.env, self.w.calendar
        now = env.now
        if self._entry_at is not None and self._entry_at <= now:
            self._entry_at = None
        if not cal.is_working(now):
            self._enter_later(cal.next_working(now))
            return
        if self.stats.wip >= self.cap(now):
            return  # a truck leaving the line wakes the entry
        if self._last_entry is not None:
            ready = _whole(cal.add_working(self._last_entry, self.spec.entry_gap_minutes))
            if ready > now:
                self._enter_later(ready)
                return
        kit = self.kits.take(now)
        if kit is None:
            return  # the next kit released wakes the entry
        self._enter(kit)
        self._enter_later(_whole(cal.add_working(now, self.spec.entry_gap_minutes)))

    def _enter(self, kit: Kit) -> None:
        env, q = self.w.env, self.w.scenario.quality
        self._trucks += 1
        model = self.models[kit.kit_type.model]
        last = len(self.stations) - 1
        defect_station = caused = None
        if self._quality.random() < q.defect_rate:
            defect_station = last if self._quality.random() < q.found_at_end_share else self._quality.randint(1, last)
            caused = self._quality.randint(0, defect_station)
        truck = Truck(self._trucks, self.w.ids.vin(self._trucks), kit, model, defect_station, caused)
        truck.order_seq = truck.seq = env.emit(
            Kind.CREATE_BUILD_ORDER,
            f"vin:{truck.vin}",
            {
                "vin": truck.vin,
                "model": self.w.ids.model(model.code),
                "variant": kit.kit_type.variant,
                "line_id": self.line_id,
                "kit_serial": kit.serial,
            },
            requires=(kit.release_seq, self.route_seqs[model.code]),
            lag_rules=KIT_LAG_RULES,
        )
        self._last_entry = env.now
        self.stats.started += 1
        env.at(_whole(self.w.calendar.add_working(env.now, ENTRY_MINUTES)), lambda: self._arrive(truck, 0))

    # ---- stations --------------------------------------------------------------------------------

    def _arrive(self, truck: Truck, index: int) -> None:
        station = self.stations[index]
        truck.station = index
        truck.seq = self.w.env.emit(
            Kind.STATION_EVENT,
            f"vin:{truck.vin}",
            {
                "type": "arrived",
                "station": station.id,
                "vin": truck.vin,
                "line_id": self.line_id,
                "entry": index == 0 and truck.rework_at is None,
                "kit_serial": truck.kit.serial,
            },
            requires=(truck.seq,),
        )
        waiting = truck.kit.waiting_at(station.code)
        if waiting is not None and waiting.replaced_at is not None and waiting.replaced_at > self.w.env.now:
            self.stats.held += 1
            self._maybe_send_back(truck, station, waiting.replaced_at)
        station.queue.append(truck)
        self._try_start(station)

    def _maybe_send_back(self, truck: Truck, station: Station, replaced_at: datetime) -> None:
        """A supervisor sends a held truck back to the station before for rework while its part is on the way,
        once, when the rework and the move back end well before the part comes: it is held here again."""
        share = self.spec.rework_held_share
        if not share or truck.sent_back or station.index == 0 or self._rng.random() >= share:
            return
        env, cal = self.w.env, self.w.calendar
        at = _whole(env.now + timedelta(minutes=SEND_BACK_MINUTES))
        back = self.stations[station.index - 1]
        rework = back.spec.standard_minutes * truck.model.standard_factor * REWORK_SHARE
        if cal.add_working(at, rework + 2 * self.spec.move_minutes + 120) >= replaced_at:
            return
        truck.sent_back = True
        env.at(at, lambda: self._send_back(truck, station, back))

    def _send_back(self, truck: Truck, station: Station, back: Station) -> None:
        env = self.w.env
        if truck not in station.queue:
            return  # its part came early after all and work began
        station.queue.remove(truck)
        truck.seq = env.emit(
            Kind.SEND_BACK,
            f"vin:{truck.vin}",
            {"vin": truck.vin, "to_station": back.id, "reason": f"rework at {back.spec.name} while the part is due"},
            requires=(truck.seq,),
        )
        truck.rework_at = back.index
        self.stats.sent_back += 1
        arrive = _whole(self.w.calendar.add_working(env.now, self.spec.move_minutes))
        env.at(arrive, lambda: self._arrive(truck, back.index))

    def _ready_at(self, truck: Truck, station: Station) -> datetime | None:
        """When the truck may start work here: None now, else when its missing part is in."""
        waiting = truck.kit.waiting_at(station.code)
        if waiting is None or waiting.replaced_at is None:
            return None
        ready = waiting.replaced_at + READY_MARGIN
        return ready if ready > self.w.env.now else None

    def _wake(self, station: Station, at: datetime) -> None:
        if station.wake_at is not None and self.w.env.now <= station.wake_at <= at:
            return
        station.wake_at = at
        self.w.env.at(at, lambda: self._try_start(station))

    def _try_start(self, station: Station) -> None:
        env, cal = self.w.env, self.w.calendar
        now = env.now
        if station.wake_at is not None and station.wake_at <= now:
            station.wake_at = None
        if not station.queue or station.busy >= station.spec.bays:
            return
        if not cal.is_working(now):
            self._wake(station, cal.next_working(now))
            return
        while station.busy < station.spec.bays and station.queue:
            waits = [(self._ready_at(t, station), t) for t in station.queue]
            ready = [t for at, t in waits if at is None]
            if not ready:
                self._wake(station, _whole(min(at for at, _ in waits if at is not None)))
                return
            operator = self.people.operator(station.code, now)
            if operator is None:
                self.stats.deferred += 1
                self._wake(station, _whole(cal.add_working(now, 10)))
                return
            truck = ready[0]
            station.queue.remove(truck)
            self._start_work(truck, station, operator.person.badge, operator.clock_in_seq)

    def _start_work(self, truck: Truck, station: Station, badge: str, clock_in_seq: int | None) -> None:
        env = self.w.env
        station.busy += 1
        waiting = truck.kit.waiting_at(station.code)
        lag = OPERATOR_LAG_RULES + (("build-short.part-missing",) if waiting is not None else ())
        truck.seq = env.emit(
            Kind.STATION_EVENT,
            f"vin:{truck.vin}",
            {"type": "work_started", "station": station.id, "vin": truck.vin, "operator_badge": badge},
            requires=(truck.seq, clock_in_seq, waiting.replacement_seq if waiting is not None else None),
            lag_rules=lag,
        )
        if truck.rework_at == station.index:
            minutes = station.spec.standard_minutes * truck.model.standard_factor * REWORK_SHARE
            truck.rework_at = None
            visit = Visit(truck, station, deque([Step(minutes, "complete")]))
        else:
            visit = Visit(truck, station, deque(self._plan(truck, station)))
        self._next(visit)

    def _learning(self, now: datetime) -> float:
        spec = self.spec
        elapsed = max(0, self.w.working_day_number(self.w.calendar.local_date(now)) - 1)
        return 1 + (spec.learning_initial_factor - 1) * 0.5 ** (elapsed / spec.learning_half_life_days)

    def _plan(self, truck: Truck, station: Station) -> list[Step]:
        """The visit's steps, in order, as working-minute gaps from the work start."""
        rng, q = self._rng, self.w.scenario.quality
        cv = self.spec.cycle_time_cv
        sigma = math.sqrt(math.log(1 + cv * cv))
        noise = rng.lognormvariate(-sigma * sigma / 2, sigma) if cv else 1.0
        total = station.spec.standard_minutes * truck.model.standard_factor * self._learning(self.w.env.now) * noise
        timed: list[tuple[float, Step]] = []
        for component in station.spec.components:
            timed.append((rng.uniform(0.1, 0.6) * total, Step(0, "fit", {"component": component})))
        if truck.defect_station == station.index:
            defect = rng.choices(q.defects, weights=[d.share for d in q.defects])[0]
            timed.append((rng.uniform(0.3, 0.8) * total, Step(0, "defect", {"defect": defect})))
        for check in station.spec.checks:
            timed.append((rng.uniform(0.75, 0.95) * total, Step(0, "check", {"check": check})))
        shift_minutes = self.w.calendar.daily_working_minutes / max(1, len(self.w.scenario.calendar.shifts))
        andon_chance = self.w.scenario.andons.per_station_shift * total / (station.spec.bays * shift_minutes)
        if self._andon.random() < min(1.0, andon_chance):
            timed.append((rng.uniform(0.1, 0.9) * total, Step(0, "andon")))
        timed.sort(key=lambda pair: pair[0])
        steps, previous = [], 0.0
        for offset, step in timed:
            step.gap = offset - previous
            previous = offset
            steps.append(step)
        steps.append(Step(total - previous, "complete"))
        return steps

    def _next(self, visit: Visit, extra: float = 0.0) -> None:
        step = visit.steps[0]
        at = _whole(self.w.calendar.add_working(self.w.env.now, step.gap + extra))
        self.w.env.at(at, lambda: self._do(visit))

    def _do(self, visit: Visit) -> None:
        env, cal = self.w.env, self.w.calendar
        truck, station = visit.truck, visit.station
        step = visit.steps[0]
        operator = self.people.operator(station.code, env.now)
        if operator is None and step.kind != "andon":
            # Nobody of the crew is clocked in (a break-free gap between shifts): the step waits for the next shift.
            self.stats.deferred += 1
            following = cal.next_shift_start(env.now)
            if following is None:
                return
            env.at(_whole(cal.add_working(following.start, 5)), lambda: self._do(visit))
            return
        visit.steps.popleft()
        delay = 0.0
        match step.kind:
            case "fit":
                self._fit(truck, station, step.data["component"], operator)
            case "defect":
                self._defect(truck, station, step.data["defect"], operator)
                repair = self.w.scenario.quality.repair_minutes
                visit.steps.appendleft(Step(self._rng.uniform(repair.low, repair.high), "repair"))
            case "repair":
                self._repair(truck, station, operator)
            case "check":
                if self._check(truck, station, step.data["check"], operator, passing=step.data.get("recheck", False)):
                    repair = self.w.scenario.quality.repair_minutes
                    visit.steps.appendleft(
                        Step(RECHECK_MINUTES, "check", {"check": step.data["check"], "recheck": True})
                    )
                    visit.steps.appendleft(Step(self._rng.uniform(repair.low, repair.high), "repair"))
            case "andon":
                delay = self._andon_call(truck, station, operator)
            case "complete":
                self._complete(truck, station, operator)
                return
        self._next(visit, delay)

    def _sign_off(self, truck: Truck, station: Station, data: dict[str, Any], operator: Any) -> int:
        truck.seq = self.w.env.emit(
            Kind.STATION_EVENT,
            f"vin:{truck.vin}",
            {"station": station.id, "vin": truck.vin, "operator_badge": operator.person.badge, **data},
            requires=(truck.seq, operator.clock_in_seq),
            lag_rules=OPERATOR_LAG_RULES,
        )
        return truck.seq

    def _fit(self, truck: Truck, station: Station, component: Any, operator: Any) -> None:
        data: dict[str, Any] = {
            "type": "component_fitted",
            "part_number": component.part,
            "serial": self.w.ids.serial(component.part, truck.n),
            "source": component.source,
        }
        if component.unit_value is not None:
            data["unit_value"] = component.unit_value
        self._sign_off(truck, station, data, operator)

    def _defect(self, truck: Truck, station: Station, defect: Any, operator: Any) -> None:
        caused = self.stations[truck.caused_at if truck.caused_at is not None else station.index]
        truck.seq = truck.open_defect = self.w.env.emit(
            Kind.STATION_EVENT,
            f"vin:{truck.vin}",
            {
                "type": "defect_found",
                "station": station.id,
                "vin": truck.vin,
                "code": defect.code,
                "severity": defect.severity,
                "caused_at_station": caused.id,
                "note": f"found at {station.spec.name}",
                "operator_badge": operator.person.badge,
            },
            requires=(truck.seq,),
        )
        truck.first_pass = False
        self.stats.defects += 1

    def _repair(self, truck: Truck, station: Station, operator: Any) -> None:
        self._sign_off(
            truck, station, {"type": "defect_repaired", "defect_ref": truck.open_defect, "note": "repaired"}, operator
        )
        truck.open_defect = None

    def _check(self, truck: Truck, station: Station, check: Any, operator: Any, *, passing: bool) -> bool:
        """Record a measurement; True when it failed (a defect is open)."""
        rng = self._quality
        failed = not passing and rng.random() < self.w.scenario.quality.check_failure_rate
        if failed:
            value = check.nominal + rng.choice((-1, 1)) * check.tolerance * rng.uniform(1.15, 1.6)
        else:
            value = check.nominal + max(-0.9, min(0.9, rng.gauss(0, 0.33))) * check.tolerance
        seq = self._sign_off(
            truck,
            station,
            {
                "type": "check_recorded",
                "characteristic": check.characteristic,
                "value": round(value, 3),
                "nominal": check.nominal,
                "tolerance": check.tolerance,
                "unit": check.unit,
            },
            operator,
        )
        if failed:
            truck.open_defect = seq
            truck.first_pass = False
            self.stats.failed_checks += 1
        return failed

    def _andon_call(self, truck: Truck, station: Station, operator: Any) -> float:
        """Raise an andon (unless one is open here) and plan its clearing; the minutes the truck waits."""
        env, spec = self.w.env, self.w.scenario.andons
        if station.andon_until is not None and station.andon_until > env.now:
            return 0.0
        minutes = self._andon.uniform(spec.minutes.low, spec.minutes.high)
        data: dict[str, Any] = {
            "type": "andon_raised",
            "station": station.id,
            "reason": self._andon.choice(spec.reasons),
            "stops_line": self._andon.random() < spec.stops_line_share,
            "vin": truck.vin,
        }
        requires: list[int | None] = [truck.order_seq]
        if operator is not None:
            data["operator_badge"] = operator.person.badge
            requires.append(operator.clock_in_seq)
        env.emit(Kind.STATION_EVENT, f"andon:{station.id}", data, requires=requires)
        cleared = _whole(self.w.calendar.add_working(env.now, minutes))
        station.andon_until = cleared
        env.at(cleared, lambda: self._andon_clear(station))
        self.stats.andons += 1
        return minutes

    def _andon_clear(self, station: Station) -> None:
        env = self.w.env
        operator = self.people.operator(station.code, env.now)
        data: dict[str, Any] = {"type": "andon_cleared", "station": station.id}
        requires: list[int | None] = []
        if operator is not None:
            data["operator_badge"] = operator.person.badge
            requires.append(operator.clock_in_seq)
        env.emit(Kind.STATION_EVENT, f"andon:{station.id}", data, requires=requires)

    def _complete(self, truck: Truck, station: Station, operator: Any) -> None:
        env, cal = self.w.env, self.w.calendar
        last = station.index == len(self.stations) - 1
        self._sign_off(
            truck,
            station,
            {"type": "work_completed", "end_of_line": last, "line_id": self.line_id, "kit_serial": truck.kit.serial},
            operator,
        )
        station.busy -= 1
        self._try_start(station)
        if last:
            self.stats.completed += 1
            self._wake_entry()
            return
        arrive = _whole(cal.add_working(env.now, self.spec.move_minutes))
        env.at(arrive, lambda: self._arrive(truck, station.index + 1))


def _whole(at: datetime) -> datetime:
    return at.replace(microsecond=0) if at.microsecond else at
