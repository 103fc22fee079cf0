"""The plant model: a deterministic discrete-event simulation of the plant's users, seeded by the run's seed.

`Plant(scenario, ids, start=..., horizon=..., seed=...)`: `setup()` returns the set-up actions (line, models,
routes, kit types, calendar, HR's import, qualifications, recall goal, targets); `begin()` starts the clock;
`advance(until)` returns the actions due by then, in time order. Pure: no I/O, no wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from plant_sim.actions import Action, Kind
from plant_sim.ids import RunIds
from plant_sim.model.env import Env
from plant_sim.model.kits import Kits
from plant_sim.model.line import Line
from plant_sim.model.people import People
from plant_sim.model.world import World
from plant_sim.scenario import Scenario


class Plant:
    def __init__(self, scenario: Scenario, ids: RunIds, *, start: datetime, horizon: datetime, seed: int) -> None:
        probe = scenario.calendar.plant_calendar(valid_from=start.date())
        first_day = probe.local_date(start)
        calendar = scenario.calendar.plant_calendar(valid_from=first_day)
        if calendar.day_start(first_day) != start:
            raise ValueError(f"the run starts at local midnight of its first day, not at {start.isoformat()}")
        self.env = Env(start, seed)
        self.world = World(scenario, ids, calendar, self.env, start, horizon)
        self.kits = Kits(self.world)
        self.people = People(self.world)
        self.line = Line(self.world, self.people, self.kits)
        self._begun = False

    @property
    def line_id(self) -> str:
        return self.line.line_id

    def setup(self) -> list[Action]:
        """Everything configured before the first day starts, in dependency order."""
        w, env = self.world, self.env
        self.line.setup()
        self.kits.setup()
        spec = w.scenario.calendar
        calendar_seq = env.emit(
            Kind.PUBLISH_CALENDAR,
            f"calendar:{self.line_id}",
            {
                "line_id": self.line_id,
                "time_zone": spec.time_zone,
                "valid_from": w.first_day,
                "working_days": sorted(spec.working_days),
                "holidays": sorted(spec.holidays),
                "shifts": [
                    {
                        "code": s.code,
                        "start": s.start,
                        "end": s.end,
                        "breaks": [{"start": b.start, "end": b.end} for b in s.breaks],
                    }
                    for s in spec.shifts
                ],
            },
            requires=(self.line.line_seq,),
            lag_rules=("line.unknown",),  # workforce learns the line from assembly-line's event
        )
        self.people.setup(calendar_seq=calendar_seq)
        for year, annual in self.annual_targets():
            env.emit(
                Kind.SET_ANNUAL_TARGET,
                f"target:{self.line_id}",
                {"line_id": self.line_id, "year": year, "annual": annual},
            )
        env.emit(
            Kind.SET_WIP_RAMP,
            f"target:{self.line_id}",
            {
                "line_id": self.line_id,
                "points": [
                    {"date": w.calendar.nth_working_day(w.first_day, p.working_day), "wip": p.wip}
                    for p in w.scenario.production.wip_ramp
                ],
            },
        )
        return env.take()

    def annual_targets(self) -> list[tuple[int, int]]:
        """The plan per calendar year from the first day on: a full year's target, pro rata in the first year."""
        w = self.world
        cal, annual = w.calendar, w.scenario.production.annual_target
        first = w.first_day
        out = []
        for year in range(first.year, (w.horizon + timedelta(days=366)).year + 1):
            start = max(first, first.replace(year=year, month=1, day=1))
            end = first.replace(year=year + 1, month=1, day=1)
            full = cal.working_days_between(end.replace(year=year), end) if year > first.year else None
            days = cal.working_days_between(start, end)
            if full is None:
                full = max(days, round(len(cal.working_days) * 52.18) - len(cal.holidays))
            out.append((year, round(annual * days / full) if full else 0))
        return out

    def begin(self) -> None:
        if self._begun:
            return
        self._begun = True
        self.people.start()
        self.kits.start()
        self.line.start()

    def advance(self, until: datetime) -> list[Action]:
        self.begin()
        return self.env.run_until(until)

    def next_time(self) -> datetime | None:
        return self.env.next_time()


@dataclass
class Planned:
    """A run of the model alone, without services: what the plant's users would do."""

    plant: Plant
    setup: list[Action]
    actions: list[Action]
    start: datetime
    end: datetime

    @property
    def all(self) -> list[Action]:
        return [*self.setup, *self.actions]


def plan(scenario: Scenario, *, first_day: date, days: float, seed: int, ids: RunIds | None = None) -> Planned:
    """Run the model over `days` from local midnight of `first_day` (for planning, tuning and tests)."""
    start = scenario.calendar.plant_calendar(valid_from=first_day).day_start(first_day)
    end = start + timedelta(days=days)
    plant = Plant(scenario, ids or RunIds("PLAN", "PLAN00"), start=start, horizon=end, seed=seed)
    setup = plant.setup()
    return Planned(plant, setup, plant.advance(end), start, end)
