"""The hot path remembers the trucks it wrote, the employee behind each badge and what each kit's BOM holds,
and writes an event in one statement when all of that still holds. Whatever changed in between (a supervisor's
send-back, a clock-out, a revocation, a hold released by kit-receiving's consumer) is seen, and the event is
judged exactly as if nothing had been remembered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from mes_shared.events import people as p
from mes_shared.testing import eventually

from .conftest import Clock, Plant, assert_problem, now, unique

pytestmark = pytest.mark.integration


def check(badge: str, value: float = 120.0) -> dict[str, Any]:
    return {"characteristic": "torque-M12", "value": value, "nominal": 120.0, "tolerance": 5.0, "operator_badge": badge}


async def test_a_truck_sent_back_is_judged_where_it_is_now(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=2)
    s1, s2 = line.stations
    crew = await plant.crew(line)
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(s1, s2), Clock()
    for station, kind in ((s1, "arrived"), (s1, "work_started"), (s1, "work_completed"), (s2, "arrived")):
        badge = {"operator_badge": crew[station]} if kind.startswith("work") else {}
        assert (await terminal.post(station, kind, clock.tick(), vin=vin, **badge)).status_code == 201
    assert (await terminal.post(s2, "work_started", clock.tick(), vin=vin, operator_badge=crew[s2])).status_code == 201
    r = await terminal.post(s2, "check_recorded", clock.tick(), vin=vin, **check(crew[s2]))
    assert r.status_code == 201 and r.json()["vehicle"]["step_status"] == "in_progress"

    r = await plant.supervisor.post(f"/vehicles/{vin}/send-back", {"to_station": s1, "reason": "cab mount loose"})
    assert r.status_code == 200, r.text
    clock.catch_up()
    assert_problem(
        await terminal.post(s2, "check_recorded", clock.tick(), vin=vin, **check(crew[s2])),
        409,
        "route.station-skipped",
        s1,
    )
    assert (await terminal.post(s1, "arrived", clock.tick(), vin=vin)).status_code == 201
    assert (await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=crew[s1])).status_code == 201
    r = await terminal.post(s1, "check_recorded", clock.tick(), vin=vin, **check(crew[s1]))
    assert r.status_code == 201, r.text
    assert r.json()["vehicle"] == {
        "status": "in_progress",
        "current_station": s1,
        "step_status": "in_progress",
        "open_defects": 0,
        "held_at": None,
    }


async def test_a_hold_released_by_kit_receivings_news_is_seen(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    op = await plant.operator(line)
    kit = await plant.kit(line, short_at={s1: "AXL-200"})
    vin = await plant.build_order(line, kit)
    terminal, clock = terminal_for(s1), Clock()
    assert (await terminal.post(s1, "arrived", clock.tick(), vin=vin)).json()["vehicle"]["held_at"] == s1
    # A defect noted while it waits: the service now knows the truck as held.
    defect = {"code": "SCRATCH", "severity": "minor", "caused_at_station": s1}
    assert (await terminal.post(s1, "defect_found", clock.tick(), vin=vin, **defect)).status_code == 201
    await plant.part_arrived(kit, s1, "AXL-200")

    async def released() -> bool:
        return (await plant.supervisor.get(f"/vehicles/{vin}")).json()["held_at"] is None

    await eventually(released, what="the hold released by the replacement part")
    r = await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=op.badge)
    assert r.status_code == 201, r.text
    assert r.json()["vehicle"]["held_at"] is None


async def test_a_badge_that_signed_off_a_moment_ago_is_judged_again_each_time(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    op = await plant.operator(line)
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(s1), Clock()
    assert (await terminal.post(s1, "arrived", clock.tick(), vin=vin)).status_code == 201
    assert (await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=op.badge)).status_code == 201
    r = await terminal.post(s1, "check_recorded", clock.tick(), vin=vin, **check(op.badge))
    assert r.status_code == 201 and r.json()["operator_id"] == op.employee_id

    # Revoked a little later: events before that still sign off, events after do not.
    revoked_at = clock.t + timedelta(minutes=5)
    await plant.publish(
        p.QualificationRevoked(
            employee_id=op.employee_id, station=s1, level="qualified", revoked_at=revoked_at, reason="audit"
        ),
        op.employee_id,
    )

    async def revoked() -> bool:
        reason = "SELECT end_reason FROM qualifications WHERE employee_id = $1"
        return await db.fetchval(reason, op.employee_id) == "revoked"

    await eventually(revoked, what="the revocation in the read model")
    r = await terminal.post(s1, "check_recorded", clock.tick(), vin=vin, **check(op.badge))
    assert r.status_code == 201 and r.json()["operator_id"] == op.employee_id
    assert_problem(
        await terminal.post(s1, "check_recorded", revoked_at + timedelta(minutes=1), vin=vin, **check(op.badge)),
        409,
        "operator.not-qualified",
        "revoked",
    )

    # Someone else qualified, signing off a few times, then clocked out: the next one is refused.
    other = await plant.operator(line)
    for _ in range(3):
        r = await terminal.post(s1, "check_recorded", clock.tick(), vin=vin, **check(other.badge))
        assert r.status_code == 201 and r.json()["operator_id"] == other.employee_id
    await plant.clock_out(line, other, s1, at=clock.tick())
    assert_problem(
        await terminal.post(s1, "check_recorded", clock.tick(), vin=vin, **check(other.badge)),
        409,
        "operator.not-clocked-in",
    )
    assert await db.fetchval("SELECT count(*) FROM station_events WHERE vin = $1", vin) == 7


async def test_a_fitted_part_is_from_the_kit_when_its_bom_has_it(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    op = await plant.operator(line)
    vin = await plant.build_order(line, await plant.kit(line, parts=("ECU-1",)))
    terminal, clock = terminal_for(s1), Clock()
    assert (await terminal.post(s1, "arrived", clock.tick(), vin=vin)).status_code == 201
    assert (await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=op.badge)).status_code == 201
    for part in ("ECU-1", "ECU-1", "BOLT-9", "BOLT-9", "ECU-1"):
        fit = {"part_number": part, "serial": unique("SN"), "operator_badge": op.badge}
        assert (await terminal.post(s1, "component_fitted", clock.tick(), vin=vin, **fit)).status_code == 201
    sources = await db.fetch("SELECT part_number, source FROM components WHERE vin = $1 ORDER BY fitted_at", vin)
    assert [(r["part_number"], r["source"]) for r in sources] == [
        ("ECU-1", "kit"),
        ("ECU-1", "kit"),
        ("BOLT-9", "local"),
        ("BOLT-9", "local"),
        ("ECU-1", "kit"),
    ]
    assert now() > clock.t
