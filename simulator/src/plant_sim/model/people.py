"""People: HR's import on day one, recalls, hires and leavers at noon, qualifications, rosters, badge scans.

Every operator belongs to a station's crew on one shift (a team); the rest are support staff qualified for
a skill. The supervisor publishes each shift's roster eight hours ahead; who of the rostered crew comes,
when they scan in and out, who is late, absent or forgets the clock-out is drawn then. The crew's leader
(the longest-serving rostered operator of the station) always comes on time, so a station is never
without someone to sign off work.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from plant_sim.actions import Kind
from plant_sim.calendar import ShiftInstance
from plant_sim.model.world import World


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "Adam Agnieszka Ahmet Aleksander Alina Amir Anna Ayse Bartosz Carlos Dawid Dorota Elif Emil Ewa Fatima Filip "
    "Hakan Ilona Ivan Jakub Jana Joanna Kamil Karolina Leyla Lukas Maria Marek Mehmet Michal Natalia Nikola Oskar "
    "Paulina Piotr Rafal Sara Selin Tomasz Viktor Weronika Yusuf Zofia"
)
LAST = _words(
    "Nowak Kowalski Wisniewski Wojcik Kaminski Lewandowski Zielinski Szymanski Wozniak Dabrowski Kozlowski Jankowski "
    "Mazur Kwiatkowski Krawczyk Piotrowski Grabowski Pawlowski Michalski Nowicki Adamczyk Dudek Zajac Wieczorek "
    "Jablonski Krol Majewski Olszewski Jaworski Malinowski Yilmaz Demir Kaya Celik Novak Horvat Petrov Ivanov"
)

ROSTER_AHEAD = timedelta(hours=8)
RENEW_AHEAD = timedelta(days=14)
OPERATOR_LAG = timedelta(seconds=30)  # a sign-off comes at least this long after the operator's clock-in


@dataclass(eq=False)
class Person:
    n: int
    employee_id: str
    badge: str
    name: str
    origin: str
    status: str
    status_since: date
    station: str | None = None  # scenario code of the home station; None: support staff
    team: str | None = None  # shift code
    skill: str | None = None
    qualification: str | None = None  # the station id or skill code granted
    level: str = "qualified"
    grant_seq: int | None = None
    valid_until: datetime | None = None
    joins: date | None = None  # first shift date this person may be rostered
    promote_on: date | None = None
    leaving: bool = False
    leave_at: datetime | None = None  # when HR records that this person left
    roster_seq: int | None = None  # the latest roster naming this person


LATE_SCAN_AFTER_LEAVE = timedelta(minutes=30)
HISTORY_AGE = timedelta(days=300)  # a past qualification from the training record was granted this long before


@dataclass(eq=False)
class Presence:
    person: Person
    station: str
    shift: ShiftInstance
    clock_in_at: datetime
    clock_out_at: datetime | None  # None: forgets to scan out (workforce closes it at shift end + grace)
    clock_in_seq: int | None = None


@dataclass
class PeopleStats:
    recalled: int = 0
    hired: int = 0
    late_scans: int = 0
    left: int = 0
    rosters: int = 0
    clock_ins: int = 0
    clock_outs: int = 0


class People:
    def __init__(self, world: World) -> None:
        self.w = world
        self.spec = world.scenario.people
        self.people: list[Person] = []
        self.by_id: dict[str, Person] = {}
        self.crews: dict[tuple[str, str], list[Person]] = defaultdict(list)
        self._presence: dict[tuple[str, str], list[Presence]] = defaultdict(list)
        self._rostered: set[str] = set()
        self.calendar_seq: int | None = None
        self.stats = PeopleStats()
        self._rng = world.env.rng("people")
        self._attendance = world.env.rng("attendance")
        self._pick = world.env.rng("operators")
        self._skills = 0
        self.teams = [s.code for s in world.scenario.calendar.shifts]

    # ---- who -------------------------------------------------------------------------------------

    def _new(self, *, origin: str, status: str, since: date) -> Person:
        n = len(self.people) + 1
        rng = self.w.env.rng("names")
        person = Person(
            n=n,
            employee_id=self.w.ids.employee(n),
            badge=self.w.ids.badge(n),
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            origin=origin,
            status=status,
            status_since=since,
        )
        self.people.append(person)
        self.by_id[person.employee_id] = person
        return person

    def _assign(self, person: Person, *, fill_to_spare: bool) -> None:
        """Put a person on the crew (station and shift) that lacks the most, else on a support skill."""
        best, best_gap = None, 0.0
        for team in self.teams:
            for station in self.w.stations:
                have = sum(1 for p in self.crews[(station.id, team)] if p.status == "active" and not p.leaving)
                target = station.crew * (1 + self.spec.spare_crew_share) if fill_to_spare else station.crew
                gap = (target - have) / station.crew
                if gap > best_gap:
                    best, best_gap = (station.id, team), gap
        if best is not None:
            person.station, person.team = best
            person.qualification = self.w.station_ids[best[0]]
            self.crews[best].append(person)
        else:
            skills = self.spec.support_skills
            person.skill = skills[self._skills % len(skills)]
            self._skills += 1
            person.qualification = f"skill:{person.skill}"

    def _valid_until(self) -> datetime:
        days = self._rng.uniform(self.spec.qualification_days.low, self.spec.qualification_days.high)
        return (self.w.horizon + timedelta(days=days)).replace(microsecond=0)

    def _grant(self, person: Person, *, level: str, valid_from: datetime, after: int | None) -> None:
        person.level = level
        person.valid_until = self._valid_until()
        person.grant_seq = self.w.env.emit(
            Kind.GRANT_QUALIFICATION,
            f"emp:{person.employee_id}",
            {
                "employee_id": person.employee_id,
                "station": person.qualification,
                "level": level,
                "valid_from": valid_from,
                "valid_until": person.valid_until,
                "granted_at": min(valid_from, self.w.env.now),  # the training, not the day it was keyed in
            },
            requires=(after,),
            lag_rules=("station.unknown",),  # the line configuration may not have reached workforce yet
        )

    def _history(self, imported: int) -> None:
        """Past qualifications from the training record, on a station the person no longer works at: the first
        expired before the window (announced as expired at once), the next expiring on its second day, in turn."""
        at_stations = [p for p in self.people if p.status == "active" and p.station is not None]
        stations = [self.w.station_ids[s.id] for s in self.w.stations]
        for index, person in enumerate(at_stations[: self.spec.history_grants]):
            own = self.w.station_ids[person.station or ""]
            other = stations[(stations.index(own) + 1) % len(stations)]
            granted = self.w.start - HISTORY_AGE
            until = self.w.start - timedelta(days=10) if index % 2 == 0 else self.w.start + timedelta(hours=30)
            self.w.env.emit(
                Kind.GRANT_QUALIFICATION,
                f"emp:{person.employee_id}",
                {
                    "employee_id": person.employee_id,
                    "station": other,
                    "level": "qualified",
                    "valid_from": granted,
                    "valid_until": until,
                    "granted_at": granted,
                },
                requires=(imported,),
                lag_rules=("station.unknown",),
            )

    # ---- set-up ----------------------------------------------------------------------------------

    def setup(self, *, calendar_seq: int) -> None:
        self.calendar_seq = calendar_seq
        first = self.w.first_day
        transferred_on = first - timedelta(days=1)
        for _ in range(self.spec.transferred_active):
            self._assign(self._new(origin="transferred", status="active", since=transferred_on), fill_to_spare=False)
        for _ in range(self.spec.transferred_idle):
            idle_since = first - timedelta(days=self._rng.randint(30, 400))
            self._new(origin="transferred", status="idle", since=idle_since)
        rows = [
            {
                "employee_id": p.employee_id,
                "badge_id": p.badge,
                "name": p.name,
                "origin": p.origin,
                "status": p.status,
                "status_since": p.status_since,
            }
            for p in self.people
        ]
        imported = self.w.env.emit(Kind.IMPORT_EMPLOYEES, "hr:import", {"rows": rows})
        granted_from = self.w.start - timedelta(days=30)
        for person in self.people:
            if person.status == "active":
                person.joins = first
                self._grant(person, level="qualified", valid_from=granted_from, after=imported)
        self._history(imported)
        recall = self.spec.recall
        if recall.goal:
            by = first + timedelta(days=recall.by_day - 1)
            # workforce takes a goal dated today or later only: a window longer than the goal pushes it on.
            by = max(by, self.w.calendar.local_date(self.w.horizon) + timedelta(days=1))
            self.w.env.emit(
                Kind.SET_RECALL_GOAL,
                "hr:recall-goal",
                {"goal_id": self.w.ids.recall_goal(), "target_count": recall.goal, "by_date": by},
            )

    def start(self) -> None:
        """Schedule the first day; each day schedules the next."""
        self.w.env.at(self.w.start, lambda: self._day(self.w.first_day))

    # ---- every day -------------------------------------------------------------------------------

    def _day(self, day: date) -> None:
        env, cal = self.w.env, self.w.calendar
        for shift in (*cal.shifts_on(day), *cal.shifts_on(day + timedelta(days=1))):
            if shift.label not in self._rostered:
                self._rostered.add(shift.label)
                publish = max(shift.start - ROSTER_AHEAD, env.now + timedelta(minutes=1))
                env.at(publish, lambda s=shift: self._roster(s))
        noon = self.w.noon(day)
        if cal.is_working_day(day) and noon >= env.now:
            env.at(noon, lambda: self._hr(day))
        env.at(cal.day_start(day + timedelta(days=1)), lambda: self._day(day + timedelta(days=1)))
        self._forget_before(day - timedelta(days=3))

    def _forget_before(self, day: date) -> None:
        for key in [k for k, found in self._presence.items() if found and found[0].shift.date < day]:
            del self._presence[key]
        self._rostered = {label for label in self._rostered if label >= day.isoformat()}

    # ---- rosters and scans -----------------------------------------------------------------------

    def _roster(self, shift: ShiftInstance) -> None:
        env = self.w.env
        assignments, required, needs, rostered = [], [], [], []
        for station in self.w.stations:
            crew = [
                p
                for p in self.crews[(station.id, shift.code)]
                if p.status == "active"
                and not p.leaving
                and p.joins is not None
                and p.joins <= shift.date
                and p.valid_until is not None
                and p.valid_until > shift.end
            ]
            required.append({"station": self.w.station_ids[station.id], "headcount": station.crew})
            for p in crew:
                assignments.append({"employee_id": p.employee_id, "station": self.w.station_ids[station.id]})
                needs.append(p.grant_seq)
                rostered.append(p)
            self._plan_attendance(station.id, shift, sorted(crew, key=lambda p: p.n))
        line_id = self.w.ids.line(self.w.scenario.line.id)
        seq = env.emit(
            Kind.PUBLISH_ROSTER,
            f"roster:{line_id}",
            {
                "line_id": line_id,
                "date": shift.date,
                "shift": shift.code,
                "assignments": assignments,
                "required": required,
            },
            requires=(self.calendar_seq, *needs),
        )
        for person in rostered:
            person.roster_seq = seq
        self.stats.rosters += 1

    def _plan_attendance(self, station: str, shift: ShiftInstance, crew: list[Person]) -> None:
        rng, spec, env = self._attendance, self.spec, self.w.env
        earliest = env.now + timedelta(minutes=1)
        for index, person in enumerate(crew):
            leader = index == 0
            if not leader and rng.random() < spec.absence_rate:
                continue
            if not leader and rng.random() < spec.late_rate:
                scan_in = shift.start + timedelta(minutes=rng.uniform(3, 25))
            else:
                scan_in = shift.start - timedelta(minutes=rng.uniform(5, 45))
            scan_out = (
                None if rng.random() < spec.forgot_clock_out_rate else shift.end + timedelta(minutes=rng.uniform(1, 12))
            )
            presence = Presence(person, station, shift, max(_whole(scan_in), earliest), scan_out and _whole(scan_out))
            env.at(presence.clock_in_at, lambda p=presence: self._clock_in(p))

    def _clock_in(self, presence: Presence) -> None:
        person = presence.person
        if person.status != "active":
            return
        if person.leaving and person.leave_at is not None and self.spec.leavers_last_scans_late:
            # The terminal was offline on the leaver's last shift: both scans reach workforce only after HR
            # recorded the leave, and are judged by the status the person had on the scan's date. The person
            # signs nothing off meanwhile (a hand-over shift), so no station event waits for these scans.
            self.w.env.at(person.leave_at + LATE_SCAN_AFTER_LEAVE, lambda: self._late_scans(presence))
            return
        self._scan_in(presence)
        self._presence[(presence.station, presence.shift.label)].append(presence)
        if presence.clock_out_at is not None:
            self.w.env.at(presence.clock_out_at, lambda: self._clock_out(presence))

    def _late_scans(self, presence: Presence) -> None:
        self.stats.late_scans += 1
        self._scan_in(presence, at=presence.clock_in_at)
        if presence.clock_out_at is not None:
            self._clock_out(presence, at=presence.clock_out_at)

    def _scan_in(self, presence: Presence, at: datetime | None = None) -> None:
        person = presence.person
        presence.clock_in_seq = self.w.env.emit(
            Kind.CLOCK_IN,
            f"emp:{person.employee_id}",
            {
                "employee_id": person.employee_id,
                "badge_id": person.badge,
                "station": self.w.station_ids[presence.station],
                "shift": presence.shift.code,
                "shift_date": presence.shift.date,
            }
            | ({"at": at} if at is not None else {}),
            requires=(person.grant_seq,),
        )
        self.stats.clock_ins += 1

    def _clock_out(self, presence: Presence, at: datetime | None = None) -> None:
        person = presence.person
        self.w.env.emit(
            Kind.CLOCK_OUT,
            f"emp:{person.employee_id}",
            {
                "employee_id": person.employee_id,
                "badge_id": person.badge,
                "station": self.w.station_ids[presence.station],
            }
            | ({"at": at} if at is not None else {}),
            requires=(presence.clock_in_seq,),
        )
        self.stats.clock_outs += 1

    def operator(self, station: str, at: datetime) -> Presence | None:
        """Someone clocked in at the station at `at` (for a sign-off), or None."""
        shift = self.w.calendar.shift_at(at)
        if shift is None:
            return None
        here = [
            p
            for p in self._presence.get((station, shift.label), ())
            if p.clock_in_seq is not None
            and p.clock_in_at + OPERATOR_LAG <= at
            and (p.clock_out_at is None or p.clock_out_at > at)
            and p.person.status == "active"
        ]
        return self._pick.choice(here) if here else None

    # ---- HR at noon ------------------------------------------------------------------------------

    def _per_working_day(self, per_month: float) -> float:
        return per_month * 12 / self.w.working_days_per_year

    def _hr(self, day: date) -> None:
        number = self.w.day_number(day)
        recall = self.spec.recall
        if number >= recall.first_day:
            idle = [p for p in self.people if p.status == "idle"]
            for person in idle[: recall.per_working_day]:
                self._recall(person, day)
        if number >= self.spec.hiring_from_day:
            for _ in range(_poisson(self._rng, self._per_working_day(self.spec.new_hires_per_month))):
                self._hire(day)
        for _ in range(_poisson(self._rng, self._per_working_day(self.spec.leavers_per_month))):
            self._choose_leaver(day)
        for person in self.people:
            if person.status != "active" or person.grant_seq is None or person.valid_until is None:
                continue
            if person.level == "trainee" and person.promote_on is not None and person.promote_on <= day:
                self._renew(person, level="qualified", valid_until=person.valid_until)
            elif person.valid_until - self.w.env.now < RENEW_AHEAD:
                self._renew(person, level=person.level, valid_until=person.valid_until + timedelta(days=365))

    def _starts_tomorrow(self, person: Person, day: date) -> None:
        person.joins = day + timedelta(days=1)
        if self.spec.trainee_working_days:
            person.promote_on = self.w.calendar.nth_working_day(
                day + timedelta(days=1), self.spec.trainee_working_days + 1
            )
        else:
            person.level = "qualified"

    def _recall(self, person: Person, day: date) -> None:
        env = self.w.env
        seq = env.emit(
            Kind.RECALL_EMPLOYEE,
            f"emp:{person.employee_id}",
            {"employee_id": person.employee_id, "recalled_on": day, "from_origin": person.origin},
        )
        person.status, person.status_since = "active", day
        if person.origin == "transferred":
            person.origin = "recalled"
        self.stats.recalled += 1
        self._assign(person, fill_to_spare=True)
        level = "trainee" if self.spec.trainee_working_days else "qualified"
        self._grant(person, level=level, valid_from=env.now, after=seq)
        self._starts_tomorrow(person, day)

    def _hire(self, day: date) -> None:
        env = self.w.env
        person = self._new(origin="new_hire", status="active", since=day)
        seq = env.emit(
            Kind.REGISTER_EMPLOYEE,
            f"emp:{person.employee_id}",
            {
                "employee_id": person.employee_id,
                "badge_id": person.badge,
                "name": person.name,
                "origin": person.origin,
                "status": person.status,
                "status_since": day,
            },
        )
        self.stats.hired += 1
        self._assign(person, fill_to_spare=True)
        level = "trainee" if self.spec.trainee_working_days else "qualified"
        self._grant(person, level=level, valid_from=env.now, after=seq)
        self._starts_tomorrow(person, day)

    def _choose_leaver(self, day: date) -> None:
        candidates = [
            p
            for p in self.people
            if p.status == "active"
            and not p.leaving
            and p.joins is not None
            and p.joins < day
            and p.origin != "new_hire"
        ]
        if not candidates:
            return
        person = self._rng.choice(candidates)
        # Off the rosters published from now on; the last day's work is done before the status changes.
        person.leaving = True
        leave_day = day + timedelta(days=1)
        person.leave_at = self.w.noon(leave_day)
        self.w.env.at(person.leave_at, lambda: self._leave(person, leave_day))

    def _leave(self, person: Person, day: date) -> None:
        self.w.env.emit(
            Kind.CHANGE_STATUS,
            f"emp:{person.employee_id}",
            {
                "employee_id": person.employee_id,
                "to_status": "left",
                "effective_date": day,
                "reason": "resigned",
                "origin": person.origin,
                "from_status": person.status,
            },
            # workforce rosters only active people: the last roster naming this person must go first.
            requires=(person.roster_seq,),
        )
        person.status, person.status_since = "left", day
        self.stats.left += 1

    def _renew(self, person: Person, *, level: str, valid_until: datetime) -> None:
        person.level, person.valid_until = level, valid_until
        person.grant_seq = self.w.env.emit(
            Kind.RENEW_QUALIFICATION,
            f"emp:{person.employee_id}",
            {
                "employee_id": person.employee_id,
                "station": person.qualification,
                "level": level,
                "valid_until": valid_until,
            },
            requires=(person.grant_seq,),
        )


def _whole(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson draw (small means)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
