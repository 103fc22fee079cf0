"""Where a truck in production is, from its movements, whatever order they arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from reporting.domain.wip import StationEvent, position

T0 = datetime(2026, 11, 26, 6, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_station_of_the_latest_movement_since_the_arrival_there() -> None:
    events = [
        StationEvent(at(0), 1, "started", "ST-01"),
        StationEvent(at(5), 2, "work_started", "ST-01"),
        StationEvent(at(50), 3, "work_completed", "ST-01"),
        StationEvent(at(55), 4, "arrived", "ST-02"),
        StationEvent(at(60), 5, "work_started", "ST-02"),
    ]
    for order in itertools.permutations(events):
        where = position(order)
        assert where is not None
        assert (where.station, where.status, where.since) == ("ST-02", "working", at(55))


def test_a_truck_sent_back_is_at_the_earlier_station_from_then() -> None:
    events = [
        StationEvent(at(0), 1, "arrived", "ST-01"),
        StationEvent(at(30), 2, "arrived", "ST-02"),
        StationEvent(at(40), 3, "sent_back", "ST-01"),
        StationEvent(at(45), 4, "work_started", "ST-01"),
    ]
    where = position(events)
    assert (where.station, where.status, where.since) == ("ST-01", "working", at(40))


def test_held_and_released() -> None:
    events = [StationEvent(at(0), 1, "arrived", "ST-03"), StationEvent(at(2), 2, "held", "ST-03")]
    assert position(events).status == "held"
    released = [*events, StationEvent(at(90), 3, "hold_released", "ST-03")]
    assert (position(released).status, position(released).since) == ("arrived", at(0))


def test_equal_times_are_ordered_by_the_log() -> None:
    events = [StationEvent(at(0), 7, "arrived", "ST-02"), StationEvent(at(0), 3, "work_completed", "ST-01")]
    assert position(events).station == "ST-02"
    assert position([StationEvent(at(0), 1, "defect_found", "ST-01")]) is None
