"""Each rule's refusal through HTTP: a 409 problem+json naming the rule, and nothing written.

Kit and workforce facts arrive the way they do in production, as events on `mes.kits` and `mes.people`.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import asyncpg
import pytest

from mes_shared.events import people as p
from mes_shared.testing import KafkaTap, eventually
from mes_shared.topics import VEHICLES

from .conftest import Clock, Plant, assert_problem, new_vin, now, run_through, unique

pytestmark = pytest.mark.integration

# ---- build orders -------------------------------------------------------------------------------


async def test_a_build_order_takes_only_a_released_kit_of_its_model(plant: Plant, db: asyncpg.Connection) -> None:
    line = await plant.line(stations=2)
    refusals = [
        (unique("KIT"), "kit.unknown"),
        (await plant.kit(line, status="announced"), "kit.not-released"),
        (await plant.kit(line, status="received"), "kit.not-released"),
        (await plant.kit(line, status="quarantined"), "kit.quarantined"),
    ]
    for kit, rule in refusals:
        vin = new_vin()
        r = await plant.supervisor.post(
            "/build-orders", {"vin": vin, "model": line.model, "line_id": line.line_id, "kit_serial": kit}
        )
        body = assert_problem(r, 409, rule, kit)
        assert await db.fetchval("SELECT count(*) FROM vehicles WHERE vin = $1", vin) == 0, body

    kit = await plant.kit(line)
    vin = await plant.build_order(line, kit)
    other = new_vin()
    r = await plant.supervisor.post(
        "/build-orders", {"vin": other, "model": line.model, "line_id": line.line_id, "kit_serial": kit}
    )
    assert_problem(r, 409, "kit.consumed", vin)
    kit_view = (await plant.supervisor.get(f"/kits/{kit}")).json()
    assert (kit_view["available"], kit_view["refusal"], kit_view["vin"]) == (False, "kit.consumed", vin)

    # The same order again (another key) is answered, not duplicated; the VIN with other content is refused.
    same = {"vin": vin, "model": line.model, "line_id": line.line_id, "kit_serial": kit}
    r = await plant.supervisor.post("/build-orders", same)
    assert r.status_code == 200 and r.json()["vin"] == vin
    r = await plant.supervisor.post("/build-orders", same | {"kit_serial": await plant.kit(line)})
    assert_problem(r, 409, "build-order.vin-exists", vin)

    other_line = await plant.line(stations=1)
    r = await plant.supervisor.post(
        "/build-orders",
        {"vin": new_vin(), "model": line.model, "line_id": line.line_id, "kit_serial": await plant.kit(other_line)},
    )
    assert_problem(r, 409, "kit.model-mismatch", other_line.model)


async def test_a_model_without_a_route_on_the_line_cannot_be_ordered(plant: Plant) -> None:
    line = await plant.line(stations=1)
    other = await plant.line(stations=1)
    kit = await plant.kit(other)
    r = await plant.supervisor.post(
        "/build-orders", {"vin": new_vin(), "model": other.model, "line_id": line.line_id, "kit_serial": kit}
    )
    assert_problem(r, 409, "build-order.no-route", other.model, line.line_id)


async def test_a_cancelled_order_frees_its_kit_and_takes_no_station_events(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=1)
    kit = await plant.kit(line)
    vin = await plant.build_order(line, kit)
    r = await plant.supervisor.post(f"/build-orders/{vin}/cancel", {"reason": "wrong kit picked"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await terminal_for(line.stations[0]).post(line.stations[0], "arrived", vin=vin)
    assert_problem(r, 409, "vehicle.cancelled")
    assert (await plant.supervisor.get(f"/kits/{kit}")).json()["available"] is True
    second = await plant.build_order(line, kit)
    assert (await plant.supervisor.get(f"/build-orders/{second}")).json()["kit_serial"] == kit
    # The cancelled VIN itself may be planned again, with another kit.
    again = await plant.build_order(line, await plant.kit(line), vin)
    order = (await plant.supervisor.get(f"/build-orders/{again}")).json()
    assert (order["status"], order["cancelled_at"]) == ("planned", None)


# ---- the route's order --------------------------------------------------------------------------


async def test_the_route_is_followed_in_order_and_rework_needs_a_send_back(
    plant: Plant, terminal_for: Any, tap: KafkaTap, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=3)
    s1, s2, s3 = line.stations
    crew = await plant.crew(line)
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(*line.stations), Clock()

    r = await terminal.post(s2, "arrived", clock.tick(), vin=vin)
    assert_problem(r, 409, "route.not-started", s1)
    assert await db.fetchval("SELECT status FROM vehicles WHERE vin = $1", vin) == "planned"
    assert (await terminal.post(s1, "arrived", clock.tick(), vin=vin)).status_code == 201
    r = await terminal.post(s1, "work_completed", clock.tick(), vin=vin, operator_badge=crew[s1])
    assert_problem(r, 409, "route.work-not-started")
    r = await terminal.post(s2, "arrived", clock.tick(), vin=vin)
    body = assert_problem(r, 409, "route.station-skipped", s1)
    assert body["due_station"] == s1
    for kind in ("work_started", "work_completed"):
        assert (await terminal.post(s1, kind, clock.tick(), vin=vin, operator_badge=crew[s1])).status_code == 201
    await run_through(terminal, vin, [s2], crew, clock)
    r = await terminal.post(s1, "arrived", clock.tick(), vin=vin)
    assert_problem(r, 409, "route.station-already-done", s1)

    # A supervisor sends it back: the stations from there on are visited again, as rework.
    r = await plant.supervisor.post(f"/vehicles/{vin}/send-back", {"to_station": s3, "reason": "x"})
    assert_problem(r, 409, "send-back.not-earlier", s2)
    r = await plant.supervisor.post(f"/vehicles/{vin}/send-back", {"to_station": s1, "reason": "cab mount loose"})
    assert r.status_code == 200, r.text
    assert [s["status"] for s in r.json()["steps"]] == ["pending", "pending", "pending"]
    stale = await terminal.post(s2, "arrived", clock.t - timedelta(minutes=30), vin=vin)
    assert_problem(stale, 409, "station-event.out-of-order")
    clock.catch_up()
    await run_through(terminal, vin, [s1, s2, s3], crew, clock)
    view = (await plant.supervisor.get(f"/vehicles/{vin}")).json()
    assert [(s["station"], s["visits"]) for s in view["steps"]] == [(s1, 2), (s2, 2), (s3, 1)]
    assert view["status"] == "completed" and view["first_pass"] is True

    events = await tap.wait_for(vin, 19, topic=VEHICLES.name)
    sent_back = next(e for e in events if e.type == "mes.vehicle.sent-back.v1").payload()
    assert (sent_back.from_station, sent_back.to_station, sent_back.by) == (s2, s1, "supervisor-tester")
    reworked = [e.payload() for e in events if e.type == "mes.vehicle.work-completed.v1"]
    assert [(w.station, w.rework) for w in reworked] == [(s1, False), (s2, False), (s1, True), (s2, True), (s3, False)]


async def test_a_rework_entered_late_is_placed_at_its_own_time(plant: Plant, terminal_for: Any, tap: KafkaTap) -> None:
    """A send-back recorded late, with its own time: the terminal's backlog after it, dated before the moment
    it was entered, is taken in order (it was refused as out of order when a send-back was stamped now)."""
    line = await plant.line(stations=3)
    s1, s2, s3 = line.stations
    crew = await plant.crew(line)
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(*line.stations), Clock()
    await run_through(terminal, vin, [s1, s2], crew, clock)
    too_early = clock.t - timedelta(minutes=1)
    r = await plant.supervisor.post(
        f"/vehicles/{vin}/send-back", {"to_station": s2, "reason": "x", "sent_back_at": too_early.isoformat()}
    )
    assert_problem(r, 409, "send-back.before-last-event")
    sent_back_at = clock.tick()
    r = await plant.supervisor.post(
        f"/vehicles/{vin}/send-back",
        {"to_station": s2, "reason": "loose harness", "sent_back_at": sent_back_at.isoformat()},
    )
    assert r.status_code == 200, r.text
    await run_through(terminal, vin, [s2, s3], crew, clock)  # still well before the server's now
    view = (await plant.supervisor.get(f"/vehicles/{vin}")).json()
    assert [(s["station"], s["visits"]) for s in view["steps"]] == [(s1, 1), (s2, 2), (s3, 1)]
    assert view["status"] == "completed"

    async def sent_back() -> list[Any]:
        return [e for e in tap.envelopes(vin, VEHICLES.name) if e.type == "mes.vehicle.sent-back.v1"]

    [event] = await eventually(sent_back, what="the send-back event")
    assert event.time == sent_back_at


async def test_an_event_older_than_what_the_truck_did_is_answered_clearly(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=2)
    crew = await plant.crew(line)
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(*line.stations), Clock()
    await run_through(terminal, vin, line.stations[:1], crew, clock)
    last = clock.t
    r = await terminal.post(line.stations[1], "arrived", last - timedelta(seconds=1), vin=vin)
    body = assert_problem(r, 409, "station-event.out-of-order", last.isoformat())
    assert body["last_event"] == {"type": "work_completed", "station": line.stations[0], "at": last.isoformat()}


# ---- operators ----------------------------------------------------------------------------------


async def test_only_a_clocked_in_operator_qualified_at_that_moment_signs_off(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=2)
    s1, s2 = line.stations
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(s1), Clock()
    assert (await terminal.post(s1, "arrived", clock.tick(), vin=vin)).status_code == 201

    r = await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=unique("B"))
    body = assert_problem(r, 409, "operator.not-clocked-in")
    assert body["retryable"] is True
    elsewhere = await plant.operator(line, [s2, s1])  # qualified here but clocked in at s2
    assert_problem(
        await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=elsewhere.badge),
        409,
        "operator.not-clocked-in",
    )
    unqualified = await plant.operator(line, [s1], qualified=False)
    assert_problem(
        await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=unqualified.badge),
        409,
        "operator.not-qualified",
        "no qualification",
    )
    expired = await plant.operator(line, [s1], valid_until=clock.t - timedelta(minutes=5))
    assert_problem(
        await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=expired.badge),
        409,
        "operator.not-qualified",
        "expired",
    )
    assert await db.fetchval("SELECT count(*) FROM station_events WHERE vin = $1", vin) == 1

    # Revoked from a moment on: a backlog event from before it is still judged as of its own time.
    good = await plant.operator(line, [s1])
    revoked_at = clock.t + timedelta(minutes=10)
    await plant.publish(
        p.QualificationRevoked(
            employee_id=good.employee_id, station=s1, level="qualified", revoked_at=revoked_at, reason="audit"
        ),
        good.employee_id,
    )

    async def revoked() -> bool:
        reason = "SELECT end_reason FROM qualifications WHERE employee_id = $1"
        return await db.fetchval(reason, good.employee_id) == "revoked"

    # Probed in the database: a probe through the API would record the event it tries.
    await eventually(revoked, what="the revocation in the read model")
    late = revoked_at + timedelta(minutes=1)
    assert_problem(
        await terminal.post(s1, "work_started", late, vin=vin, operator_badge=good.badge),
        409,
        "operator.not-qualified",
        "revoked",
    )
    r = await terminal.post(s1, "work_started", clock.tick(), vin=vin, operator_badge=good.badge)
    assert r.status_code == 201 and r.json()["operator_id"] == good.employee_id

    # Clocked out, the badge no longer signs off; on leave, the employee does not either.
    await plant.clock_out(line, good, s1, at=clock.tick())
    assert_problem(
        await terminal.post(s1, "work_completed", clock.tick(), vin=vin, operator_badge=good.badge),
        409,
        "operator.not-clocked-in",
    )
    leaving = await plant.operator(line, [s1])
    await plant.publish(
        p.EmployeeStatusChanged(
            employee_id=leaving.employee_id,
            origin="transferred",
            from_status="active",
            to_status="on_leave",
            effective_date=clock.t.date() - timedelta(days=1),
            reason="parental leave",
        ),
        leaving.employee_id,
    )

    async def on_leave() -> bool:
        status = "SELECT status FROM employee_statuses WHERE employee_id = $1 ORDER BY id DESC LIMIT 1"
        return await db.fetchval(status, leaving.employee_id) == "on_leave"

    await eventually(on_leave, what="the status change in the read model")
    assert_problem(
        await terminal.post(s1, "work_completed", clock.tick(), vin=vin, operator_badge=leaving.badge),
        409,
        "operator.not-active",
        "on_leave",
    )


# ---- build-short holds --------------------------------------------------------------------------


async def test_a_build_short_truck_waits_at_the_station_of_its_missing_part(
    plant: Plant, terminal_for: Any, tap: KafkaTap
) -> None:
    line = await plant.line(stations=3)
    s1, s2, _ = line.stations
    crew = await plant.crew(line)
    kit = await plant.kit(line, short_at={s2: "AXL-200"})
    r = await plant.supervisor.post(
        "/build-orders", {"vin": (vin := new_vin()), "model": line.model, "line_id": line.line_id, "kit_serial": kit}
    )
    assert r.status_code == 201, r.text
    terminal, clock = terminal_for(*line.stations), Clock()
    await run_through(terminal, vin, [s1], crew, clock)
    held = await terminal.post(s2, "arrived", clock.tick(), vin=vin)
    assert held.status_code == 201
    assert held.json()["published"] == ["mes.vehicle.arrived.v1", "mes.vehicle.held.v1"]
    assert held.json()["vehicle"]["held_at"] == s2
    for _ in range(2):
        r = await terminal.post(s2, "work_started", clock.tick(), vin=vin, operator_badge=crew[s2])
        assert_problem(r, 409, "build-short.part-missing", kit)
    wip = (await plant.supervisor.get("/wip", line_id=line.line_id)).json()
    assert wip["stations"][1]["trucks"][0]["state"] == "held"

    await plant.part_arrived(kit, s2, "AXL-200")

    async def released() -> bool:
        return (await plant.supervisor.get(f"/vehicles/{vin}")).json()["held_at"] is None

    await eventually(released, what="the hold released by the replacement part")
    assert (await terminal.post(s2, "work_started", clock.tick(), vin=vin, operator_badge=crew[s2])).status_code == 201

    events = await tap.wait_for(vin, 9, topic=VEHICLES.name)
    types = [e.type for e in events]
    assert types.count("mes.vehicle.held.v1") == 1 and types.count("mes.vehicle.hold-released.v1") == 1
    created = events[0].payload()
    assert (created.build_short, created.waiting_stations) == (True, [s2])
    held_event = next(e for e in events if e.type == "mes.vehicle.held.v1").payload()
    assert [(m.part_number, m.station) for m in held_event.missing_parts] == [("AXL-200", s2)]
    release = next(e for e in events if e.type == "mes.vehicle.hold-released.v1")
    assert release.payload().reason == "part_arrived" and release.payload().station == s2
    assert release.source == "/mes/assembly-line" and release.subject == vin
    view = (await plant.supervisor.get(f"/vehicles/{vin}")).json()
    assert view["kit"]["waiting_stations"] == [] and view["kit"]["build_short"] is False


# ---- quality, components, andons, idempotency ---------------------------------------------------


async def test_a_failed_check_opens_a_defect_that_stops_the_end_of_line(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    op = await plant.operator(line)
    vin = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(s1), Clock()
    for kind in ("arrived", "work_started"):
        assert (await terminal.post(s1, kind, clock.tick(), vin=vin, operator_badge=op.badge)).status_code == 201
    r = await terminal.post(
        s1,
        "check_recorded",
        clock.tick(),
        vin=vin,
        characteristic="BRAKE-PRESSURE",
        value=6.1,
        nominal=8.0,
        tolerance=0.5,
        unit="bar",
        operator_badge=op.badge,
    )
    assert r.status_code == 201 and r.json()["defect_id"] == f"{vin}-D1"
    before = await db.fetchrow("SELECT steps, last_event_at FROM vehicles WHERE vin = $1", vin)
    outbox = await db.fetchval("SELECT count(*) FROM outbox")
    r = await terminal.post(s1, "work_completed", clock.tick(), vin=vin, operator_badge=op.badge)
    assert_problem(r, 409, "quality-gate.open-defects", f"{vin}-D1", "CHK-BRAKE-PRESSURE")
    assert await db.fetchrow("SELECT steps, last_event_at FROM vehicles WHERE vin = $1", vin) == before
    assert await db.fetchval("SELECT count(*) FROM outbox") == outbox


async def test_a_serial_part_is_fitted_to_one_truck_only(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    op = await plant.operator(line)
    first = await plant.build_order(line, await plant.kit(line))
    second = await plant.build_order(line, await plant.kit(line))
    terminal, clock = terminal_for(s1), Clock()
    for vin in (first, second):
        for kind in ("arrived", "work_started"):
            assert (await terminal.post(s1, kind, clock.tick(), vin=vin, operator_badge=op.badge)).status_code == 201
    serial = unique("TURBO")
    fit = {"part_number": "TRB-1", "serial": serial, "operator_badge": op.badge}
    assert (await terminal.post(s1, "component_fitted", clock.tick(), vin=first, **fit)).status_code == 201
    r = await terminal.post(s1, "component_fitted", clock.tick(), vin=second, **fit)
    body = assert_problem(r, 409, "component.serial-already-fitted", first)
    assert body["vin"] == first


async def test_one_andon_at_a_time_per_station(plant: Plant, terminal_for: Any) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    terminal, clock = terminal_for(s1), Clock()
    assert_problem(await terminal.post(s1, "andon_cleared", clock.tick()), 409, "andon.none-open")
    r = await terminal.post(s1, "andon_raised", clock.tick(), reason="no air")
    assert r.status_code == 201 and r.json()["andon_id"] == f"{s1}-A1" and r.json()["operator_id"] is None
    assert_problem(await terminal.post(s1, "andon_raised", clock.tick(), reason="again"), 409, "andon.already-open")
    assert_problem(
        await terminal.post(s1, "andon_cleared", clock.t - timedelta(minutes=5)), 409, "station-event.out-of-order"
    )
    assert_problem(await terminal.post(s1, "andon_cleared", clock.tick(), andon_id="X-1"), 409, "andon.not-open")
    assert (await terminal.post(s1, "andon_cleared", clock.tick())).status_code == 201
    r = await terminal.post(s1, "andon_raised", clock.tick(), reason="material", vin=new_vin())
    assert_problem(r, 409, "vehicle.no-build-order")


async def test_a_resend_gets_the_first_answer_and_other_content_under_the_same_id_is_refused(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    vin = await plant.build_order(line, await plant.kit(line))
    terminal = terminal_for(s1)
    when = now() - timedelta(minutes=3)
    event = terminal.event("arrived", when, vin=vin)
    first = await terminal.send(s1, event)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = await terminal.send(s1, event)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # The same instant written with another offset is the same event.
    shifted = event | {"occurred_at": when.astimezone(timezone(timedelta(hours=3))).isoformat()}
    replay = await terminal.send(s1, shifted)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    changed = event | {"vin": new_vin()}
    assert_problem(await terminal.send(s1, changed), 422, "station-event.id-reused", event["terminal_event_id"])
    # Another terminal's ids are its own.
    other = terminal_for(s1)
    r = await other.send(
        s1, event | {"type": "defect_found", "code": "X", "severity": "minor", "caused_at_station": s1}
    )
    assert r.status_code == 201, r.text
    assert (
        await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1", vin) == 4
    )  # created, started, arrived, defect
