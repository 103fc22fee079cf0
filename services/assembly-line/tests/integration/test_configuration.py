"""Lines, models and versioned routes through HTTP, with their events on `mes.stations`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mes_shared.testing import KafkaTap
from mes_shared.topics import STATIONS, VEHICLES

from .conftest import Clock, Plant, assert_problem, now, run_through, unique

pytestmark = pytest.mark.integration


def stations(*ids: str) -> list[dict[str, str]]:
    return [{"station_id": s, "name": f"Station {s}"} for s in ids]


async def test_a_line_is_configured_and_revised_only_when_it_changes(plant: Plant, tap: KafkaTap) -> None:
    line_id = unique("L")
    a, b, c = (f"{line_id}-{n}" for n in ("A", "B", "C"))
    r = await plant.supervisor.put(f"/lines/{line_id}", {"name": "Main", "stations": stations(a, b)})
    assert r.status_code == 201, r.text
    assert r.json()["revision"] == 1 and [s["position"] for s in r.json()["stations"]] == [1, 2]
    r = await plant.supervisor.put(f"/lines/{line_id}", {"name": "Main", "stations": stations(a, b)})
    assert r.status_code == 200 and r.json()["revision"] == 1
    r = await plant.supervisor.put(f"/lines/{line_id}", {"name": "Main", "stations": stations(a, c, b)})
    assert r.status_code == 200 and r.json()["revision"] == 2
    assert [s["station_id"] for s in (await plant.supervisor.get(f"/lines/{line_id}")).json()["stations"]] == [a, c, b]

    [first, second] = await tap.wait_for(line_id, 2, topic=STATIONS.name)
    assert first.type == second.type == "mes.line.configured.v1"
    assert [(s.station_id, s.position) for s in second.payload().stations] == [(a, 1), (c, 2), (b, 3)]
    assert first.subject == line_id

    other = unique("L")
    r = await plant.supervisor.put(f"/lines/{other}", {"name": "Second", "stations": stations(b)})
    assert_problem(r, 409, "line.station-on-other-line", b, line_id)
    r = await plant.supervisor.put(f"/lines/{other}", {"name": "Second", "stations": stations("X", "X")})
    assert_problem(r, 422, "line.station-duplicate")
    assert (await plant.supervisor.get(f"/lines/{other}")).status_code == 404


async def test_routes_are_versioned_and_a_truck_keeps_the_one_it_started_with(
    plant: Plant, terminal_for: Any, tap: KafkaTap
) -> None:
    line = await plant.line(stations=3)
    s1, s2, s3 = line.stations
    routes = f"/lines/{line.line_id}/routes"
    v1 = (await plant.supervisor.get(f"{routes}/{line.model}")).json()
    assert v1["version"] == 1 and v1["versions"] == [1]
    same = [{"station_id": s["station_id"], "standard_seconds": s["standard_seconds"]} for s in v1["steps"]]
    r = await plant.supervisor.post(routes, {"model": line.model, "steps": same})
    assert r.status_code == 200 and r.json()["version"] == 1

    crew = await plant.crew(line)
    early = await plant.build_order(line, await plant.kit(line))
    late = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(*line.stations), Clock()
    r = await terminal.post(s1, "arrived", clock.tick(), vin=early)
    assert r.status_code == 201

    r = await plant.supervisor.post(
        routes,
        {
            "model": line.model,
            "steps": [{"station_id": s1, "standard_seconds": 500}, {"station_id": s3, "standard_seconds": 700}],
        },
    )
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["versions"] == [1, 2]
    assert (await plant.supervisor.get(f"{routes}/{line.model}", version=1)).json()["steps"] == v1["steps"]

    for kind in ("work_started", "work_completed"):
        assert (await terminal.post(s1, kind, clock.tick(), vin=early, operator_badge=crew[s1])).status_code == 201
    await run_through(terminal, early, [s2, s3], crew, clock)  # the station v2 skips: it follows v1
    assert (await plant.supervisor.get(f"/vehicles/{early}")).json()["route_version"] == 1

    await run_through(terminal, late, [s1], crew, clock)  # started after v2 was published: follows v2
    assert_problem(await terminal.post(s2, "arrived", clock.tick(), vin=late), 409, "route.station-not-on-route")
    await run_through(terminal, late, [s3], crew, clock)
    view = (await plant.supervisor.get(f"/vehicles/{late}")).json()
    assert (view["route_version"], view["status"]) == (2, "completed")
    assert [s["standard_seconds"] for s in view["steps"]] == [500, 700]

    published = await tap.wait_for(line.line_id, 3, topic=STATIONS.name)  # line, route v1, route v2
    route_events = [e.payload() for e in published if e.type == "mes.route.published.v1"]
    assert [(e.model, e.version) for e in route_events][-1] == (line.model, 2)
    started = [
        e.payload() for e in await tap.wait_for(late, 2, topic=VEHICLES.name) if e.type.endswith("build-started.v1")
    ]
    assert started[0].route_version == 2
    # A line change that would break the current route is refused.
    r = await plant.supervisor.put(
        f"/lines/{line.line_id}",
        {
            "name": "x",
            "stations": [
                {"station_id": s3, "name": "a"},
                {"station_id": s1, "name": "b"},
                {"station_id": s2, "name": "c"},
            ],
        },
    )
    assert_problem(r, 409, "line.route-broken", line.model)


async def test_route_rules_and_a_station_trucks_need(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=2)
    s1, s2 = line.stations
    routes = f"/lines/{line.line_id}/routes"
    assert_problem(
        await plant.supervisor.post(
            routes, {"model": unique("NEW"), "steps": [{"station_id": s1, "standard_seconds": 60}]}
        ),
        409,
        "route.model-unknown",
    )
    reversed_steps = [{"station_id": s2, "standard_seconds": 60}, {"station_id": s1, "standard_seconds": 60}]
    assert_problem(
        await plant.supervisor.post(routes, {"model": line.model, "steps": reversed_steps}),
        409,
        "route.invalid-stations",
    )
    assert_problem(
        await plant.supervisor.post(f"/lines/{unique('L')}/routes", {"model": line.model, "steps": reversed_steps}),
        404,
        "line.not-found",
    )
    r = await plant.supervisor.post(routes, {"model": line.model, "steps": [{"station_id": s1, "standard_seconds": 0}]})
    assert_problem(r, 422)

    vin = await plant.build_order(line, await plant.kit(line))
    assert (await terminal_for(s1).post(s1, "arrived", now() - timedelta(minutes=1), vin=vin)).status_code == 201
    # Route v2 without s2; then the line without s2 would strand the truck that still has to visit it.
    await plant.supervisor.post(routes, {"model": line.model, "steps": [{"station_id": s1, "standard_seconds": 60}]})
    r = await plant.supervisor.put(
        f"/lines/{line.line_id}", {"name": "x", "stations": [{"station_id": s1, "name": "a"}]}
    )
    assert_problem(r, 409, "line.station-in-use", s2)


async def test_an_explicit_start_enters_the_line(plant: Plant, terminal_for: Any, tap: KafkaTap) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    kit = await plant.kit(line)
    vin = await plant.build_order(line, kit)
    r = await plant.supervisor.post(f"/build-orders/{vin}/start")
    assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
    assert_problem(await plant.supervisor.post(f"/build-orders/{vin}/start"), 409, "build-order.not-planned")
    assert_problem(
        await plant.supervisor.post(f"/build-orders/{vin}/cancel", {"reason": "x"}), 409, "build-order.not-planned"
    )
    r = await terminal_for(s1).post(s1, "arrived", now(), vin=vin)
    assert r.status_code == 201 and r.json()["published"] == ["mes.vehicle.arrived.v1"]
    wip = (await plant.supervisor.get("/wip", line_id=line.line_id)).json()
    assert wip["stations"][0]["trucks"][0]["state"] == "arrived"
    created, started, arrived = await tap.wait_for(vin, 3, topic=VEHICLES.name)
    assert created.payload().kit_serial == kit and started.payload().station == s1
    assert arrived.type == "mes.vehicle.arrived.v1" and arrived.time > started.time
    orders = (await plant.supervisor.get("/build-orders", line_id=line.line_id, status="in_progress")).json()
    assert [o["vin"] for o in orders["items"]] == [vin] and orders["total"] == 1
