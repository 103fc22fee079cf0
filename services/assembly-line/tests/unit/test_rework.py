"""Send-back for rework: the truck visits again every station from the one it is sent back to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assembly_line.domain import (
    NO_SHORTAGE,
    Conflict,
    Route,
    SentBackForRework,
    Shortage,
    StepStatus,
    Vehicle,
    VehicleArrived,
    VehicleHoldReleased,
    WorkCompleted,
)

from .conftest import at, occ, types


def test_sent_back_it_redoes_every_station_from_there_as_rework(
    planned: Vehicle, route: Route, walk_through: Callable[..., float]
) -> None:
    t = walk_through(planned, "ST-10", "ST-20")
    planned.arrive(occ("ST-30", t), NO_SHORTAGE)
    planned.start_work(occ("ST-30", t + 1))
    [sent] = planned.send_back(to_station="ST-20", reason="loose bolt", by="sup-1", at=at(t + 2))
    assert isinstance(sent, SentBackForRework)
    assert (sent.from_station, sent.to_station, sent.by) == ("ST-30", "ST-20", "sup-1")
    assert [s.status for s in planned.steps] == [
        StepStatus.COMPLETED,
        StepStatus.PENDING,
        StepStatus.PENDING,
        StepStatus.PENDING,
    ]
    with pytest.raises(Conflict) as caught:
        planned.arrive(occ("ST-30", t + 3), NO_SHORTAGE)
    assert caught.value.rule == "route.station-skipped"

    [arrived] = planned.arrive(occ("ST-20", t + 3), NO_SHORTAGE)
    assert isinstance(arrived, VehicleArrived) and arrived.rework is True
    planned.start_work(occ("ST-20", t + 4))
    [done] = planned.complete_work(occ("ST-20", t + 5))
    assert isinstance(done, WorkCompleted) and done.rework is True
    assert planned.steps[1].visits == 2 and planned.steps[2].visits == 1
    planned.arrive(occ("ST-30", t + 6), NO_SHORTAGE)
    assert planned.steps[2].visits == 2


def test_it_goes_back_only_to_a_station_it_has_reached(planned: Vehicle, route: Route) -> None:
    with pytest.raises(Conflict) as caught:
        planned.send_back(to_station="ST-10", reason="x", by="sup", at=at(0))
    assert caught.value.rule == "send-back.not-on-line"
    planned.start(route, at(0))
    with pytest.raises(Conflict) as caught:
        planned.send_back(to_station="ST-10", reason="x", by="sup", at=at(0))
    assert caught.value.rule == "send-back.nothing-done"
    planned.arrive(occ("ST-10", 1), NO_SHORTAGE)
    for station, rule in (("ST-20", "send-back.not-earlier"), ("ST-99", "route.station-not-on-route")):
        with pytest.raises(Conflict) as caught:
            planned.send_back(to_station=station, reason="x", by="sup", at=at(2))
        assert caught.value.rule == rule


def test_the_current_station_can_be_redone_from_scratch(planned: Vehicle, route: Route) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    planned.start_work(occ("ST-10", 1))
    planned.send_back(to_station="ST-10", reason="wrong cab colour fitted", by="sup", at=at(2))
    assert planned.steps[0].status is StepStatus.PENDING and planned.location is None
    [arrived] = planned.arrive(occ("ST-10", 3), NO_SHORTAGE)
    assert isinstance(arrived, VehicleArrived) and arrived.rework


def test_a_send_back_never_goes_before_the_last_event_and_older_events_are_refused(
    planned: Vehicle, route: Route
) -> None:
    planned.arrive(occ("ST-10", 0), NO_SHORTAGE, route)
    planned.start_work(occ("ST-10", 10))  # a terminal clock ahead of the server's
    [sent] = planned.send_back(to_station="ST-10", reason="redo", by="sup", at=at(5))
    assert sent.at == at(10)
    with pytest.raises(Conflict) as caught:
        planned.complete_work(occ("ST-10", 9))
    assert caught.value.rule == "station-event.out-of-order"
    assert caught.value.extensions["last_event"]["type"] == "sent_back"


def test_a_completed_truck_is_not_sent_back(planned: Vehicle, route: Route, walk_through: Callable[..., float]) -> None:
    t = walk_through(planned, "ST-10", "ST-20", "ST-30", "ST-40")
    with pytest.raises(Conflict) as caught:
        planned.send_back(to_station="ST-10", reason="x", by="sup", at=at(t))
    assert caught.value.rule == "send-back.not-on-line"


def test_sending_a_held_truck_away_ends_its_hold_and_it_is_held_again_on_return(
    planned: Vehicle, route: Route, walk_through: Callable[..., float], short_at_30: Shortage
) -> None:
    t = walk_through(planned, "ST-10", "ST-20")
    assert types(planned.arrive(occ("ST-30", t), short_at_30)) == ["VehicleArrived", "VehicleHeld"]
    events = planned.send_back(to_station="ST-20", reason="damaged hose", by="sup", at=at(t + 5))
    assert types(events) == ["VehicleHoldReleased", "SentBackForRework"]
    released = events[0]
    assert isinstance(released, VehicleHoldReleased)
    assert (released.reason, released.held_seconds, released.station) == ("sent_back", 300.0, "ST-30")
    assert planned.held_at is None
    walk_through(planned, "ST-20", start=t + 6)
    assert types(planned.arrive(occ("ST-30", t + 10), short_at_30)) == ["VehicleArrived", "VehicleHeld"]


def test_a_rework_entered_late_takes_its_own_time_and_later_events_follow_it(
    planned: Vehicle, walk_through: Callable[..., float]
) -> None:
    t = walk_through(planned, "ST-10", "ST-20")
    [sent] = planned.send_back(to_station="ST-20", reason="entered late", by="sup", at=at(t + 1), stated=True)
    assert sent.at == at(t + 1)
    # The facts after it, dated before the moment it was recorded, are in order.
    [arrived] = planned.arrive(occ("ST-20", t + 2), NO_SHORTAGE)
    assert arrived.rework is True


def test_a_stated_send_back_before_the_last_event_is_refused_and_the_servers_own_time_moves_up(
    planned: Vehicle, walk_through: Callable[..., float]
) -> None:
    t = walk_through(planned, "ST-10", "ST-20")
    with pytest.raises(Conflict) as caught:
        planned.send_back(to_station="ST-20", reason="x", by="sup", at=at(t - 5), stated=True)
    assert caught.value.rule == "send-back.before-last-event"
    assert planned.steps[1].status is StepStatus.COMPLETED  # nothing changed
    last_at = planned.last_event.at if planned.last_event else None
    [sent] = planned.send_back(to_station="ST-20", reason="x", by="sup", at=at(t - 5))
    assert sent.at == last_at
