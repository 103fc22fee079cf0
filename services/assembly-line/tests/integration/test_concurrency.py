"""Races the line really has: a terminal resending while its first send is in flight, two terminals
scanning the same truck, two supervisors binding the same kit. One wins, the others get a clear answer,
nothing is written twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from .conftest import Plant, new_vin, now, unique

pytestmark = pytest.mark.integration


async def test_a_resend_racing_its_first_send_is_answered_once(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    vin = await plant.build_order(line, await plant.kit(line))
    terminal = terminal_for(s1)
    event = terminal.event("arrived", now() - timedelta(minutes=1), vin=vin)
    answers = await asyncio.gather(*(terminal.send(s1, event) for _ in range(8)))
    assert {r.status_code for r in answers} == {201}
    fresh = [r for r in answers if "idempotent-replayed" not in r.headers]
    assert len(fresh) == 1
    assert all(r.json() == fresh[0].json() for r in answers)
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1", vin) == 3  # created, started, arrived
    assert await db.fetchval("SELECT count(*) FROM station_events WHERE vin = $1", vin) == 1


async def test_two_terminals_scanning_the_same_truck(plant: Plant, terminal_for: Any, db: asyncpg.Connection) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    vin = await plant.build_order(line, await plant.kit(line))
    at = now() - timedelta(minutes=1)
    first, second = terminal_for(s1), terminal_for(s1)
    answers = await asyncio.gather(first.post(s1, "arrived", at, vin=vin), second.post(s1, "arrived", at, vin=vin))
    assert sorted(r.status_code for r in answers) == [201, 409]
    refused = next(r for r in answers if r.status_code == 409)
    assert refused.json()["rule"] == "route.already-arrived"
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1 AND event_type LIKE '%arrived%'", vin) == 1


async def test_two_build_orders_for_one_kit(plant: Plant, db: asyncpg.Connection) -> None:
    line = await plant.line(stations=1)
    kit = await plant.kit(line)
    vins = [new_vin() for _ in range(4)]
    answers = await asyncio.gather(
        *(
            plant.supervisor.post(
                "/build-orders", {"vin": vin, "model": line.model, "line_id": line.line_id, "kit_serial": kit}
            )
            for vin in vins
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]
    assert {r.json().get("rule") for r in answers if r.status_code == 409} <= {"kit.consumed", None}
    assert await db.fetchval("SELECT count(*) FROM vehicles WHERE kit_serial = $1", kit) == 1


async def signed_in(plant: Plant, terminal_for: Any, trucks: int = 1) -> tuple[Any, str, list[str], Any]:
    """A station with an operator, and trucks in work there: (line, badge, VINs, terminal)."""
    line = await plant.line(stations=1)
    [s1] = line.stations
    badge = (await plant.operator(line)).badge
    terminal = terminal_for(s1)
    vins = []
    for _ in range(trucks):
        vin = await plant.build_order(line, await plant.kit(line))
        at = now() - timedelta(minutes=30)
        assert (await terminal.post(s1, "arrived", at, vin=vin)).status_code == 201
        r = await terminal.post(s1, "work_started", at, vin=vin, operator_badge=badge)
        assert r.status_code == 201, r.text
        vins.append(vin)
    return line, badge, vins, terminal


def check(badge: str, value: float = 120.0) -> dict[str, Any]:
    return {
        "characteristic": "torque-M12",
        "value": value,
        "nominal": 120.0,
        "tolerance": 5.0,
        "unit": "Nm",
        "operator_badge": badge,
    }


async def test_a_resent_check_racing_its_first_send_is_answered_once(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line, badge, [vin], terminal = await signed_in(plant, terminal_for)
    [s1] = line.stations
    at = now() - timedelta(minutes=20)
    # A first check, so the truck and the badge are known to the service when the race starts.
    assert (await terminal.post(s1, "check_recorded", at, vin=vin, **check(badge))).status_code == 201
    event = terminal.event("check_recorded", at, vin=vin, **check(badge, 121.5))
    answers = await asyncio.gather(*(terminal.send(s1, event) for _ in range(8)))
    assert {r.status_code for r in answers} == {201}
    fresh = [r for r in answers if "idempotent-replayed" not in r.headers]
    assert len(fresh) == 1
    assert all(r.json() == fresh[0].json() for r in answers)
    checks = "SELECT count(*) FROM outbox WHERE key = $1 AND event_type = 'mes.vehicle.check-recorded.v1'"
    assert await db.fetchval(checks, vin) == 2
    assert await db.fetchval("SELECT count(*) FROM station_events WHERE vin = $1", vin) == 4


async def test_terminals_signing_off_on_one_truck_at_once_are_all_recorded(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line, badge, [vin], first = await signed_in(plant, terminal_for)
    [s1] = line.stations
    at = now() - timedelta(minutes=20)
    terminals = [first, terminal_for(s1), terminal_for(s1), terminal_for(s1)]
    answers = await asyncio.gather(
        *(t.post(s1, "check_recorded", at, vin=vin, **check(badge, 120 + n / 10)) for n in range(5) for t in terminals)
    )
    assert [r.status_code for r in answers] == [201] * 20, [r.text for r in answers if r.status_code != 201]
    checks = "SELECT count(*) FROM outbox WHERE key = $1 AND event_type = 'mes.vehicle.check-recorded.v1'"
    assert await db.fetchval(checks, vin) == 20
    assert await db.fetchval("SELECT count(*) FROM station_events WHERE vin = $1", vin) == 22
    # A failed check among them opens one defect; concurrent ones each open their own.
    failed = await asyncio.gather(
        *(t.post(s1, "check_recorded", at, vin=vin, **check(badge, 130.0)) for t in terminals)
    )
    assert sorted(r.json()["defect_id"] for r in failed) == [f"{vin}-D{n}" for n in range(1, 5)]
    truck = await db.fetchrow(
        "SELECT open_defects, jsonb_array_length(defects) AS defects FROM vehicles WHERE vin = $1", vin
    )
    assert (truck["open_defects"], truck["defects"]) == (4, 4)


async def test_one_serial_fitted_to_two_trucks_at_once(plant: Plant, terminal_for: Any, db: asyncpg.Connection) -> None:
    line, badge, vins, terminal = await signed_in(plant, terminal_for, trucks=2)
    [s1] = line.stations
    at = now() - timedelta(minutes=20)
    for n, vin in enumerate(vins):  # each truck and the badge known to the service
        fit = {"part_number": "TRB-1", "serial": unique(f"T{n}"), "operator_badge": badge}
        assert (await terminal.post(s1, "component_fitted", at, vin=vin, **fit)).status_code == 201
    serial = unique("TURBO")
    fit = {"part_number": "TRB-1", "serial": serial, "operator_badge": badge}
    answers = await asyncio.gather(*(terminal.post(s1, "component_fitted", at, vin=vin, **fit) for vin in vins))
    assert sorted(r.status_code for r in answers) == [201, 409]
    owner = await db.fetchval("SELECT vin FROM components WHERE part_number = 'TRB-1' AND serial = $1", serial)
    refused = next(r for r in answers if r.status_code == 409).json()
    assert (refused["rule"], refused["vin"]) == ("component.serial-already-fitted", owner)
    assert await db.fetchval("SELECT count(*) FROM station_events WHERE payload->>'serial' = $1", serial) == 1


async def test_a_back_dated_route_racing_truck_starts_governs_them_or_is_refused(
    plant: Plant, terminal_for: Any
) -> None:
    """A version dated before trucks started would govern them: it is either published before they start
    (they follow it) or refused because they started (they keep theirs), never accepted behind their backs."""
    for _ in range(3):
        line = await plant.line(stations=2, route_from=now() - timedelta(hours=1))
        s1, s2 = line.stations
        vins = [await plant.build_order(line, await plant.kit(line)) for _ in range(4)]
        terminal, started = terminal_for(s1), now() - timedelta(minutes=1)
        v2 = {
            "model": line.model,
            "steps": [{"station_id": s2, "standard_seconds": 60}],
            "effective_from": (started - timedelta(minutes=1)).isoformat(),
        }
        *arrivals, published = await asyncio.gather(
            *(terminal.post(s1, "arrived", started, vin=vin) for vin in vins),
            plant.supervisor.post(f"/lines/{line.line_id}/routes", v2),
        )
        versions = {(await plant.supervisor.get(f"/vehicles/{vin}")).json()["route_version"] for vin in vins}
        if published.status_code == 201:  # published first: the trucks arriving at s1 were refused (v2 skips s1)
            assert all(r.status_code == 409 for r in arrivals), [r.text for r in arrivals]
            assert all(r.json()["rule"] == "route.not-started" for r in arrivals)
        else:
            assert published.json()["rule"] == "route.effective-before-started-truck", published.text
            assert all(r.status_code == 201 for r in arrivals) and versions == {1}
