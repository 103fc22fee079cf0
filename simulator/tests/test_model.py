"""The plant model: repeatable from its seed, and every action it emits is one the services would accept.

The checks replay the action stream against the rules the services enforce (route order, quality gate,
operators clocked in and qualified at the moment of a sign-off, kits released before a build order and
only when every discrepancy has a decision, one open andon per station, the WIP ramp)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest

from plant_sim import scenario
from plant_sim.actions import Action, Kind
from plant_sim.ids import RunIds
from plant_sim.model import Planned, plan
from plant_sim.scenario import Range

FIRST_DAY = date(2026, 3, 23)  # a Monday; daylight saving starts in Warsaw on the 29th
SIGN_OFFS = {"work_started", "work_completed", "defect_repaired", "component_fitted", "check_recorded"}


def simulate(name: str, days: int, seed: int = 7) -> Planned:
    return plan(scenario.load(name), first_day=FIRST_DAY, days=days, seed=seed, ids=RunIds("T", "TEST01"))


def fingerprint(run: Planned) -> list[tuple[object, ...]]:
    return [(a.seq, a.at, a.kind, a.key, repr(a.data), a.requires) for a in run.all]


def test_the_same_seed_gives_the_same_plant_and_another_seed_another() -> None:
    assert fingerprint(simulate("compact", 3, seed=11)) == fingerprint(simulate("compact", 3, seed=11))
    assert fingerprint(simulate("compact", 3, seed=11)) != fingerprint(simulate("compact", 3, seed=12))


def test_actions_come_in_time_order_within_the_window_and_require_only_earlier_ones(compact: Planned) -> None:
    seqs = [a.seq for a in compact.all]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    times = [a.at for a in compact.actions]
    assert times == sorted(times)
    assert compact.start <= times[0] and times[-1] <= compact.end
    assert all(r < a.seq for a in compact.all for r in a.requires)


@dataclass
class Truck:
    kit: str
    station: int = -1
    step: str = "pending"
    open_defects: set[int] = field(default_factory=set)
    last: datetime | None = None
    done: bool = False


def replay(run: Planned) -> dict[str, object]:
    """Apply the actions to a small model of the services' rules; fail on the first one they would refuse."""
    by_seq = {a.seq: a for a in run.all}
    line = run.plant.line
    station_index = {s.id: s.index for s in line.stations}
    last_station = len(line.stations) - 1
    trucks: dict[str, Truck] = {}
    kits: dict[str, dict[str, object]] = {}
    released: set[str] = set()
    used_kits: set[str] = set()
    presence: dict[str, tuple[str, datetime, datetime | None, int]] = {}  # badge -> station, in, out, seq
    grants: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    status: dict[str, str] = {}
    last_roster: dict[str, int] = {}
    badge_of: dict[str, str] = {}
    andon_open: dict[str, bool] = defaultdict(bool)
    wip, wip_max_by_day = 0, Counter[str]()
    stats = Counter[str]()

    def operator_ok(action: Action, badge: str, station: str) -> None:
        where, since, until, seq = presence[badge]
        assert where == station, f"{action.label}: {badge} is clocked in at {where}"
        assert since < action.at and (until is None or until > action.at), f"{action.label}: {badge} not present"
        assert seq in action.requires, f"{action.label} does not require the operator's clock-in"
        employee = next(e for e, b in badge_of.items() if b == badge)
        valid_from, valid_until = grants[(employee, station)]
        assert valid_from <= action.at < valid_until, f"{action.label}: {employee} not qualified then"
        assert status[employee] == "active"

    for a in run.all:
        d = a.data
        match a.kind:
            case Kind.IMPORT_EMPLOYEES:
                for row in d["rows"]:
                    status[row["employee_id"]] = row["status"]
                    badge_of[row["employee_id"]] = row["badge_id"]
            case Kind.REGISTER_EMPLOYEE:
                status[d["employee_id"]] = d["status"]
                badge_of[d["employee_id"]] = d["badge_id"]
            case Kind.RECALL_EMPLOYEE:
                assert status[d["employee_id"]] == "idle"
                status[d["employee_id"]] = "active"
            case Kind.CHANGE_STATUS:
                assert status[d["employee_id"]] == "active"
                if d["employee_id"] in last_roster:  # the roster naming them goes first (it needs them active)
                    assert last_roster[d["employee_id"]] in a.requires
                assert not any(p[2] is None for b, p in presence.items() if b == badge_of[d["employee_id"]])
                status[d["employee_id"]] = d["to_status"]
            case Kind.GRANT_QUALIFICATION:
                grants[(d["employee_id"], d["station"])] = (d["valid_from"], d["valid_until"])
            case Kind.RENEW_QUALIFICATION:
                valid_from, _ = grants[(d["employee_id"], d["station"])]
                grants[(d["employee_id"], d["station"])] = (valid_from, d["valid_until"])
            case Kind.PUBLISH_ROSTER:
                people = [x["employee_id"] for x in d["assignments"]]
                assert len(people) == len(set(people))
                last_roster.update(dict.fromkeys(people, a.seq))
                shift = next(s for s in run.plant.world.calendar.shifts_on(d["date"]) if s.code == d["shift"])
                for x in d["assignments"]:
                    assert status[x["employee_id"]] == "active"
                    valid_from, valid_until = grants[(x["employee_id"], x["station"])]
                    assert valid_from <= shift.start and shift.end <= valid_until
            case Kind.CLOCK_IN:
                assert status[d["employee_id"]] == "active"
                presence[d["badge_id"]] = (d["station"], a.at, None, a.seq)
                stats["clock_ins"] += 1
            case Kind.CLOCK_OUT:
                where, since, _, seq = presence[d["badge_id"]]
                assert since < a.at and seq in a.requires
                presence[d["badge_id"]] = (where, since, a.at, seq)
            case Kind.ANNOUNCE_SHIPMENT:
                for kit in d["kits"]:
                    kits[kit["serial"]] = {"received": False, "open": set()}
            case Kind.RECEIVE_KIT:
                kit = kits[d["serial"]]
                assert not kit["received"]
                kit["received"] = True
                kit["open"] = {(x["part_number"], x["claim_code"]) for x in d["discrepancies"]}
                stats["discrepancies"] += len(kit["open"])
            case Kind.RESOLVE_DISCREPANCY:
                kit = kits[d["serial"]]
                assert kit["received"]
                kit["open"].discard((d["part_number"], d["claim_code"]))  # type: ignore[attr-defined]
                stats[d["resolution"]] += 1
            case Kind.RELEASE_KIT:
                assert kits[d["serial"]]["received"] and not kits[d["serial"]]["open"], "released with an open claim"
                released.add(d["serial"])
            case Kind.CREATE_BUILD_ORDER:
                assert d["kit_serial"] in released and d["kit_serial"] not in used_kits
                assert any(by_seq[r].kind is Kind.RELEASE_KIT for r in a.requires)
                used_kits.add(d["kit_serial"])
                trucks[d["vin"]] = Truck(d["kit_serial"])
            case Kind.STATION_EVENT:
                kind, station = d["type"], d["station"]
                if kind in ("andon_raised", "andon_cleared"):
                    assert andon_open[station] == (kind == "andon_cleared"), f"andon {kind} at {station} out of turn"
                    andon_open[station] = kind == "andon_raised"
                    stats[kind] += 1
                    continue
                truck = trucks[d["vin"]]
                assert truck.last is None or truck.last <= a.at, "a truck's events go back in time"
                assert not truck.done
                truck.last = a.at
                index = station_index[station]
                if kind in SIGN_OFFS:
                    operator_ok(a, d["operator_badge"], station)
                if kind == "arrived":
                    assert index == truck.station + 1 and truck.step in ("pending", "completed")
                    truck.station, truck.step = index, "arrived"
                    if index == 0:
                        wip += 1
                        day = run.plant.world.calendar.local_date(a.at)
                        assert wip <= line.cap(a.at), f"WIP {wip} above the ramp on {day}"
                        wip_max_by_day[day.isoformat()] = max(wip_max_by_day[day.isoformat()], wip)
                    continue
                assert index == truck.station, f"{kind} at {station}, truck at {truck.station}"
                if kind == "work_started":
                    assert truck.step == "arrived"
                    truck.step = "in_progress"
                elif kind == "work_completed":
                    assert truck.step == "in_progress"
                    if d["end_of_line"]:
                        assert index == last_station and not truck.open_defects, "passed the gate with a defect"
                        truck.done = True
                        wip -= 1
                        stats["completed"] += 1
                    truck.step = "completed"
                elif kind == "defect_found":
                    truck.open_defects.add(a.seq)
                    stats["defects"] += 1
                elif kind == "check_recorded":
                    assert truck.step == "in_progress"
                    if abs(d["value"] - d["nominal"]) > d["tolerance"]:
                        truck.open_defects.add(a.seq)
                        stats["failed_checks"] += 1
                elif kind == "defect_repaired":
                    assert d["defect_ref"] in truck.open_defects
                    truck.open_defects.discard(d["defect_ref"])
                else:
                    assert truck.step == "in_progress"
    stats["wip_end"] = wip
    return {"stats": stats, "wip_max_by_day": wip_max_by_day}


