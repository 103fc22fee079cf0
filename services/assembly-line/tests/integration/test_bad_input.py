"""Bad input is a 4xx `application/problem+json` that says what was wrong, and writes nothing.

"Nothing" is checked in the database: the truck's row, the terminals' log, the outbox and the
idempotency keys are exactly what they were.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from mes_shared.auth import Role

from .conftest import Api, LineSetup, Plant, Terminal, assert_problem, new_vin, now, token, unique

pytestmark = pytest.mark.integration


class Frozen:
    """Proves a request wrote nothing: compares every row it could have touched before and after."""

    def __init__(self, db: asyncpg.Connection, vin: str) -> None:
        self.db, self.vin = db, vin

    async def state(self) -> dict[str, Any]:
        q = self.db.fetch
        return {
            "vehicle": [dict(r) for r in await q("SELECT * FROM vehicles WHERE vin = $1", self.vin)],
            "log": await self.db.fetchval("SELECT count(*) FROM station_events"),
            "outbox": await self.db.fetchval("SELECT coalesce(max(id), 0) FROM outbox"),
            "keys": await self.db.fetchval("SELECT count(*) FROM idempotency_keys"),
            "andons": await self.db.fetchval("SELECT count(*) FROM andons"),
            "history": await self.db.fetchval("SELECT count(*) FROM vehicle_history"),
        }


@pytest.fixture
async def scene(plant: Plant, db: asyncpg.Connection) -> AsyncIterator[tuple[LineSetup, str, str, Frozen]]:
    """A line, a truck arrived at its first station, an operator there."""
    line = await plant.line(stations=2)
    operator = await plant.operator(line, [line.stations[0]])
    vin = await plant.build_order(line, await plant.kit(line))
    terminal = Terminal(plant.client, line.stations[0])
    r = await terminal.post(line.stations[0], "arrived", now() - timedelta(minutes=10), vin=vin)
    assert r.status_code == 201, r.text
    yield line, vin, operator.badge, Frozen(db, vin)


def errors_of(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


# ---- station events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vin": "1HTMKADN43H56129"}, "vin"),  # 16 characters
        ({"vin": "1HTMKADN43H5612IO"}, "vin"),  # I and O
        ({"vin": "1htmkadn43h561298"}, "vin"),
        ({"occurred_at": "2026-03-02T06:00:00"}, "occurred_at"),  # no offset
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"terminal_event_id": ""}, "terminal_event_id"),
        ({"terminal_event_id": "has space"}, "terminal_event_id"),
        ({"operator_badge": None}, "operator_badge"),
        ({"shift": "A"}, "shift"),  # no such field
    ],
)
async def test_a_malformed_station_event_is_refused_naming_the_field(
    client: httpx.AsyncClient, scene: tuple[LineSetup, str, str, Frozen], change: dict[str, Any], field: str
) -> None:
    line, vin, badge, frozen = scene
    terminal = Terminal(client, line.stations[0])
    before = await frozen.state()
    body = terminal.event("work_started", now(), vin=vin, operator_badge=badge) | change
    problem = assert_problem(await terminal.send(line.stations[0], body), 422)
    assert problem["type"] == "/problems/invalid-request"
    assert any(f.endswith(field) for f in errors_of(problem)), problem
    assert await frozen.state() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "arrived"},
        {"type": "teleported", "terminal_event_id": "x1", "occurred_at": "2026-03-02T06:00:00Z"},
        {
            "type": "work_started",
            "terminal_event_id": "x2",
            "occurred_at": "2026-03-02T06:00:00Z",
            "vin": "1HTMKADN43H561298",
        },
        {"type": "check_recorded", "terminal_event_id": "x3", "occurred_at": "2026-03-02T06:00:00Z"},
    ],
)
async def test_missing_fields_and_unknown_types_are_422(
    client: httpx.AsyncClient, scene: tuple[LineSetup, str, str, Frozen], body: dict[str, Any]
) -> None:
    line, _, _, frozen = scene
    before = await frozen.state()
    assert_problem(await Terminal(client, line.stations[0]).send(line.stations[0], body), 422)
    assert await frozen.state() == before


async def test_not_a_number_and_malformed_json_are_refused(
    client: httpx.AsyncClient, scene: tuple[LineSetup, str, str, Frozen]
) -> None:
    line, vin, badge, frozen = scene
    terminal = Terminal(client, line.stations[0])
    before = await frozen.state()
    for value in ("NaN", "Infinity"):
        raw = json.dumps(
            terminal.event(
                "check_recorded",
                now(),
                vin=vin,
                characteristic="TQ",
                value=0,
                nominal=80,
                tolerance=5,
                operator_badge=badge,
            )
        ).replace('"value": 0', f'"value": {value}')
        r = await client.post(
            f"/stations/{line.stations[0]}/events",
            content=raw.encode(),
            headers=terminal.headers | {"content-type": "application/json"},
        )
        assert "check_recorded.value" in errors_of(assert_problem(r, 422))
    r = await client.post(
        f"/stations/{line.stations[0]}/events",
        content=b'{"type": "arrived", ',
        headers=terminal.headers | {"content-type": "application/json"},
    )
    assert assert_problem(r, 400)["type"] == "/problems/malformed-json"
    assert await frozen.state() == before


@pytest.mark.parametrize(
    ("offset", "rule"),
    [
        (timedelta(minutes=6), "station-event.in-future"),
        (timedelta(days=1), "station-event.in-future"),
        (timedelta(days=-40), "station-event.too-old"),
    ],
)
async def test_times_far_from_the_servers_clock_are_refused(
    client: httpx.AsyncClient, scene: tuple[LineSetup, str, str, Frozen], offset: timedelta, rule: str
) -> None:
    line, vin, badge, frozen = scene
    before = await frozen.state()
    terminal = Terminal(client, line.stations[0])
    r = await terminal.post(line.stations[0], "work_started", now() + offset, vin=vin, operator_badge=badge)
    body = assert_problem(r, 422, rule)
    assert "server_time" in body
    assert await frozen.state() == before
    # A few minutes of skew is normal.
    r = await terminal.post(
        line.stations[0], "work_started", now() + timedelta(minutes=2), vin=vin, operator_badge=badge
    )
    assert r.status_code == 201, r.text


async def test_unknown_station_vin_and_another_stations_terminal(
    client: httpx.AsyncClient, scene: tuple[LineSetup, str, str, Frozen]
) -> None:
    line, vin, badge, frozen = scene
    before = await frozen.state()
    nowhere = unique("ST-NOWHERE")
    r = await Terminal(client, nowhere).post(nowhere, "arrived", vin=vin)
    assert_problem(r, 404, "station.not-found", nowhere)
    r = await Terminal(client, line.stations[0]).post(line.stations[0], "arrived", vin=new_vin())
    assert_problem(r, 409, "vehicle.no-build-order")
    # A terminal of the second station posting for the first: refused before its body is even read.
    other = Terminal(client, line.stations[1])
    r = await other.post(line.stations[0], "work_started", vin=vin, operator_badge=badge)
    body = assert_problem(r, 403)
    assert body["type"] == "/problems/station-not-allowed" and line.stations[0] in body["detail"]
    r = await other.send(line.stations[0], {"garbage": True})
    assert r.status_code == 403
    r = await other.batch(line.stations[0], [{"garbage": True}])
    assert r.status_code == 403
    # The terminal's own station, but the truck is at the other one.
    r = await other.post(line.stations[1], "arrived", vin=vin)
    assert_problem(r, 409, "route.station-skipped")
    assert await frozen.state() == before


async def test_a_bad_batch_is_refused_whole_and_a_bad_item_alone(
    client: httpx.AsyncClient, scene: tuple[LineSetup, str, str, Frozen]
) -> None:
    line, vin, badge, frozen = scene
    terminal = Terminal(client, line.stations[0])
    before = await frozen.state()
    for body in ({}, {"events": []}, {"events": "all of them"}):
        r = await client.post(f"/stations/{line.stations[0]}/events:batch", json=body, headers=terminal.headers)
        assert_problem(r, 422)
    # Items that are not events at all are refused one by one; the batch itself is answered.
    r = await client.post(
        f"/stations/{line.stations[0]}/events:batch", json={"events": [1, "x"]}, headers=terminal.headers
    )
    assert r.status_code == 200, r.text
    assert [(res["status"], res["problem"]["type"]) for res in r.json()["results"]] == [
        (422, "/problems/invalid-request"),
        (422, "/problems/invalid-request"),
    ]
    too_many = [{"type": "arrived"}] * 1001
    assert_problem(await terminal.batch(line.stations[0], too_many), 422, "station-event.batch-too-large")
    assert await frozen.state() == before
    r = await terminal.batch(
        line.stations[0],
        [
            {"type": "arrived", "vin": vin},
            terminal.event("work_started", now(), vin=vin, operator_badge=badge),
        ],
    )
    assert [res["status"] for res in r.json()["results"]] == [422, 201]


# ---- supervisor writes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vin": "1HTMKADN43H5612Q8"}, "vin"),
        ({"vin": "SHORT"}, "vin"),
        ({"vin": None}, "vin"),
        ({"kit_serial": ""}, "kit_serial"),
        ({"model": "bad model"}, "model"),
        ({"priority": 1}, "priority"),
    ],
)
async def test_a_malformed_build_order_is_refused_naming_the_field(
    plant: Plant, db: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    body = {"vin": new_vin(), "model": "HTX", "line_id": "L1", "kit_serial": "KIT-1"} | change
    keys = await db.fetchval("SELECT count(*) FROM idempotency_keys")
    problem = assert_problem(await plant.supervisor.post("/build-orders", body), 422)
    assert field in errors_of(problem)
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == keys


async def test_a_build_order_naming_what_does_not_exist(plant: Plant) -> None:
    line = await plant.line(stations=1)
    kit = await plant.kit(line)
    base = {"vin": new_vin(), "model": line.model, "line_id": line.line_id, "kit_serial": kit}
    for change, rule in (
        ({"line_id": unique("L")}, "build-order.line-unknown"),
        ({"model": unique("M")}, "build-order.model-unknown"),
        ({"variant": "8x8"}, "build-order.variant-unknown"),
    ):
        assert_problem(await plant.supervisor.post("/build-orders", base | change), 422, rule)
    assert (await plant.supervisor.get(f"/build-orders/{base['vin']}")).status_code == 404


async def test_paths_with_a_bad_vin_or_code(plant: Plant) -> None:
    for path in ("/vehicles/1HTMKADN43H56129O", "/build-orders/short", "/lines/bad%20line", "/kits/%2F"):
        r = await plant.supervisor.get(path)
        assert r.status_code in (404, 422), (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert_problem(await plant.supervisor.get(f"/vehicles/{new_vin()}"), 404)
    assert_problem(await plant.supervisor.get("/wip"), 422)
    assert_problem(await plant.supervisor.get("/wip", line_id=unique("L")), 404)


async def test_supervisor_writes_need_an_idempotency_key(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {token(Role.SUPERVISOR)}"}
    r = await client.put(f"/models/{unique('M')}", json={"name": "x"}, headers=headers)
    assert assert_problem(r, 400)["type"] == "/problems/idempotency-key-required"
    key = str(uuid.uuid4())
    model = unique("M")
    api = Api(client)
    assert (await api.put(f"/models/{model}", {"name": "Tractor"}, key=key)).status_code == 201
    again = await api.put(f"/models/{model}", {"name": "Tractor"}, key=key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    reused = await api.put(f"/models/{model}", {"name": "Tipper"}, key=key)
    assert assert_problem(reused, 422)["type"] == "/problems/idempotency-key-reused"


# ---- roles --------------------------------------------------------------------------------------


async def test_roles(client: httpx.AsyncClient, plant: Plant) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    assert_problem(await client.get("/build-orders"), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(await client.get("/build-orders", headers=bad), 401)
    for role in (Role.MANAGER, Role.PLANNER, Role.TERMINAL, Role.LOGISTICS):
        api = Api(client, role) if role is not Role.TERMINAL else None
        headers = (
            {"Authorization": f"Bearer {token(role, stations=[s1])}", "Idempotency-Key": str(uuid.uuid4())}
            if api is None
            else api.headers | {"Idempotency-Key": str(uuid.uuid4())}
        )
        r = await client.put(f"/lines/{line.line_id}", json={"name": "x", "stations": []}, headers=headers)
        assert_problem(r, 403)
        r = await client.post(f"/stations/{s1}/events", json={}, headers=headers)
        assert r.status_code == (422 if role is Role.TERMINAL else 403), (role, r.text)
    for role in (Role.MANAGER, Role.PLANNER, Role.SUPERVISOR):
        api = Api(client, role)
        for path, params in (
            ("/build-orders", {}),
            ("/wip", {"line_id": line.line_id}),
            ("/andons", {"open": "true"}),
            (f"/lines/{line.line_id}/routes", {}),
            (f"/stations/{s1}", {}),
        ):
            r = await api.get(path, **params)
            assert r.status_code == 200, (role, path, r.text)
    terminal_headers = {"Authorization": f"Bearer {token(Role.TERMINAL, stations=[s1])}"}
    assert (await client.get(f"/stations/{s1}", headers=terminal_headers)).status_code == 200
    assert_problem(await client.get("/wip", params={"line_id": line.line_id}, headers=terminal_headers), 403)
    other = line.stations[0] + "X"
    assert_problem(await client.get(f"/stations/{other}", headers=terminal_headers), 403)
