"""The tally counts what the APIs accepted, bucketed by the plant's own calendar, and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from plant_sim.actions import Action, Kind
from plant_sim.calendar import PlantCalendar, ShiftPattern
from plant_sim.tally import Tally

CAL = PlantCalendar(
    time_zone="Europe/Warsaw",
    working_days=frozenset(range(1, 8)),
    holidays=frozenset(),
    shifts=(ShiftPattern("A", time(6), time(14)), ShiftPattern("B", time(14), time(22))),
    valid_from=date(2026, 1, 1),
)
T0 = datetime(2026, 1, 5, 5, tzinfo=UTC)  # 06:00 local: shift A starts
_seq = iter(range(1, 10_000))


def act(kind: Kind, at: datetime = T0, **data: Any) -> Action:
    return Action(next(_seq), at, kind, "k", data)


def event(kind: str, at: datetime = T0, **data: Any) -> Action:
    return act(Kind.STATION_EVENT, at, type=kind, station="S", **data)


def tally() -> Tally:
    return Tally(calendar=CAL, line_id="L", kit_types=("KT",), first_day=date(2026, 1, 5))


def test_completions_per_local_day_and_per_shift_span() -> None:
    t = tally()
    for vin, at in (("V1", T0), ("V2", T0 + timedelta(hours=9)), ("V3", T0 + timedelta(hours=18))):
        t.accept(event("arrived", T0, vin=vin, entry=True), {})
        t.accept(event("work_completed", at, vin=vin, end_of_line=True), {})
    t.accept(event("arrived", T0, vin="V4", entry=True), {})
    assert (t.started, t.completed, t.wip) == (4, 3, 1)
    # 06:00 (A), 15:00 (B), 00:00 next day local (outside any shift)
    assert t.per_shift == {"2026-01-05 A": 1, "2026-01-05 B": 1}
    assert t.completed_outside_shifts == 1
    assert t.output_per_day() == {"2026-01-05": 2, "2026-01-06": 1}
    # the shifts that started by the last action (00:00 local on the 6th)
    assert t.output_per_shift() == {"2026-01-05 A": 1, "2026-01-05 B": 1}
    assert (t.first_pass, t.fpy) == (3, 1.0)


def test_a_shift_ends_where_the_next_begins() -> None:
    t = tally()
    t.accept(event("arrived", T0, vin="V", entry=True), {})
    t.accept(event("work_completed", T0 + timedelta(hours=8), vin="V", end_of_line=True), {})  # 14:00 local
    assert t.per_shift == {"2026-01-05 B": 1}


def test_first_pass_means_no_defect_ever_a_failed_check_included() -> None:
    t = tally()
    for vin in ("V1", "V2", "V3"):
        t.accept(event("arrived", vin=vin, entry=True), {})
    t.accept(event("check_recorded", vin="V1", value=12.0, nominal=10.0, tolerance=1.0), {})
    t.accept(event("check_recorded", vin="V2", value=10.5, nominal=10.0, tolerance=1.0), {})
    t.accept(event("defect_found", vin="V3"), {})
    for vin in ("V1", "V2", "V3"):
        t.accept(event("work_completed", vin=vin, end_of_line=True), {})
    assert (t.completed, t.first_pass, t.defects_found, t.checks_failed) == (3, 1, 2, 1)
    assert t.fpy == 1 / 3


def test_refused_and_skipped_actions_count_for_nothing_but_themselves() -> None:
    t = tally()
    t.refuse(event("arrived", vin="V", entry=True))
    t.skip(event("work_completed", vin="V", end_of_line=True))
    assert (t.started, t.completed) == (0, 0)
    assert sum(t.refused.values()) == sum(t.skipped.values()) == 1


def test_kits_follow_their_lifecycle_to_consumption() -> None:
    t = tally()
    t.accept(act(Kind.ANNOUNCE_SHIPMENT, kits=[{"serial": s, "kit_type": "KT"} for s in ("K1", "K2")]), {})
    assert t.kits_by_status() == {"announced": 2}
    t.accept(act(Kind.RECEIVE_KIT, serial="K1", discrepancies=[]), {})
    t.accept(
        act(
            Kind.RECEIVE_KIT,
            serial="K2",
            discrepancies=[{"part_number": "P", "claim_code": "M"}, {"part_number": "Q", "claim_code": "D"}],
        ),
        {},
    )
    assert t.kits_by_status() == {"quarantined": 1, "received": 1}
    t.accept(act(Kind.RESOLVE_DISCREPANCY, serial="K2", part_number="P", claim_code="M"), {})
    assert t.kits_by_status() == {"quarantined": 1, "received": 1}  # one claim still open
    t.accept(act(Kind.RESOLVE_DISCREPANCY, serial="K2", part_number="Q", claim_code="D"), {})
    t.accept(act(Kind.RELEASE_KIT, serial="K2"), {})
    assert t.kits_by_status() == {"received": 1, "released": 1} and t.kits_on_hand == 2
    t.accept(act(Kind.CREATE_BUILD_ORDER, vin="V", kit_serial="K2"), {})
    t.accept(event("arrived", vin="V", entry=True), {})
    t.accept(act(Kind.RESOLVE_DISCREPANCY, serial="K2", part_number="P", claim_code="M"), {})  # late replacement
    assert t.kits_by_status() == {"consumed": 1, "received": 1} and t.kits_on_hand == 1
    assert t.kits_by_status("other") == {}


def test_headcount_by_origin_and_status_counts_created_rows_recalls_hires_and_leavers() -> None:
    t = tally()
    rows = [
        {"employee_id": "E1", "origin": "transferred", "status": "active"},
        {"employee_id": "E2", "origin": "transferred", "status": "idle"},
        {"employee_id": "E3", "origin": "transferred", "status": "active"},
    ]
    answer = {"rows": [{"employee_id": "E1", "outcome": "created"}, {"employee_id": "E2", "outcome": "created"}]}
    t.accept(act(Kind.IMPORT_EMPLOYEES, rows=rows), answer)  # E3 was rejected
    t.accept(act(Kind.RECALL_EMPLOYEE, employee_id="E2"), {})
    t.accept(act(Kind.REGISTER_EMPLOYEE, employee_id="E4", origin="new_hire", status="active"), {})
    t.accept(act(Kind.CHANGE_STATUS, employee_id="E1", to_status="left"), {})
    assert t.headcount()["cells"] == {"transferred/left": 1, "recalled/active": 1, "new_hire/active": 1}
    assert t.headcount()["by_origin"] == {"transferred": 1, "recalled": 1, "new_hire": 1}
    assert (t.recalled, t.hired, t.left) == (1, 1, 1)


def test_the_json_names_every_figure() -> None:
    t = tally()
    t.accept(event("arrived", vin="V", entry=True), {})
    found = t.as_json()
    assert found["trucks"]["wip"] == 1 and found["first_day"] == "2026-01-05"
    assert found["requests"]["accepted"] == 1 and found["kits"]["kit_types"] == ["KT"]


def _short_kit(t: Tally, at: datetime) -> None:
    """Kit K1 of type KT, whose part P fitted at station S2 is missing and accepted short."""
    t.accept(act(Kind.DEFINE_KIT_TYPE, at, code="KT", lines=[{"part_number": "P", "station": "S2"}]), {})
    t.accept(act(Kind.ANNOUNCE_SHIPMENT, at, kits=[{"serial": "K1", "kit_type": "KT"}]), {})
    t.accept(act(Kind.RECEIVE_KIT, at, serial="K1", discrepancies=[{"part_number": "P", "claim_code": "M"}]), {})
    decided = {"serial": "K1", "part_number": "P", "claim_code": "M", "resolution": "shortage_accepted"}
    t.accept(act(Kind.RESOLVE_DISCREPANCY, at, **decided), {})
    t.accept(act(Kind.RELEASE_KIT, at, serial="K1"), {})
    t.accept(act(Kind.CREATE_BUILD_ORDER, at, vin="V", kit_serial="K1"), {})


def test_a_truck_held_twice_at_a_station_is_held_inside_each_hold_and_not_between() -> None:
    t = tally()
    h = [T0 + timedelta(hours=n) for n in range(12)]
    _short_kit(t, h[0])

    def move(kind: str, at: datetime, station: str, **data: Any) -> None:
        t.accept(act(Kind.STATION_EVENT, at, type=kind, station=station, vin="V", kit_serial="K1", **data), {})

    move("arrived", h[1], "S1", entry=True)
    move("work_completed", h[2], "S1")
    move("arrived", h[3], "S2")  # held: the part is missing
    t.accept(act(Kind.SEND_BACK, h[4], vin="V", to_station="S1", reason="rework"), {})
    move("arrived", h[5], "S1")
    move("work_completed", h[6], "S1")
    move("arrived", h[7], "S2")  # held again
    replaced = {"serial": "K1", "part_number": "P", "claim_code": "M", "resolution": "replacement_received"}
    t.accept(act(Kind.RESOLVE_DISCREPANCY, h[9], **replaced), {})
    assert t.hold_spans() == [("V", "S2", h[3], h[4]), ("V", "S2", h[7], h[9])]
    assert t.held_at(h[3] + timedelta(minutes=30)) == [("V", "S2", h[3])]  # inside the first hold
    assert t.held_at(h[5]) == []
    assert t.held_at(h[8]) == [("V", "S2", h[7])]
    assert t.held_at(h[10]) == []
    assert t.wip_at(h[3] + timedelta(minutes=30)) == {"S2": {"trucks": 1, "held": 1}}
    assert t.wip_at(h[5]) == {"S1": {"trucks": 1, "held": 0}}
    assert t.wip_at(h[0]) == {}
    assert (t.started, t.sent_back) == (1, 1)  # a rework arrival at the first station is no second start


def test_kits_by_status_as_of_an_instant_follow_their_changes() -> None:
    t = tally()
    _short_kit(t, T0)
    t.accept(event("arrived", T0 + timedelta(hours=2), vin="V", entry=True, kit_serial="K1"), {})
    assert t.kits_at(T0 - timedelta(minutes=1), "KT") == {}
    assert t.kits_at(T0 + timedelta(hours=1), "KT") == {"released": 1}
    assert t.kits_at(T0 + timedelta(hours=2), "KT") == {"consumed": 1}
    assert t.discrepancies_at(T0 - timedelta(minutes=1)) == ({}, 0)
    assert t.discrepancies_at(T0) == ({}, 1)  # recorded and accepted short at once
    assert t.build_short_at(T0 + timedelta(hours=3)) == 1  # started before its part came
    replaced = {"serial": "K1", "part_number": "P", "claim_code": "M", "resolution": "replacement_received"}
    t.accept(act(Kind.RESOLVE_DISCREPANCY, T0 + timedelta(hours=4), **replaced), {})
    assert t.discrepancies_at(T0 + timedelta(hours=4)) == ({}, 0)


def test_staffing_counts_who_was_rostered_and_who_clocked_in_once_a_late_scan_included() -> None:
    t = tally()
    day = date(2026, 1, 5)
    roster = {
        "date": day,
        "shift": "A",
        "required": [{"station": "S", "headcount": 3}],
        "assignments": [{"employee_id": e, "station": "S"} for e in ("E1", "E2")],
    }
    t.accept(act(Kind.PUBLISH_ROSTER, T0, **roster), {})
    scan = {"station": "S", "shift": "A", "shift_date": day}
    t.accept(act(Kind.CLOCK_IN, T0, employee_id="E1", **scan), {"result": "clocked_in"})
    t.accept(act(Kind.CLOCK_IN, T0, employee_id="E1", **scan), {"result": "already_clocked_in"})
    late = Action(99_999, T0 + timedelta(days=2), Kind.CLOCK_IN, "k", {"employee_id": "E2", "at": T0, **scan})
    t.accept(late, {"result": "clocked_in"})
    assert t.staffing(day) == {"A S": {"required": 3, "rostered": 2, "unqualified_rostered": 0, "clocked_in": 2}}
    assert t.late_scans == 1


def test_expiring_qualifications_are_those_valid_then_and_expiring_within_the_days_as_they_stood_then() -> None:
    t = tally()
    until = T0 + timedelta(days=10)
    grant = {"employee_id": "E1", "station": "S", "level": "trainee", "valid_until": until}
    t.accept(act(Kind.GRANT_QUALIFICATION, T0, granted_at=T0 - timedelta(days=1), **grant), {})
    later = T0 + timedelta(days=100)
    t.accept(
        act(Kind.RENEW_QUALIFICATION, T0 + timedelta(days=2), **{**grant, "level": "qualified", "valid_until": later}),
        {},
    )
    past = {"employee_id": "E2", "station": "S", "level": "qualified", "valid_until": T0 - timedelta(days=5)}
    t.accept(act(Kind.GRANT_QUALIFICATION, T0, granted_at=T0 - timedelta(days=300), **past), {})  # history, expired
    assert t.expiring(T0 - timedelta(days=2), 30, "S") == []  # before the grant
    assert t.expiring(T0, 30, "S") == [f"E1 trainee {until.isoformat()} 10.0 days left"]
    assert t.expiring(T0 + timedelta(days=3), 30, "S") == []  # renewed beyond the window
    assert t.expiring(T0 + timedelta(days=3), 365, "S") == [f"E1 qualified {later.isoformat()} 97.0 days left"]
    assert t.expiring(T0, 30, "other") == []
