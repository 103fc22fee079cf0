"""Shared fixtures for the assembly-line domain tests: one line, one route, fixed instants, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from assembly_line.domain import NO_SHORTAGE, Occurrence, Route, RouteStep, Shortage, Vehicle, VehicleEvent

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
VIN = "1HTMKADN43H561298"
STATIONS = ("ST-10", "ST-20", "ST-30", "ST-40")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def occ(station: str, minutes: float, operator: str | None = "E-1", event_id: str | None = None) -> Occurrence:
    return Occurrence(station, at(minutes), event_id or f"{station}-{minutes}", operator)


@pytest.fixture
def route() -> Route:
    return Route("L1", "HTX", 3, tuple(RouteStep(s, 600.0 + 60 * i) for i, s in enumerate(STATIONS)), at(-24 * 60))


@pytest.fixture
def planned(route: Route) -> Vehicle:
    vehicle, _ = Vehicle.plan(
        vin=VIN, model="HTX", variant=None, kit_serial="KIT-1", route=route, shortage=NO_SHORTAGE, at=at(-60)
    )
    return vehicle


def types(events: list[VehicleEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def walk(vehicle: Vehicle, route: Route, *stations: str, start: float = 0.0) -> float:
    """Arrive, start and complete each station in turn, one minute apart; returns the next free minute."""
    t = start
    for station in stations:
        vehicle.arrive(occ(station, t), NO_SHORTAGE, route)
        vehicle.start_work(occ(station, t + 1))
        vehicle.complete_work(occ(station, t + 2))
        t += 3
    return t


@pytest.fixture
def walk_through(route: Route) -> Callable[..., float]:
    return lambda vehicle, *stations, start=0.0: walk(vehicle, route, *stations, start=start)


@pytest.fixture
def short_at_30() -> Shortage:
    from assembly_line.domain import MissingPart

    return Shortage(
        build_short=True,
        waiting_stations=frozenset({"ST-30"}),
        missing_parts=(MissingPart(part_number="AXL-200", quantity=1, station="ST-30"),),
    )