@pytest.mark.parametrize("which", ["compact", "first_plant"])
def test_every_action_follows_the_services_rules(which: str, request: pytest.FixtureRequest) -> None:
    run: Planned = request.getfixturevalue(which)
    stats = replay(run)["stats"]
    assert isinstance(stats, Counter)
    assert stats["completed"] > 0 and stats["clock_ins"] > 0
    assert stats["andon_raised"] >= stats["andon_cleared"] >= stats["andon_raised"] - len(run.plant.line.stations)


def test_every_path_is_taken_in_the_compact_plant(compact: Planned) -> None:
    stats = replay(compact)["stats"]
    assert isinstance(stats, Counter)
    for what in ("defects", "failed_checks", "andon_raised", "discrepancies", "shortage_accepted"):
        assert stats[what] > 0, what
    assert compact.plant.line.stats.held > 0  # a build-short truck waited for its part
    kinds = Counter(a.kind for a in compact.actions)
    for kind in (Kind.RECALL_EMPLOYEE, Kind.REGISTER_EMPLOYEE, Kind.CHANGE_STATUS, Kind.RENEW_QUALIFICATION):
        assert kinds[kind] > 0, kind


def test_the_first_plant_starts_with_18_trucks_and_ramps_to_50(first_plant: Planned) -> None:
    found = replay(first_plant)
    by_day = found["wip_max_by_day"]
    assert isinstance(by_day, Counter)
    days = sorted(by_day)
    assert by_day[days[0]] == 18
    assert max(by_day.values()) == 50
    setup_people = next(a for a in first_plant.setup if a.kind is Kind.IMPORT_EMPLOYEES).data["rows"]
    assert Counter(r["status"] for r in setup_people) == {"active": 300, "idle": 120}
    recalls = [a for a in first_plant.actions if a.kind is Kind.RECALL_EMPLOYEE]
    assert len(recalls) == 120  # the whole idle pool within the first weeks
    assert max(a.at for a in recalls) - first_plant.start < timedelta(days=42)


