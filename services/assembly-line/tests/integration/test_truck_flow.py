"""A truck from build order to end of line through HTTP, with kit-receiving's and workforce's facts fed in
through Kafka, and every fact read back from the real `mes.vehicles` and `mes.stations` topics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mes_shared.auth import Role
from mes_shared.events import kits
from mes_shared.testing import KafkaTap, eventually
from mes_shared.topics import STATIONS, VEHICLES

from .conftest import Plant, new_vin, now

pytestmark = pytest.mark.integration


async def test_a_truck_from_build_order_to_end_of_line(
    plant: Plant, tap: KafkaTap, terminal_for: Any, api_as: Any
) -> None:
    line = await plant.line(stations=3)
    s1, s2, s3 = line.stations
    kit = await plant.kit(line, parts=("ECU-1",))
    alice = await plant.operator(line, [s1, s3])
    bob = await plant.operator(line, [s2])
    vin = new_vin()

    r = await plant.supervisor.post(
        "/build-orders",
        {"vin": vin, "model": line.model, "variant": "6x4", "line_id": line.line_id, "kit_serial": kit},
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["status"], order["route_version"], order["kit_serial"]) == ("planned", 1, kit)
    assert (await plant.supervisor.get(f"/kits/{kit}")).json()["vin"] == vin

    t1, t2, t3 = terminal_for(s1), terminal_for(s2), terminal_for(s3)
    base = now() - timedelta(minutes=50)

    async def ok(terminal: Any, station: str, kind: str, minute: float, **fields: Any) -> dict[str, Any]:
        r = await terminal.send(station, terminal.event(kind, base + timedelta(minutes=minute), **fields))
        assert r.status_code == 201, r.text
        return dict(r.json())

    arrived = await ok(t1, s1, "arrived", 0, vin=vin)
    assert arrived["published"] == ["mes.vehicle.build-started.v1", "mes.vehicle.arrived.v1"]
    assert arrived["vehicle"] == {
        "status": "in_progress",
        "current_station": s1,
        "step_status": "arrived",
        "open_defects": 0,
        "held_at": None,
    }
    started = await ok(t1, s1, "work_started", 1, vin=vin, operator_badge=alice.badge)
    assert started["operator_id"] == alice.employee_id
    fitted = await ok(
        t1, s1, "component_fitted", 3, vin=vin, part_number="ECU-1", serial="ECU-SN-" + vin, operator_badge=alice.badge
    )
    assert fitted["published"] == ["mes.vehicle.component-fitted.v1"]
    await ok(
        t1,
        s1,
        "component_fitted",
        4,
        vin=vin,
        part_number="SEAT-9",
        serial="S-" + vin,
        unit_value=310.5,
        operator_badge=alice.badge,
    )
    await ok(
        t1,
        s1,
        "check_recorded",
        5,
        vin=vin,
        characteristic="TQ-CAB-MOUNT",
        value=181.5,
        nominal=180,
        tolerance=5,
        unit="Nm",
        operator_badge=alice.badge,
    )
    await ok(t1, s1, "work_completed", 11, vin=vin, operator_badge=alice.badge)

    wip = (await api_as(Role.MANAGER).get("/wip", line_id=line.line_id)).json()
    assert [st["station_id"] for st in wip["stations"]] == [s1, s2, s3]
    [truck] = wip["stations"][0]["trucks"]
    assert (truck["vin"], truck["state"], truck["standard_seconds"]) == (vin, "done", line.standard_seconds[0])
    assert truck["elapsed_seconds"] >= 50 * 60 - 5 and truck["over_standard"] is True
    assert wip["total"] == 1

    await ok(t2, s2, "arrived", 12, vin=vin)
    await ok(t2, s2, "work_started", 13, vin=vin, operator_badge=bob.badge)
    failed = await ok(
        t2,
        s2,
        "check_recorded",
        14,
        vin=vin,
        characteristic="TQ-AXLE",
        value=300,
        nominal=350,
        tolerance=20,
        unit="Nm",
        operator_badge=bob.badge,
    )
    assert failed["published"] == ["mes.vehicle.check-recorded.v1", "mes.vehicle.defect-found.v1"]
    check_defect = failed["defect_id"]
    assert check_defect == f"{vin}-D1" and failed["vehicle"]["open_defects"] == 1
    await ok(
        t2,
        s2,
        "defect_repaired",
        16,
        vin=vin,
        defect_id=check_defect,
        note="re-torqued to 352 Nm",
        operator_badge=bob.badge,
    )
    raised = await ok(
        t2, s2, "andon_raised", 17, reason="nut runner fault", stops_line=True, vin=vin, operator_badge=bob.badge
    )
    andon_id = raised["andon_id"]
    assert raised["published"] == ["mes.andon.raised.v1"] and raised["operator_id"] == bob.employee_id
    andons = (await plant.supervisor.get("/andons", open="true", line_id=line.line_id)).json()
    assert [a["andon_id"] for a in andons["items"]] == [andon_id] and andons["items"][0]["open_seconds"] > 0
    cleared = await ok(t2, s2, "andon_cleared", 21, andon_id=andon_id)
    assert cleared["published"] == ["mes.andon.cleared.v1"]
    assert (await plant.supervisor.get("/andons", open="true", line_id=line.line_id)).json()["total"] == 0
    await ok(t2, s2, "work_completed", 22, vin=vin, operator_badge=bob.badge)

    await plant.clock_in(line, alice, s3, at=base + timedelta(minutes=11, seconds=30))
    await ok(t3, s3, "arrived", 23, vin=vin)
    found = await ok(
        t3, s3, "defect_found", 24, vin=vin, code="PAINT-RUN", severity="minor", caused_at_station=s1, note="left door"
    )
    paint = found["defect_id"]
    await ok(t3, s3, "work_started", 25, vin=vin, operator_badge=alice.badge)
    r = await t3.post(s3, "work_completed", base + timedelta(minutes=26), vin=vin, operator_badge=alice.badge)
    assert r.status_code == 409 and r.json()["rule"] == "quality-gate.open-defects"
    assert r.json()["open_defects"] == [paint]
    await ok(t3, s3, "defect_repaired", 27, vin=vin, defect_id=paint, operator_badge=alice.badge)
    done = await ok(t3, s3, "work_completed", 30, vin=vin, operator_badge=alice.badge)
    assert done["published"] == ["mes.vehicle.work-completed.v1", "mes.vehicle.completed.v1"]
    assert done["vehicle"]["status"] == "completed"

    # ---- the genealogy --------------------------------------------------------------------------
    view = (await api_as(Role.PLANNER).get(f"/vehicles/{vin}")).json()
    assert (view["status"], view["first_pass"], view["lead_time_seconds"]) == ("completed", False, 30 * 60)
    assert view["kit"]["serial"] == kit and view["kit"]["kit_type"] == f"KT-{line.model}"
    assert [(s["station"], s["status"], s["visits"], s["cycle_seconds"]) for s in view["steps"]] == [
        (s1, "completed", 1, 600.0),
        (s2, "completed", 1, 540.0),
        (s3, "completed", 1, 300.0),
    ]
    assert view["steps"][1]["started_by"] == bob.employee_id
    assert [(c["part_number"], c["source"], c["unit_value"]) for c in view["components"]] == [
        ("ECU-1", "kit", None),
        ("SEAT-9", "local", 310.5),
    ]
    assert [(c["characteristic"], c["passed"], c["defect_id"]) for c in view["checks"]] == [
        ("TQ-CAB-MOUNT", True, None),
        ("TQ-AXLE", False, check_defect),
    ]
    assert [(d["defect_id"], d["status"], d["from_check"], d["caused_at_station"]) for d in view["defects"]] == [
        (check_defect, "repaired", True, s2),
        (paint, "repaired", False, s1),
    ]
    assert {(o["operator_id"], o["station"]) for o in view["operators"]} == {
        (alice.employee_id, s1),
        (bob.employee_id, s2),
        (alice.employee_id, s3),
    }
    kinds = [e["type"] for e in view["timeline"]]
    # In time order: the order was created just now, the terminals' events are back-dated.
    assert kinds[:2] == ["build-started", "arrived"]
    assert kinds[-3:] == ["work_completed", "vehicle-completed", "build-order-created"]
    assert kinds.count("check_recorded") == 2 and "andon_raised" in kinds  # raised against this truck
    assert wip_total(await api_as(Role.MANAGER).get("/wip", line_id=line.line_id)) == 0
    order = (await plant.supervisor.get(f"/build-orders/{vin}")).json()
    assert order["status"] == "completed"

    # ---- the events, as reporting will read them ------------------------------------------------
    events = await tap.wait_for(vin, 20, topic=VEHICLES.name)
    assert [e.type.removeprefix("mes.").removesuffix(".v1") for e in events] == [
        "build-order.created",
        "vehicle.build-started",
        "vehicle.arrived",
        "vehicle.work-started",
        "vehicle.component-fitted",
        "vehicle.component-fitted",
        "vehicle.check-recorded",
        "vehicle.work-completed",
        "vehicle.arrived",
        "vehicle.work-started",
        "vehicle.check-recorded",
        "vehicle.defect-found",
        "vehicle.defect-repaired",
        "vehicle.work-completed",
        "vehicle.arrived",
        "vehicle.defect-found",
        "vehicle.work-started",
        "vehicle.defect-repaired",
        "vehicle.work-completed",
        "vehicle.completed",
    ]
    assert all(e.subject == vin and e.source == "/mes/assembly-line" for e in events)
    started_event = events[1].payload()
    assert (started_event.kit_serial, started_event.station, started_event.route_version) == (kit, s1, 1)
    assert events[1].time == base
    completed = events[-1].payload()
    assert (completed.first_pass, completed.defect_count, completed.lead_time_seconds) == (False, 2, 1800.0)
    first_done = events[7].payload()
    assert (first_done.cycle_seconds, first_done.standard_seconds, first_done.operator_id) == (
        600.0,
        line.standard_seconds[0],
        alice.employee_id,
    )
    assert events[4].payload().source == "kit" and events[5].payload().source == "local"
    assert events[11].payload().from_check is True
    # kit-receiving follows BuildStarted with its own KitConsumed: the read model says consumed, bound to the VIN.
    await plant.publish(kits.KitConsumed(serial=kit, vin=vin), kit)

    async def consumed() -> dict[str, Any] | None:
        view = (await plant.supervisor.get(f"/kits/{kit}")).json()
        return view if view["status"] == "consumed" else None

    kit_view = await eventually(consumed, what="the kit consumed in the read model")
    assert (kit_view["vin"], kit_view["available"], kit_view["refusal"]) == (vin, False, "kit.consumed")
    andon_events = await tap.wait_for(s2, 2, topic=STATIONS.name)
    raised_event, cleared_event = (e.payload() for e in andon_events)
    assert raised_event.vin == vin and raised_event.stops_line is True
    assert cleared_event.duration_seconds == 240.0 and cleared_event.andon_id == andon_id


def wip_total(r: Any) -> int:
    assert r.status_code == 200, r.text
    return int(r.json()["total"])
