"""A build-short truck stops at the station that fits its missing part until the part arrives."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assembly_line.domain import (
    NO_SHORTAGE,
    Conflict,
    MissingPart,
    Route,
    Shortage,
    Vehicle,
    VehicleHeld,
    VehicleHoldReleased,
)

from .conftest import at, occ, types


def test_the_truck_is_held_where_the_part_is_fitted_and_work_waits(
    planned: Vehicle, route: Route, walk_through: Callable[..., float], short_at_30: Shortage
) -> None:
    t = walk_through(planned, "ST-10")
    assert types(planned.arrive(occ("ST-20", t), short_at_30)) == ["VehicleArrived"]  # not waiting here
    planned.start_work(occ("ST-20", t + 1))
    planned.complete_work(occ("ST-20", t + 2))
    events = planned.arrive(occ("ST-30", t + 3), short_at_30)
    assert types(events) == ["VehicleArrived", "VehicleHeld"]
    held = events[1]
    assert isinstance(held, VehicleHeld)
    assert (held.station, held.kit_serial) == ("ST-30", "KIT-1")
    assert held.missing_parts == (MissingPart(part_number="AXL-200", quantity=1, station="ST-30"),)
    assert planned.held_at == "ST-30" and planned.held_since == at(t + 3)

    for attempt in range(2):  # refused every time, nothing changes, no second VehicleHeld
        with pytest.raises(Conflict) as caught:
            planned.start_work(occ("ST-30", t + 4 + attempt))
        assert caught.value.rule == "build-short.part-missing"
        assert caught.value.extensions["kit_serial"] == "KIT-1"
    assert planned.release_hold(short_at_30, at(t + 5)) == []  # the part is still missing

    [released] = planned.release_hold(NO_SHORTAGE, at(t + 13))
    assert isinstance(released, VehicleHoldReleased)
    assert (released.reason, released.held_seconds, released.station) == ("part_arrived", 600.0, "ST-30")
    assert planned.held_at is None
    assert types(planned.start_work(occ("ST-30", t + 14))) == ["WorkStarted"]
    assert planned.release_hold(NO_SHORTAGE, at(t + 15)) == []


def test_a_part_that_arrived_before_the_hold_is_released_no_earlier_than_the_hold(
    planned: Vehicle, route: Route, walk_through: Callable[..., float], short_at_30: Shortage
) -> None:
    t = walk_through(planned, "ST-10", "ST-20")
    planned.arrive(occ("ST-30", t), short_at_30)
    [released] = planned.release_hold(NO_SHORTAGE, at(t - 30))
    assert isinstance(released, VehicleHoldReleased)
    assert released.at == at(t) and released.held_seconds == 0.0


def test_a_short_kit_holding_the_first_station_holds_the_truck_as_it_enters(planned: Vehicle, route: Route) -> None:
    short = Shortage(
        build_short=True,
        waiting_stations=frozenset({"ST-10"}),
        missing_parts=(MissingPart(part_number="CAB-1", quantity=1, station="ST-10"),),
    )
    assert types(planned.arrive(occ("ST-10", 0), short, route)) == ["BuildStarted", "VehicleArrived", "VehicleHeld"]


def test_a_shortage_at_a_station_off_the_route_never_holds(
    planned: Vehicle, route: Route, walk_through: Callable[..., float]
) -> None:
    elsewhere = Shortage(build_short=True, waiting_stations=frozenset({"ST-99"}))
    planned.arrive(occ("ST-10", 0), elsewhere, route)
    assert planned.held_at is None