def test_the_first_plant_heads_for_2000_trucks_a_year() -> None:
    run = simulate("first-plant", 364, seed=3)
    stats = run.plant.line.stats
    assert 1700 <= stats.completed <= 2100, stats
    defect_share = stats.defects / stats.started
    assert 0.05 < defect_share < 0.12
    targets = [a for a in run.setup if a.kind is Kind.SET_ANNUAL_TARGET]
    # from the first day (23 March 2026: pro rata) to a year after the window (2027 ends in it, 2028 after it)
    assert [t.data["year"] for t in targets] == [2026, 2027, 2028]
    assert 1500 < targets[0].data["annual"] < 2000
    assert targets[1].data["annual"] == targets[2].data["annual"] == 2000


def test_a_truck_sent_back_while_it_waits_for_its_part_comes_back_and_waits_again() -> None:
    base = scenario.load("compact")
    discrepancies = base.kits.discrepancies.model_copy(
        update={"rate": 0.35, "shortage_share": 1.0, "build_short_share": 1.0, "replacement_days": Range(low=1, high=2)}
    )
    spec = base.model_copy(
        update={
            "production": base.production.model_copy(update={"rework_held_share": 1.0}),
            "kits": base.kits.model_copy(update={"discrepancies": discrepancies}),
        }
    )
    planned = plan(spec, first_day=date(2026, 3, 2), days=2.2, seed=20260101)
    (back, *_) = [a for a in planned.actions if a.kind is Kind.SEND_BACK]
    trail = [
        (a.data.get("type", a.kind.value), a.data.get("station", a.data.get("to_station")))
        for a in planned.actions
        if a.key == f"vin:{back.data['vin']}" and a.data.get("type") in (None, "arrived", "work_completed")
    ]
    held_at = trail[trail.index(("send_back", back.data["to_station"])) - 1][1]
    assert trail.count(("arrived", held_at)) == 2  # it arrived where it waits, went back, and came again
    assert [
        a.data.get("entry") for a in planned.actions if a.key == f"vin:{back.data['vin']}" and a.data.get("entry")
    ] == [True]
