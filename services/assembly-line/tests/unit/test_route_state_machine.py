"""The truck's route: pending -> arrived -> in_progress -> completed per step, in the route's order."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from assembly_line.domain import (
    NO_SHORTAGE,
    BuildStarted,
    Conflict,
    Route,
    StepStatus,
    Vehicle,
    VehicleArrived,
    VehicleCompleted,
    VehicleStatus,
    WorkCompleted,
)

from .conftest import STATIONS, VIN, at, occ, types


def refused(rule: str, action: Callable[[], object], vehicle: Vehicle) -> Conflict:
    """The action is refused with `rule` and leaves the truck exactly as it was."""
    before = copy.deepcopy(vehicle)
    with pytest.raises(Conflict) as caught:
        action()
    assert caught.value.rule == rule, caught.value
    assert vehicle == before
    return caught.value


def test_a_build_order_follows_the_current_route_and_says_whether_its_kit_is_short(route: Route) -> None:
    vehicle, events = Vehicle.plan(
        vin=VIN, model="HTX", variant="6x4", kit_serial="KIT-1", route=route, shortage=NO_SHORTAGE, at=at(0)
    )
    assert vehicle.status is VehicleStatus.PLANNED and vehicle.route_version == 3
    [created] = events
    assert (created.route_version, created.build_short, created.waiting_stations) == (3, False, ())
    assert [s.station for s in vehicle.steps] == list(STATIONS)


def test_arrival_at_the_first_station_starts_the_build(planned: Vehicle, route: Route) -> None:
    events = planned.arrive(occ("ST-10", 0, operator=None), NO_SHORTAGE, route)
    assert types(events) == ["BuildStarted", "VehicleArrived"]
    started, arrived = events
    assert isinstance(started, BuildStarted) and isinstance(arrived, VehicleArrived)
    assert (started.station, started.kit_serial, started.route_version, started.at) == ("ST-10", "KIT-1", 3, at(0))
    assert arrived.rework is False and arrived.operator_id is None
    assert planned.status is VehicleStatus.IN_PROGRESS and planned.started_at == at(0)
    assert planned.steps[0].status is StepStatus.ARRIVED


def test_a_truck_enters_only_at_its_first_station(planned: Vehicle, route: Route) -> None:
    error = refused("route.not-started", lambda: planned.arrive(occ("ST-20", 0), NO_SHORTAGE, route), planned)
    assert error.extensions["expected_station"] == "ST-10"
    refused("route.not-started", lambda: planned.start_work(occ("ST-10", 0)), planned)


def test_the_truck_keeps_the_route_it_started_with(planned: Vehicle, route: Route) -> None:
    newer = Route("L1", "HTX", 4, route.steps[:2], at(-1))
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, newer)
    assert planned.route_version == 4 and len(planned.steps) == 2  # started on the current version ...
    planned.start_work(occ("ST-10", 1))
    # ... and a version published later never touches it: only the start takes a route.
    assert planned.route_version == 4


def test_no_completing_before_starting_and_no_starting_before_arriving(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    refused("route.work-not-started", lambda: planned.complete_work(occ("ST-10", 1)), planned)
    planned.start_work(occ("ST-10", 1))
    planned.complete_work(occ("ST-10", 2))
    refused("route.not-arrived", lambda: planned.start_work(occ("ST-20", 3)), planned)
    refused("route.not-arrived", lambda: planned.complete_work(occ("ST-20", 3)), planned)


def test_no_skipping_stations(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    error = refused("route.station-skipped", lambda: planned.arrive(occ("ST-20", 1), NO_SHORTAGE), planned)
    assert error.extensions["due_station"] == "ST-10"
    assert "in work" not in error.message and "arrived at ST-10" in error.message
    planned.start_work(occ("ST-10", 1))
    planned.complete_work(occ("ST-10", 2))
    refused("route.station-skipped", lambda: planned.arrive(occ("ST-30", 3), NO_SHORTAGE), planned)
    refused("route.station-skipped", lambda: planned.start_work(occ("ST-30", 3)), planned)


def test_no_station_twice(planned: Vehicle, route: Route, walk_through: Callable[..., float]) -> None:
    t = walk_through(planned, "ST-10")
    refused("route.station-already-done", lambda: planned.arrive(occ("ST-10", t), NO_SHORTAGE), planned)
    planned.arrive(occ("ST-20", t), NO_SHORTAGE)
    refused("route.already-arrived", lambda: planned.arrive(occ("ST-20", t + 1), NO_SHORTAGE), planned)
    planned.start_work(occ("ST-20", t + 1))
    refused("route.work-already-started", lambda: planned.start_work(occ("ST-20", t + 2)), planned)


def test_a_station_not_on_the_route_is_refused(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    error = refused("route.station-not-on-route", lambda: planned.arrive(occ("ST-99", 1), NO_SHORTAGE), planned)
    assert error.extensions["route"] == list(STATIONS)


def test_an_event_older_than_what_the_truck_already_did_is_refused_clearly(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    planned.start_work(occ("ST-10", 5))
    error = refused("station-event.out-of-order", lambda: planned.complete_work(occ("ST-10", 4)), planned)
    assert error.extensions["last_event"] == {"type": "work_started", "station": "ST-10", "at": at(5).isoformat()}
    # The same instant is not older.
    assert types(planned.complete_work(occ("ST-10", 5))) == ["WorkCompleted"]


def test_work_completed_carries_cycle_time_and_standard(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    planned.start_work(occ("ST-10", 1, operator="E-7"))
    [done] = planned.complete_work(occ("ST-10", 11.5, operator="E-8"))
    assert isinstance(done, WorkCompleted)
    assert (done.cycle_seconds, done.standard_seconds, done.rework, done.operator_id) == (630.0, 600.0, False, "E-8")
    step = planned.steps[0]
    assert (step.started_by, step.completed_by, step.visits) == ("E-7", "E-8", 1)


def test_completing_the_last_station_is_the_end_of_line(
    planned: Vehicle, route: Route, walk_through: Callable[..., float]
) -> None:
    t = walk_through(planned, *STATIONS[:-1])
    planned.arrive(occ("ST-40", t), NO_SHORTAGE)
    planned.start_work(occ("ST-40", t + 1))
    events = planned.complete_work(occ("ST-40", t + 2))
    assert types(events) == ["WorkCompleted", "VehicleCompleted"]
    completed = events[1]
    assert isinstance(completed, VehicleCompleted)
    assert completed.lead_time_seconds == (t + 2) * 60
    assert (completed.first_pass, completed.defect_count, completed.station) == (True, 0, "ST-40")
    assert planned.status is VehicleStatus.COMPLETED and planned.completed_at == at(t + 2)
    error = refused("vehicle.completed", lambda: planned.arrive(occ("ST-40", t + 3), NO_SHORTAGE), planned)
    assert "end of line" in error.message
    refused(
        "vehicle.completed",
        lambda: planned.find_defect(occ("ST-40", t + 3), code="SCRATCH", severity="minor", caused_at_station="ST-10"),
        planned,
    )


def test_where_the_truck_is(planned: Vehicle, route: Route) -> None:
    assert planned.location is None
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    assert (planned.cursor, planned.location) == (0, 0)
    planned.start_work(occ("ST-10", 1))
    planned.complete_work(occ("ST-10", 2))
    assert (planned.cursor, planned.location) == (1, 0)  # done at ST-10, not at ST-20 yet


def test_an_explicit_start_enters_the_line_before_the_first_arrival(planned: Vehicle, route: Route) -> None:
    assert types(planned.start(route, at(0))) == ["BuildStarted"]
    assert planned.location is None and planned.last_event is not None
    assert types(planned.arrive(occ("ST-10", 1), NO_SHORTAGE)) == ["VehicleArrived"]
    refused("build-order.not-planned", lambda: planned.start(route, at(2)), planned)


def test_a_planned_build_order_can_be_cancelled_once(planned: Vehicle, route: Route) -> None:
    [cancelled] = planned.cancel(at(0), "sup-1", "wrong kit")
    assert cancelled.reason == "wrong kit" and planned.status is VehicleStatus.CANCELLED
    assert planned.cancel(at(1), "sup-1", "again") == []
    refused("vehicle.cancelled", lambda: planned.start_work(occ("ST-10", 2)), planned)
    refused("build-order.not-planned", lambda: planned.start(route, at(2)), planned)


def test_a_cancellation_is_never_before_the_build_order_was_made(planned: Vehicle) -> None:
    refused("build-order.cancel.before-created", lambda: planned.cancel(at(-61), "sup-1", "late entry"), planned)
    [cancelled] = planned.cancel(at(-59), "sup-1", "late entry")
    assert cancelled.at == at(-59)
