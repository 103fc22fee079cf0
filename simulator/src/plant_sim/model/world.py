"""What every part of the plant model shares: the scenario, the run's ids, the calendar, the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

from plant_sim.calendar import PlantCalendar
from plant_sim.ids import RunIds
from plant_sim.model.env import Env
from plant_sim.scenario import Scenario, StationSpec

NOON = time(12, 0)


@dataclass
class World:
    scenario: Scenario
    ids: RunIds
    calendar: PlantCalendar
    env: Env
    start: datetime  # local midnight of the first day
    horizon: datetime  # the end of the planned window (the run continues past it in demo mode)
    _working_day_numbers: dict[date, int] = field(default_factory=dict, repr=False)

    @property
    def first_day(self) -> date:
        return self.calendar.local_date(self.start)

    def day_number(self, day: date) -> int:
        """1 for the first day of the run."""
        return (day - self.first_day).days + 1

    def working_day_number(self, day: date) -> int:
        """1 for the first working day of the run; 0 before it."""
        found = self._working_day_numbers.get(day)
        if found is None:
            found = self.calendar.working_days_between(self.first_day, day + timedelta(days=1))
            if len(self._working_day_numbers) > 4096:
                self._working_day_numbers.clear()
            self._working_day_numbers[day] = found
        return found

    @cached_property
    def stations(self) -> tuple[StationSpec, ...]:
        return tuple(self.scenario.line.stations)

    @cached_property
    def station_ids(self) -> dict[str, str]:
        """Scenario station code -> the run's station id."""
        return {s.id: self.ids.station(s.id) for s in self.stations}

    @cached_property
    def working_days_per_year(self) -> int:
        return self.calendar.working_days_between(self.first_day, self.first_day + timedelta(days=365)) or 1

    @cached_property
    def trucks_per_working_day(self) -> float:
        return self.scenario.production.annual_target / self.working_days_per_year

    def noon(self, day: date) -> datetime:
        return self.calendar.local(day, NOON)
