"""Lines, models and versioned routes through HTTP, with their events on `mes.stations`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from mes_shared.testing import KafkaTap
from mes_shared.topics import STATIONS, VEHICLES

from .conftest import Clock, Plant, assert_problem, new_vin, now, run_through, unique

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
    line = await plant.line(stations=3, route_from=now() - timedelta(days=1))
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

    v2_from = clock.tick()  # entered now, in force since a minute after `early` started
    r = await plant.supervisor.post(
        routes,
        {
            "model": line.model,
            "steps": [{"station_id": s1, "standard_seconds": 500}, {"station_id": s3, "standard_seconds": 700}],
            "effective_from": v2_from.isoformat(),
        },
    )
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["versions"] == [1, 2]
    assert datetime.fromisoformat(r.json()["effective_from"]) == v2_from
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
    route_events = [e for e in published if e.type == "mes.route.published.v1"]
    assert [(e.payload().model, e.payload().version) for e in route_events][-1] == (line.model, 2)
    assert route_events[-1].time == v2_from  # the event is dated when the version took effect
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


async def test_a_truck_follows_the_route_version_in_force_when_it_was_planned_or_started(
    plant: Plant, terminal_for: Any, tap: KafkaTap
) -> None:
    t = now()
    line = await plant.line(stations=3, route_from=t - timedelta(hours=3))
    s1, s2, s3 = line.stations
    routes = f"/lines/{line.line_id}/routes"
    short = [{"station_id": s1, "standard_seconds": 500}, {"station_id": s3, "standard_seconds": 700}]
    r = await plant.supervisor.post(
        routes, {"model": line.model, "steps": short, "effective_from": (t - timedelta(hours=1)).isoformat()}
    )
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["effective_from"]) == t - timedelta(hours=1)
    assert datetime.fromisoformat(r.json()["published_at"]) >= t  # entered now, in force an hour ago

    # Versions follow each other in time: one dated before the current version is refused, naming both times.
    one_station = [{"station_id": s1, "standard_seconds": 60}]
    early = t - timedelta(hours=2)
    r = await plant.supervisor.post(
        routes, {"model": line.model, "steps": one_station, "effective_from": early.isoformat()}
    )
    problem = assert_problem(r, 409, "route.effective-before-current", "v2")
    assert problem["current_effective_from"] == (t - timedelta(hours=1)).isoformat()
    assert problem["effective_from"] == early.isoformat()
    assert (await plant.supervisor.get(f"{routes}/{line.model}")).json()["versions"] == [1, 2]

    # Planned before v2 took effect: v1; started (explicitly, or by arriving) before it: v1; after it: v2.
    r = await plant.supervisor.post(
        "/build-orders",
        {
            "vin": (planned := new_vin()),
            "model": line.model,
            "line_id": line.line_id,
            "kit_serial": await plant.kit(line),
            "planned_at": (t - timedelta(hours=2)).isoformat(),
        },
    )
    assert r.status_code == 201 and r.json()["route_version"] == 1, r.text
    r = await plant.supervisor.post(
        f"/build-orders/{planned}/start", {"started_at": (t - timedelta(minutes=90)).isoformat()}
    )
    assert r.status_code == 200 and r.json()["route_version"] == 1, r.text
    before = await plant.build_order(line, await plant.kit(line))
    after = await plant.build_order(line, await plant.kit(line))
    terminal = terminal_for(*line.stations)
    assert (await terminal.post(s1, "arrived", t - timedelta(minutes=70), vin=before)).status_code == 201
    assert (await terminal.post(s1, "arrived", t - timedelta(minutes=50), vin=after)).status_code == 201
    followed = {vin: (await plant.supervisor.get(f"/vehicles/{vin}")).json() for vin in (planned, before, after)}
    assert {vin: v["route_version"] for vin, v in followed.items()} == {planned: 1, before: 1, after: 2}
    assert [s["station"] for s in followed[before]["steps"]] == [s1, s2, s3]
    assert [s["station"] for s in followed[after]["steps"]] == [s1, s3]

    # A version dated before a truck started would have governed it, but the truck keeps its own: refused.
    r = await plant.supervisor.post(
        routes,
        {"model": line.model, "steps": one_station, "effective_from": (t - timedelta(minutes=55)).isoformat()},
    )
    problem = assert_problem(r, 409, "route.effective-before-started-truck", (t - timedelta(minutes=50)).isoformat())
    assert problem["last_start"] == (t - timedelta(minutes=50)).isoformat()

    # Published now without a time, v3 governs from now on: a truck started ten minutes ago still follows v2.
    r = await plant.supervisor.post(routes, {"model": line.model, "steps": one_station})
    assert r.status_code == 201 and r.json()["version"] == 3
    late = await plant.build_order(line, await plant.kit(line))
    assert (await terminal.post(s1, "arrived", now() - timedelta(minutes=10), vin=late)).status_code == 201
    assert (await plant.supervisor.get(f"/vehicles/{late}")).json()["route_version"] == 2

    # The route as it was at an instant; the events are dated when each version took effect.
    at = {
        hours: (
            await plant.supervisor.get(f"{routes}/{line.model}", at=(t - timedelta(hours=hours)).isoformat())
        ).json()
        for hours in (4, 2, 0.5)
    }
    assert [at[h]["version"] for h in (4, 2, 0.5)] == [1, 1, 2]  # before v1 took effect, v1 is all there was
    published = await tap.wait_for(line.line_id, 4, topic=STATIONS.name)  # line, route v1, v2, v3
    dated = {e.payload().version: e.time for e in published if e.type == "mes.route.published.v1"}
    assert dated[1] == t - timedelta(hours=3) and dated[2] == t - timedelta(hours=1) and dated[3] >= t


async def test_a_route_takes_effect_neither_in_the_future_nor_too_long_ago(plant: Plant) -> None:
    line = await plant.line(stations=1)
    routes = f"/lines/{line.line_id}/routes"
    steps = [{"station_id": line.stations[0], "standard_seconds": 90}]
    for effective_from, rule in (
        (now() + timedelta(hours=1), "station-event.in-future"),
        (now() - timedelta(days=31), "station-event.too-old"),
    ):
        r = await plant.supervisor.post(
            routes, {"model": line.model, "steps": steps, "effective_from": effective_from.isoformat()}
        )
        assert_problem(r, 422, rule, "effective_from")
    assert_problem(
        await plant.supervisor.post(
            routes, {"model": line.model, "steps": steps, "effective_from": "2026-03-02T06:00"}
        ),
        422,
    )
