"""A terminal that was offline sends its backlog of a few hundred events in its own order; sent again, it
changes nothing. Each event is judged on its own, as of its own time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from .conftest import Plant, Terminal, new_vin, now

pytestmark = pytest.mark.integration

TRUCKS = 55


async def snapshot(db: asyncpg.Connection, vins: list[str], terminal: str, station: str) -> dict[str, Any]:
    """Every row the backlog can have written."""
    return {
        "vehicles": [
            dict(r)
            for r in await db.fetch(
                "SELECT vin, status, route_version, steps, defects, open_defects, held_at, current_station, "
                "last_event, started_at, completed_at FROM vehicles WHERE vin = ANY($1) ORDER BY vin",
                vins,
            )
        ],
        "log": [
            dict(r)
            for r in await db.fetch(
                "SELECT terminal_event_id, type, vin, occurred_at, operator_id, status_code, response "
                "FROM station_events WHERE terminal = $1 ORDER BY terminal_event_id",
                terminal,
            )
        ],
        "outbox": [
            dict(r)
            for r in await db.fetch(
                "SELECT event_id, event_type, key FROM outbox WHERE key = ANY($1) OR key = $2 ORDER BY id",
                vins,
                station,
            )
        ],
        "components": await db.fetchval("SELECT count(*) FROM components WHERE vin = ANY($1)", vins),
        "andons": [
            dict(r) for r in await db.fetch("SELECT * FROM andons WHERE station = $1 ORDER BY andon_id", station)
        ],
        "history": await db.fetchval("SELECT count(*) FROM vehicle_history WHERE vin = ANY($1)", vins),
    }


def backlog(terminal: Terminal, vins: list[str], station: str, badge: str, start: datetime) -> list[dict[str, Any]]:
    """What a terminal at the line's first station recorded while its network was down, in its order."""
    events: list[dict[str, Any]] = []
    t = start

    def add(kind: str, **fields: Any) -> None:
        nonlocal t
        t += timedelta(seconds=7)
        events.append(terminal.event(kind, t, event_id=f"bk-{len(events):04d}", **fields))

    for i, vin in enumerate(vins):
        add("arrived", vin=vin)
        add("work_started", vin=vin, operator_badge=badge)
        add("component_fitted", vin=vin, part_number="ECU-1", serial=f"ECU-{vin}", operator_badge=badge)
        failing = i % 9 == 4
        add(
            "check_recorded",
            vin=vin,
            characteristic="TQ-CAB",
            value=150.0 if failing else 181.0,
            nominal=180.0,
            tolerance=6.0,
            unit="Nm",
            operator_badge=badge,
        )
        if failing:
            add("defect_repaired", vin=vin, defect_id=f"{vin}-D1", note="re-torqued", operator_badge=badge)
        if i % 10 == 3:
            add("andon_raised", reason="material shortage", stops_line=True, operator_badge=badge)
            add("andon_cleared", operator_badge=badge)
        add("work_completed", vin=vin, operator_badge=badge)
    return events


