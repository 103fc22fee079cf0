"""Races the line really has: a terminal resending while its first send is in flight, two terminals
scanning the same truck, two supervisors binding the same kit. One wins, the others get a clear answer,
nothing is written twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from .conftest import Plant, new_vin, now

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
