"""The simulator's own tally of what it did, counted from its accepted actions only (never read back).

A fact counts when the API accepted the action that states it: a truck completed when its end-of-line
`work_completed` was accepted, a kit released when its release was, a person recalled when the recall
was. Output is bucketed by the plant's own calendar (the one the simulator published): per local day and
per shift span [start, end), as reporting buckets it. Refused and skipped actions are counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from plant_sim.actions import Action
from plant_sim.calendar import PlantCalendar

ON_HAND = ("quarantined", "received", "released")
MOVEMENTS = ("arrived", "work_started", "work_completed")
ORIGINS = ("transferred", "recalled", "new_hire")
STATUSES = ("idle", "active", "on_leave", "left")


@dataclass
class _Kit:
    kit_type: str
    status: str
    undecided: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Tally:
    calendar: PlantCalendar
    line_id: str
    kit_types: tuple[str, ...]
    first_day: date
    stations: list[str] = field(default_factory=list)  # the line's, in order
    started: int = 0
    completed: int = 0
    first_pass: int = 0
    defects_found: int = 0
    defects_repaired: int = 0
    checks: int = 0
    checks_failed: int = 0
    andons_raised: int = 0
    andons_cleared: int = 0
    components_fitted: int = 0
    sent_back: int = 0
    completed_outside_shifts: int = 0
    clock_ins: int = 0
    clock_outs: int = 0
    clock_outs_closed_automatically: int = 0
    rosters: int = 0
    recalled: int = 0
    hired: int = 0
    left: int = 0
    discrepancies_recorded: int = 0
    discrepancy_decisions: int = 0
    last_at: datetime | None = None
    per_day: Counter[date] = field(default_factory=Counter)
    per_shift: Counter[str] = field(default_factory=Counter)
    kit_status: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kit type, status) -> kits
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    _kits: dict[str, _Kit] = field(default_factory=dict)
    _kit_of_vin: dict[str, str] = field(default_factory=dict)
    _defective: set[str] = field(default_factory=set)
    _people: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The timeline, for figures as of a past instant: every change with the time it happened.
    _kit_changes: list[tuple[datetime, str, str, str]] = field(default_factory=list)  # at, serial, type, status
    _part_station: dict[tuple[str, str], str] = field(default_factory=dict)  # (kit type, part) -> station
    _kit_type_of: dict[str, str] = field(default_factory=dict)  # serial -> kit type (consumed ones too)
    _short: dict[str, dict[str, datetime | None]] = field(default_factory=dict)  # serial -> part -> replaced
    _started_at: dict[str, datetime] = field(default_factory=dict)
    _completed_at: dict[str, datetime] = field(default_factory=dict)
    _moves: dict[str, list[tuple[datetime, str]]] = field(default_factory=lambda: defaultdict(list))
    _holds: list[list[Any]] = field(default_factory=list)  # [vin, station, kit serial, held at, released at]
    _defects_of: Counter[str] = field(default_factory=Counter)
    _required: dict[tuple[date, str, str], int] = field(default_factory=dict)  # (date, shift, station) -> people
    _rostered: dict[tuple[date, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    _clocked: dict[tuple[date, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    late_scans: int = 0
    _discrepancy_changes: list[tuple[datetime, str, str, str, str]] = field(
        default_factory=list
    )  # at, serial, part, claim, status
    _expected_arrival: dict[str, datetime] = field(default_factory=dict)  # serial -> its ASN's expected arrival
    _build_short: set[str] = field(default_factory=set)  # trucks started with a kit short of a part
    # (employee, station) -> (when, level, valid until) of every grant and renewal
    _qualifications: dict[tuple[str, str], list[tuple[datetime, str, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    defects_on_completed: int = 0

    # ---- counting ---------------------------------------------------------------------------------

    @property
    def wip(self) -> int:
        return self.started - self.completed

    @property
    def fpy(self) -> float | None:
        return self.first_pass / self.completed if self.completed else None

    @property
    def kits_on_hand(self) -> int:
        return sum(n for (_, status), n in self.kit_status.items() if status in ON_HAND)

    @property
    def people_active(self) -> int:
        return sum(1 for _, status in self._people.values() if status == "active")

    def refuse(self, action: Action) -> None:
        self.refused[action.label] += 1

    def skip(self, action: Action) -> None:
        self.skipped[action.label] += 1

    def accept(self, action: Action, body: Any) -> None:
        """Count what an accepted action did; `body` is the API's answer (used only for per-row outcomes)."""
        self.accepted[action.label] += 1
        self.last_at = action.at if self.last_at is None else max(self.last_at, action.at)
        handler = getattr(self, f"_on_{action.kind.value}", None)
        if handler is not None:
            handler(action, body if isinstance(body, dict) else {})

    def _set_kit(self, serial: str, status: str, at: datetime) -> None:
        kit = self._kits[serial]
        self._kit_changes.append((at, serial, kit.kit_type, status))
        self.kit_status[(kit.kit_type, kit.status)] -= 1
        kit.status = status
        self.kit_status[(kit.kit_type, status)] += 1
        if status == "consumed":
            del self._kits[serial]

    # kits
    def _on_announce_shipment(self, action: Action, _: dict[str, Any]) -> None:
        for kit in action.data["kits"]:
            self._kits[kit["serial"]] = _Kit(kit["kit_type"], "announced")
            self._kit_type_of[kit["serial"]] = kit["kit_type"]
            if "expected_arrival" in action.data:
                self._expected_arrival[kit["serial"]] = action.data["expected_arrival"]
            self.kit_status[(kit["kit_type"], "announced")] += 1
            self._kit_changes.append((action.at, kit["serial"], kit["kit_type"], "announced"))

    def _on_configure_line(self, action: Action, _: dict[str, Any]) -> None:
        self.stations = [s["station_id"] for s in action.data["stations"]]

    def _on_define_kit_type(self, action: Action, _: dict[str, Any]) -> None:
        for line in action.data["lines"]:
            self._part_station[(action.data["code"], line["part_number"])] = line["station"]

    def _on_receive_kit(self, action: Action, _: dict[str, Any]) -> None:
        found = {(d["part_number"], d["claim_code"]) for d in action.data["discrepancies"]}
        self.discrepancies_recorded += len(found)
        for part, claim in sorted(found):
            self._discrepancy_changes.append((action.at, action.data["serial"], part, claim, "open"))
        self._kits[action.data["serial"]].undecided = found
        self._set_kit(action.data["serial"], "quarantined" if found else "received", action.at)

    def _on_resolve_discrepancy(self, action: Action, _: dict[str, Any]) -> None:
        self.discrepancy_decisions += 1
        serial, part = action.data["serial"], action.data["part_number"]
        status = "shortage_accepted" if action.data.get("resolution") == "shortage_accepted" else "resolved"
        self._discrepancy_changes.append((action.at, serial, part, action.data["claim_code"], status))
        if action.data.get("resolution") == "shortage_accepted":
            self._short.setdefault(serial, {})[part] = None
        elif action.data.get("resolution") == "replacement_received" and part in self._short.get(serial, {}):
            self._short[serial][part] = action.at
            station = self._part_station.get((self._kit_type_of.get(serial, ""), part))
            for hold in self._holds:  # assembly-line releases the hold, never before it began
                if hold[2] == serial and hold[1] == station and hold[4] is None:
                    hold[4] = max(action.at, hold[3])
        kit = self._kits.get(serial)
        if kit is None:
            return  # a late replacement for a kit already consumed: no change of status
        kit.undecided.discard((action.data["part_number"], action.data["claim_code"]))
        if kit.status == "quarantined" and not kit.undecided:
            self._set_kit(action.data["serial"], "received", action.at)

    def _on_release_kit(self, action: Action, _: dict[str, Any]) -> None:
        self._set_kit(action.data["serial"], "released", action.at)

    # trucks
    def _on_create_build_order(self, action: Action, _: dict[str, Any]) -> None:
        self._kit_of_vin[action.data["vin"]] = action.data["kit_serial"]

    def _on_station_event(self, action: Action, _: dict[str, Any]) -> None:
        data = action.data
        kind, vin = data["type"], data.get("vin")
        if kind in MOVEMENTS:
            self._moves[vin].append((action.at, data["station"]))
        if kind == "arrived":
            self._hold_if_short(action)
        if kind == "arrived" and data.get("entry"):
            self.started += 1
            self._started_at[vin] = action.at
            serial = self._kit_of_vin.pop(vin, None)
            # build short: its kit still lacks a part accepted short (the replacement not yet in)
            if serial is not None and any(r is None or r > action.at for r in self._short.get(serial, {}).values()):
                self._build_short.add(vin)
            if serial is not None and serial in self._kits:
                self._set_kit(serial, "consumed", action.at)  # kit-receiving follows the build start
        elif kind == "work_completed" and data.get("end_of_line"):
            self.completed += 1
            self._completed_at[vin] = action.at
            self.defects_on_completed += self._defects_of.pop(vin, 0)
            if vin not in self._defective:
                self.first_pass += 1
            self._defective.discard(vin)
            self.per_day[self.calendar.local_date(action.at)] += 1
            shift = self.calendar.shift_at(action.at)
            if shift is None:
                self.completed_outside_shifts += 1
            else:
                self.per_shift[shift.label] += 1
        elif kind == "defect_found":
            self.defects_found += 1
            self._defects_of[vin] += 1
            self._defective.add(vin)
        elif kind == "defect_repaired":
            self.defects_repaired += 1
        elif kind == "check_recorded":
            self.checks += 1
            if abs(data["value"] - data["nominal"]) > data["tolerance"]:
                self.checks_failed += 1
                self.defects_found += 1  # a failed check opens a defect
                self._defects_of[vin] += 1
                self._defective.add(vin)
        elif kind == "component_fitted":
            self.components_fitted += 1
        elif kind == "andon_raised":
            self.andons_raised += 1
        elif kind == "andon_cleared":
            self.andons_cleared += 1

    def _hold_if_short(self, action: Action) -> None:
        """A build-short truck arriving where a part its kit lacks is fitted is held there until the part is in."""
        data = action.data
        serial = data.get("kit_serial")
        for part, replaced in self._short.get(serial or "", {}).items():
            station = self._part_station.get((self._kit_type_of.get(serial or "", ""), part))
            if station == data["station"] and (replaced is None or replaced > action.at):
                self._holds.append([data["vin"], station, serial, action.at, replaced])

    def _on_send_back(self, action: Action, _: dict[str, Any]) -> None:
        """Rework: the truck goes back to an earlier station; a hold where it was ends then."""
        vin = action.data["vin"]
        self.sent_back += 1
        self._moves[vin].append((action.at, action.data["to_station"]))
        for hold in self._holds:
            if hold[0] == vin and hold[4] is None:
                hold[4] = action.at

    # people
    def _person(self, employee_id: str, origin: str, status: str) -> None:
        self._people[employee_id] = (origin, status)

    def _on_import_employees(self, action: Action, body: dict[str, Any]) -> None:
        created = {r["employee_id"] for r in body.get("rows", []) if r.get("outcome") == "created"}
        for row in action.data["rows"]:
            if row["employee_id"] in created:
                self._person(row["employee_id"], row["origin"], row["status"])

    def _on_register_employee(self, action: Action, _: dict[str, Any]) -> None:
        self._person(action.data["employee_id"], action.data["origin"], action.data["status"])
        self.hired += 1

    def _on_recall_employee(self, action: Action, _: dict[str, Any]) -> None:
        origin, _status = self._people[action.data["employee_id"]]
        # A transferred person called back from idle is `recalled` from then on (workforce's rule).
        self._person(action.data["employee_id"], "recalled" if origin == "transferred" else origin, "active")
        self.recalled += 1

    def _on_change_status(self, action: Action, _: dict[str, Any]) -> None:
        origin, _status = self._people[action.data["employee_id"]]
        self._person(action.data["employee_id"], origin, action.data["to_status"])
        self.left += action.data["to_status"] == "left"

    def _on_grant_qualification(self, action: Action, _: dict[str, Any]) -> None:
        d = action.data
        when = d.get("granted_at", action.at)
        self._qualifications[(d["employee_id"], d["station"])].append((when, d["level"], d["valid_until"]))

    def _on_renew_qualification(self, action: Action, _: dict[str, Any]) -> None:
        d = action.data
        self._qualifications[(d["employee_id"], d["station"])].append((action.at, d["level"], d["valid_until"]))

    def _on_publish_roster(self, action: Action, _: dict[str, Any]) -> None:
        self.rosters += 1
        day, shift = action.data["date"], action.data["shift"]
        for need in action.data["required"]:
            self._required[(day, shift, need["station"])] = need["headcount"]
        for a in action.data["assignments"]:
            self._rostered[(day, shift, a["station"])].add(a["employee_id"])

    def _on_clock_in(self, action: Action, body: dict[str, Any]) -> None:
        clocked_in = body.get("result", "clocked_in") == "clocked_in"
        self.clock_ins += clocked_in
        self.late_scans += "at" in action.data
        if clocked_in and "shift_date" in action.data:
            key = (action.data["shift_date"], action.data["shift"], action.data["station"])
            self._clocked[key].add(action.data["employee_id"])

    def _on_clock_out(self, action: Action, body: dict[str, Any]) -> None:
        self.clock_outs += 1
        self.clock_outs_closed_automatically += body.get("result") == "closed_automatically"

    # ---- reading ----------------------------------------------------------------------------------

    def last_day(self) -> date:
        return self.calendar.local_date(self.last_at) if self.last_at else self.first_day

    def days(self) -> list[date]:
        out, day = [], self.first_day
        while day <= self.last_day():
            out.append(day)
            day += timedelta(days=1)
        return out

    def output_per_day(self) -> dict[str, int]:
        return {d.isoformat(): self.per_day.get(d, 0) for d in self.days()}

    def output_per_shift(self) -> dict[str, int]:
        """Every shift of the window (zero included) that started by the last action."""
        out = {}
        for day in self.days():
            for shift in self.calendar.shifts_on(day):
                if self.last_at is not None and shift.start <= self.last_at:
                    out[shift.label] = self.per_shift.get(shift.label, 0)
        return out

    def kits_by_status(self, kit_type: str | None = None) -> dict[str, int]:
        found: Counter[str] = Counter()
        for (type_, status), n in self.kit_status.items():
            if n and (kit_type is None or type_ == kit_type):
                found[status] += n
        return dict(sorted(found.items()))

    def headcount(self) -> dict[str, Any]:
        cells: dict[tuple[str, str], int] = defaultdict(int)
        for origin, status in self._people.values():
            cells[(origin, status)] += 1
        return {
            "total": len(self._people),
            "by_origin": {o: sum(cells[(o, s)] for s in STATUSES) for o in ORIGINS},
            "by_status": {s: sum(cells[(o, s)] for o in ORIGINS) for s in STATUSES},
            "cells": {f"{o}/{s}": cells[(o, s)] for o in ORIGINS for s in STATUSES if cells[(o, s)]},
        }

    def staffing_days(self) -> list[date]:
        return sorted({day for day, _, _ in self._required})

    def staffing(self, day: date) -> dict[str, dict[str, int]]:
        """Per shift and station of a day: people required and rostered, and who clocked in (once each)."""
        keys = {k for k in (*self._required, *self._rostered, *self._clocked) if k[0] == day}
        return {
            f"{shift} {station}": {
                "required": self._required.get((day, shift, station), 0),
                "rostered": len(self._rostered.get((day, shift, station), ())),
                "unqualified_rostered": 0,
                "clocked_in": len(self._clocked.get((day, shift, station), ())),
            }
            for day, shift, station in sorted(keys)
        }

    # ---- as of an instant ------------------------------------------------------------------------

    def held_at(self, at: datetime) -> list[tuple[str, str, datetime]]:
        """(vin, station, held since) of the trucks on the line held at `at`."""
        return sorted(
            (vin, station, since)
            for vin, station, _, since, until in self._holds
            if since <= at and (until is None or until > at) and self._on_line(vin, at)
        )

    def hold_spans(self) -> list[tuple[str, str, datetime, datetime | None]]:
        return [(vin, station, since, until) for vin, station, _, since, until in self._holds]

    def _on_line(self, vin: str, at: datetime) -> bool:
        started, completed = self._started_at.get(vin), self._completed_at.get(vin)
        return started is not None and started <= at and (completed is None or completed > at)

    def wip_at(self, at: datetime) -> dict[str, dict[str, int]]:
        """Trucks on the line at `at` per station (the station of their latest movement), and of them held."""
        held = {(vin, station) for vin, station, _ in self.held_at(at)}
        out: dict[str, dict[str, int]] = defaultdict(lambda: {"trucks": 0, "held": 0})
        for vin in self._started_at:
            moves = [station for when, station in self._moves[vin] if when <= at]
            if self._on_line(vin, at) and moves:
                out[moves[-1]]["trucks"] += 1
                out[moves[-1]]["held"] += (vin, moves[-1]) in held
        return dict(sorted(out.items()))

    def kits_at(self, at: datetime, kit_type: str) -> dict[str, int]:
        """Kits of a type by their status at `at` (the last change at or before it)."""
        status: dict[str, str] = {}
        for when, serial, type_, to in sorted(self._kit_changes, key=lambda c: c[0]):
            if when <= at and type_ == kit_type:
                status[serial] = to
        return dict(sorted(Counter(status.values()).items()))

    def expiring(self, at: datetime, days: int, station: str) -> list[str]:
        """Qualifications at a station that were valid at `at` and expired within `days` after it, as they
        stood then (the latest grant or renewal by then): 'employee level valid-until'."""
        out = []
        for (employee, where), changes in sorted(self._qualifications.items()):
            then = [c for c in changes if c[0] <= at]
            if where == station and then:
                _, level, until = max(then, key=lambda c: c[0])
                if at < until <= at + timedelta(days=days):
                    left = round((until - at).total_seconds() / 86400, 2)
                    out.append(f"{employee} {level} {until.astimezone(UTC).isoformat()} {left} days left")
        return out

    def discrepancies_at(self, at: datetime) -> tuple[dict[str, int], int]:
        """Open discrepancies by claim code, and shortages accepted and not yet replaced, at `at`."""
        states: dict[tuple[str, str, str], str] = {}
        for when, serial, part, claim, status in sorted(self._discrepancy_changes, key=lambda c: c[0]):
            if when <= at:
                states[(serial, part, claim)] = status
        open_by_code = Counter(claim for (_, _, claim), status in states.items() if status == "open")
        return dict(sorted(open_by_code.items())), sum(1 for s in states.values() if s == "shortage_accepted")

    def build_short_at(self, at: datetime) -> int:
        """Trucks on the line at `at` whose kit was released short of a part."""
        return sum(1 for vin in self._build_short if self._on_line(vin, at))

    def next_arrival_at(self, at: datetime) -> datetime | None:
        """The earliest expected arrival, at or after `at`, of the kits still announced then."""
        status: dict[str, str] = {}
        for when, serial, _, to in sorted(self._kit_changes, key=lambda c: c[0]):
            if when <= at:
                status[serial] = to
        due = [
            self._expected_arrival[s] for s, st in status.items() if st == "announced" and s in self._expected_arrival
        ]
        return min((d for d in due if d >= at), default=None)

    def output_at(self, at: datetime) -> dict[str, int]:
        """Completions per local day, of those at or before `at`."""
        days = Counter(self.calendar.local_date(when) for when in self._completed_at.values() if when <= at)
        return {d.isoformat(): days.get(d, 0) for d in self.days() if d <= self.calendar.local_date(at)}

    def as_json(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "time_zone": self.calendar.time_zone,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day().isoformat(),
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "trucks": {
                "started": self.started,
                "completed": self.completed,
                "wip": self.wip,
                "first_pass": self.first_pass,
                "fpy": round(self.fpy, 4) if self.fpy is not None else None,
                "defects_found": self.defects_found,
                "defects_repaired": self.defects_repaired,
                "checks": self.checks,
                "checks_failed": self.checks_failed,
                "components_fitted": self.components_fitted,
                "sent_back": self.sent_back,
                "holds": len(self._holds),
                "andons_raised": self.andons_raised,
                "andons_cleared": self.andons_cleared,
                "completed_outside_shifts": self.completed_outside_shifts,
                "completed_per_day": self.output_per_day(),
                "completed_per_shift": self.output_per_shift(),
            },
            "kits": {
                "kit_types": list(self.kit_types),
                "by_status": self.kits_by_status(),
                "on_hand": self.kits_on_hand,
                "by_type": {t: self.kits_by_status(t) for t in self.kit_types},
                "discrepancies_recorded": self.discrepancies_recorded,
                "discrepancy_decisions": self.discrepancy_decisions,
            },
            "people": {
                **self.headcount(),
                "recalled": self.recalled,
                "hired": self.hired,
                "left": self.left,
                "rosters": self.rosters,
                "clock_ins": self.clock_ins,
                "clock_outs": self.clock_outs,
                "clock_outs_closed_automatically": self.clock_outs_closed_automatically,
                "late_scans": self.late_scans,
            },
            "requests": {
                "accepted": sum(self.accepted.values()),
                "refused": sum(self.refused.values()),
                "skipped": sum(self.skipped.values()),
                "lag_retries": self.retries,
                "refused_by_action": dict(sorted(self.refused.items())),
                "skipped_by_action": dict(sorted(self.skipped.items())),
                "accepted_by_action": dict(sorted(self.accepted.items())),
            },
        }
