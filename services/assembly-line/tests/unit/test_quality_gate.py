"""Defects, repairs and checks; a truck with an open defect cannot pass the end of line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assembly_line.domain import (
    NO_SHORTAGE,
    CheckRecorded,
    Conflict,
    DefectFound,
    DefectRepaired,
    InvalidInput,
    Route,
    Vehicle,
    VehicleCompleted,
    check_passes,
)

from .conftest import occ, types


def at_last_station(vehicle: Vehicle, walk: Callable[..., float]) -> float:
    t = walk(vehicle, "ST-10", "ST-20", "ST-30")
    vehicle.arrive(occ("ST-40", t), NO_SHORTAGE)
    vehicle.start_work(occ("ST-40", t + 1))
    return t + 2


def test_an_open_defect_stops_the_truck_at_the_end_of_line_until_repaired(
    planned: Vehicle, route: Route, walk_through: Callable[..., float]
) -> None:
    t = at_last_station(planned, walk_through)
    [found] = planned.find_defect(
        occ("ST-40", t, operator=None), code="PAINT-RUN", severity="minor", caused_at_station="ST-20", note="door"
    )
    assert isinstance(found, DefectFound)
    assert (found.defect_id, found.caused_at_station, found.from_check, found.operator_id) == (
        f"{planned.vin}-D1",
        "ST-20",
        False,
        None,
    )
    with pytest.raises(Conflict) as caught:
        planned.complete_work(occ("ST-40", t + 1))
    assert caught.value.rule == "quality-gate.open-defects"
    assert caught.value.extensions["open_defects"] == [found.defect_id]
    assert found.defect_id in caught.value.message

    [repaired] = planned.repair_defect(occ("ST-40", t + 2, operator="E-9"), defect_id=found.defect_id, note="polished")
    assert isinstance(repaired, DefectRepaired) and repaired.code == "PAINT-RUN"
    events = planned.complete_work(occ("ST-40", t + 3))
    assert types(events) == ["WorkCompleted", "VehicleCompleted"]
    completed = events[1]
    assert isinstance(completed, VehicleCompleted)
    assert (completed.first_pass, completed.defect_count) == (False, 1)
    assert planned.defects[0].repaired_by == "E-9" and planned.defects[0].repaired_station == "ST-40"


def test_an_open_defect_does_not_stop_intermediate_stations(
    planned: Vehicle, route: Route, walk_through: Callable[..., float]
) -> None:
    t = walk_through(planned, "ST-10")
    planned.arrive(occ("ST-20", t), NO_SHORTAGE)
    planned.find_defect(occ("ST-20", t), code="DENT", severity="major", caused_at_station="ST-10")
    planned.start_work(occ("ST-20", t + 1))
    assert types(planned.complete_work(occ("ST-20", t + 2))) == ["WorkCompleted"]


def test_a_defect_is_recorded_where_the_truck_is_and_caused_where_it_has_been(
    planned: Vehicle, route: Route, walk_through: Callable[..., float]
) -> None:
    t = walk_through(planned, "ST-10")
    for station, caused, rule in (
        ("ST-30", "ST-10", "route.vehicle-not-at-station"),
        ("ST-10", "ST-20", "defect.caused-at-invalid"),
        ("ST-10", "ST-77", "defect.caused-at-invalid"),
    ):
        with pytest.raises(Conflict) as caught:
            planned.find_defect(occ(station, t), code="X", severity="minor", caused_at_station=caused)
        assert caught.value.rule == rule
    # Done at ST-10 and not yet at ST-20: still there for the inspector.
    assert types(planned.find_defect(occ("ST-10", t), code="X", severity="minor", caused_at_station="ST-10")) == [
        "DefectFound"
    ]
    with pytest.raises(InvalidInput) as invalid:
        planned.find_defect(occ("ST-10", t), code="X", severity="cosmetic", caused_at_station="ST-10")
    assert invalid.value.rule == "defect.severity-invalid"


def test_repairs_name_an_open_defect(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    with pytest.raises(InvalidInput) as unknown:
        planned.repair_defect(occ("ST-10", 1), defect_id="NOPE")
    assert unknown.value.rule == "defect.unknown"
    [found] = planned.find_defect(occ("ST-10", 1), code="X", severity="minor", caused_at_station="ST-10")
    assert isinstance(found, DefectFound)
    planned.repair_defect(occ("ST-10", 2), defect_id=found.defect_id)
    with pytest.raises(Conflict) as twice:
        planned.repair_defect(occ("ST-10", 3), defect_id=found.defect_id)
    assert twice.value.rule == "defect.already-repaired"


def test_a_failed_check_opens_a_defect_and_a_passed_one_does_not(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    with pytest.raises(Conflict) as not_started:
        planned.record_check(occ("ST-10", 1), characteristic="TQ-1", value=80, nominal=80, tolerance=5)
    assert not_started.value.rule == "route.work-not-started"
    planned.start_work(occ("ST-10", 1))
    [ok] = planned.record_check(occ("ST-10", 2), characteristic="TQ-1", value=83, nominal=80, tolerance=5, unit="Nm")
    assert isinstance(ok, CheckRecorded) and ok.passed and ok.defect_id is None
    events = planned.record_check(occ("ST-10", 3), characteristic="TQ-2", value=70, nominal=80, tolerance=5, unit="Nm")
    assert types(events) == ["CheckRecorded", "DefectFound"]
    check, defect = events
    assert isinstance(check, CheckRecorded) and isinstance(defect, DefectFound)
    assert check.passed is False and check.defect_id == defect.defect_id
    assert (defect.from_check, defect.code, defect.severity, defect.caused_at_station) == (
        True,
        "CHK-TQ-2",
        "major",
        "ST-10",
    )
    assert "70" in defect.note and "80" in defect.note
    assert planned.last_event is not None and planned.last_event.kind == "check_recorded"
    [_, named] = planned.record_check(
        occ("ST-10", 4),
        characteristic="TQ-3",
        value=1,
        nominal=2,
        tolerance=0.5,
        defect_code="TORQUE-LOW",
        severity="critical",
    )
    assert isinstance(named, DefectFound) and (named.code, named.severity) == ("TORQUE-LOW", "critical")


def test_a_terminal_verdict_must_agree_with_the_numbers(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    planned.start_work(occ("ST-10", 1))
    with pytest.raises(InvalidInput) as caught:
        planned.record_check(occ("ST-10", 2), characteristic="TQ", value=90, nominal=80, tolerance=5, passed=True)
    assert caught.value.rule == "check.verdict-mismatch"
    [ok] = planned.record_check(occ("ST-10", 2), characteristic="TQ", value=84, nominal=80, tolerance=5, passed=True)
    assert isinstance(ok, CheckRecorded) and ok.passed


@pytest.mark.parametrize(
    ("value", "nominal", "tolerance", "passes"),
    [(10.3, 10.0, 0.3, True), (9.7, 10.0, 0.3, True), (10.31, 10.0, 0.3, False), (5, 5, 0, True), (5.001, 5, 0, False)],
)
def test_the_tolerance_is_inclusive_despite_binary_rounding(
    value: float, nominal: float, tolerance: float, passes: bool
) -> None:
    assert check_passes(value, nominal, tolerance) is passes


def test_components_are_fitted_while_work_is_in_progress(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    with pytest.raises(Conflict) as caught:
        planned.fit_component(occ("ST-10", 1), part_number="ECU-1", serial="S1", source="kit", unit_value=None)
    assert caught.value.rule == "route.work-not-started"
    planned.start_work(occ("ST-10", 1))
    [fitted] = planned.fit_component(occ("ST-10", 2), part_number="ECU-1", serial="S1", source="local", unit_value=120)
    assert types([fitted]) == ["ComponentFitted"]
    with pytest.raises(InvalidInput):
        planned.fit_component(occ("ST-10", 3), part_number="ECU-1", serial="S2", source="borrowed", unit_value=None)