async def test_a_backlog_replayed_twice_gives_the_same_state_as_once(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=2)
    s1 = line.stations[0]
    operator = await plant.operator(line, [s1], clocked_in_at=now() - timedelta(hours=3))
    kits = await asyncio.gather(*(plant.kit(line) for _ in range(TRUCKS)))
    vins = [await plant.build_order(line, kit, new_vin()) for kit in kits]
    terminal = terminal_for(s1)
    events = backlog(terminal, vins, s1, operator.badge, now() - timedelta(hours=2))
    # The terminal resent one event inside its own backlog, and one event is older than what its truck did.
    events.insert(12, dict(events[9]))
    stale = terminal.event("arrived", now() - timedelta(hours=2, minutes=30), event_id="bk-stale", vin=vins[0])
    events.insert(30, stale)
    assert len(events) > 250

    r = await terminal.batch(s1, events)
    assert r.status_code == 200, r.text
    first = r.json()
    refused = [res for res in first["results"] if res["outcome"] == "refused"]
    assert [(res["index"], res["problem"]["rule"]) for res in refused] == [(30, "station-event.out-of-order")]
    assert refused[0]["problem"]["last_event"]["type"] == "work_completed"
    assert (first["accepted"], first["replayed"], first["refused"]) == (len(events) - 2, 1, 1)
    assert [res["index"] for res in first["results"]] == list(range(len(events)))
    assert first["results"][12]["result"] == first["results"][9]["result"]
    once = await snapshot(db, vins, terminal.subject, s1)
    assert {v["status"] for v in once["vehicles"]} == {"in_progress"}
    assert all(v["current_station"] == s1 and v["open_defects"] == 0 for v in once["vehicles"])
    assert once["components"] == TRUCKS and len(once["andons"]) == 6
    assert all(a["cleared_at"] is not None for a in once["andons"])

    r = await terminal.batch(s1, events)
    assert r.status_code == 200, r.text
    second = r.json()
    assert (second["accepted"], second["replayed"], second["refused"]) == (0, len(events) - 1, 1)
    for a, b in zip(first["results"], second["results"], strict=True):
        assert a["result"] == b["result"] and a["status"] == b["status"]
    assert await snapshot(db, vins, terminal.subject, s1) == once

    # The same events one by one are answered from the log too.
    for event in events[:5]:
        r = await terminal.send(s1, event)
        assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true"
    assert await snapshot(db, vins, terminal.subject, s1) == once

    # The trucks go on from where the backlog left them.
    second_station = line.stations[1]
    crew = await plant.operator(line, [second_station])
    follow = terminal_for(second_station)
    r = await follow.post(second_station, "arrived", now(), vin=vins[0])
    assert r.status_code == 201, r.text
    r = await follow.post(second_station, "work_started", now(), vin=vins[0], operator_badge=crew.badge)
    assert r.status_code == 201, r.text


async def test_each_event_of_a_backlog_stands_on_its_own(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    operator = await plant.operator(line, [s1])
    vin = await plant.build_order(line, await plant.kit(line))
    terminal = terminal_for(s1)
    t = now() - timedelta(minutes=30)
    events = [
        terminal.event("work_started", t, vin=vin, operator_badge=operator.badge),  # not on the line yet: refused
        terminal.event("arrived", t + timedelta(minutes=1), vin=vin),
        {"type": "work_started", "vin": vin},  # malformed: its own 422
        terminal.event("work_started", t + timedelta(minutes=2), vin=vin, operator_badge="NOBODY"),
        terminal.event("work_started", t + timedelta(minutes=3), vin=vin, operator_badge=operator.badge),
        terminal.event(
            "defect_found", t + timedelta(minutes=4), vin=vin, code="DENT", severity="major", caused_at_station=s1
        ),
        terminal.event("work_completed", t + timedelta(minutes=5), vin=vin, operator_badge=operator.badge),
        terminal.event(
            "defect_repaired", t + timedelta(minutes=6), vin=vin, defect_id=f"{vin}-D1", operator_badge=operator.badge
        ),
        terminal.event("work_completed", t + timedelta(minutes=7), vin=vin, operator_badge=operator.badge),
    ]
    r = await terminal.batch(s1, events)
    assert r.status_code == 200, r.text
    outcome = [(res["status"], res["problem"].get("rule") if res["problem"] else None) for res in r.json()["results"]]
    assert outcome == [
        (409, "route.not-started"),
        (201, None),
        (422, None),
        (409, "operator.not-clocked-in"),
        (201, None),
        (201, None),
        (409, "quality-gate.open-defects"),
        (201, None),
        (201, None),
    ]
    malformed = r.json()["results"][2]["problem"]
    assert malformed["type"] == "/problems/invalid-request"
    assert {e["field"] for e in malformed["errors"]} >= {"work_started.terminal_event_id", "work_started.occurred_at"}
    assert r.json()["results"][2]["terminal_event_id"] is None
    view = (await plant.supervisor.get(f"/vehicles/{vin}")).json()
    assert view["status"] == "completed" and view["first_pass"] is False
