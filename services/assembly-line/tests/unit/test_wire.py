"""Every domain event maps to its versioned contract, complete enough for reporting; a station event's
fingerprint ignores how its time was written."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter

from assembly_line import domain as d
from assembly_line.api import schemas
from assembly_line.service import wire
from assembly_line.service.station_events import request_hash
from mes_shared.envelope import Envelope
from mes_shared.events import stations as st
from mes_shared.events import vehicles as v

from .conftest import VIN, at

FACT: dict[str, Any] = {
    "vin": VIN,
    "at": at(0),
    "line_id": "L1",
    "station": "ST-10",
    "terminal_event_id": "T-1",
    "operator_id": "E-1",
}
EVENTS: list[d.VehicleEvent] = [
    d.BuildOrderCreated(
        vin=VIN,
        at=at(0),
        model="HTX",
        variant="6x4",
        line_id="L1",
        route_version=2,
        kit_serial="K",
        build_short=True,
        waiting_stations=("ST-30",),
    ),
    d.BuildOrderCancelled(vin=VIN, at=at(0), line_id="L1", kit_serial="K", reason="wrong kit", by="sup"),
    d.BuildStarted(vin=VIN, at=at(0), model="HTX", line_id="L1", kit_serial="K", station="ST-10", route_version=2),
    d.VehicleArrived(**FACT, rework=True),
    d.WorkStarted(**FACT, rework=False),
    d.WorkCompleted(**FACT, cycle_seconds=61.5, standard_seconds=60.0, rework=False),
    d.DefectFound(
        **FACT, defect_id="D1", code="X", severity="major", caused_at_station="ST-10", note="", from_check=True
    ),
    d.DefectRepaired(**FACT, defect_id="D1", code="X", note="fixed"),
    d.ComponentFitted(**FACT, part_number="P", serial="S", source="kit", unit_value=12.5),
    d.CheckRecorded(
        **FACT,
        characteristic="TQ",
        value=70.0,
        nominal=80.0,
        tolerance=5.0,
        unit="Nm",
        passed=False,
        defect_id="D1",
    ),
    d.SentBackForRework(vin=VIN, at=at(0), line_id="L1", from_station="ST-20", to_station="ST-10", reason="r", by="s"),
    d.VehicleHeld(
        vin=VIN,
        at=at(0),
        line_id="L1",
        station="ST-30",
        kit_serial="K",
        missing_parts=(d.MissingPart(part_number="AXL", quantity=1, station="ST-30"),),
    ),
    d.VehicleHoldReleased(
        vin=VIN, at=at(0), line_id="L1", station="ST-30", kit_serial="K", reason="part_arrived", held_seconds=90.0
    ),
    d.VehicleCompleted(
        vin=VIN,
        at=at(0),
        model="HTX",
        line_id="L1",
        station="ST-40",
        kit_serial="K",
        started_at=at(-60),
        lead_time_seconds=3600.0,
        defect_count=1,
        first_pass=False,
    ),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_truck_event_maps_to_its_contract_on_the_vehicles_topic(event: d.VehicleEvent) -> None:
    data = wire.to_wire(event)
    assert data.topic == "mes.vehicles" and data.producer == "assembly-line"
    assert wire.event_type(event) == data.event_type
    envelope = Envelope.wrap(data, source="/mes/assembly-line", subject=event.vin, time=event.at)
    assert envelope.payload() == data  # survives the wire
    wire_fields = set(type(data).model_fields)
    domain_fields = {f.name for f in dataclasses.fields(event)} - {"at"}
    assert domain_fields <= wire_fields, domain_fields - wire_fields


def test_every_vehicle_contract_is_published() -> None:
    published = {wire.event_type(e) for e in EVENTS}
    declared = {m.event_type for m in vars(v).values() if isinstance(m, type) and hasattr(m, "event_type")}
    assert declared <= published, declared - published


def test_andons_map_to_station_keyed_contracts() -> None:
    raised = d.AndonRaised(
        andon_id="ST-10-A1",
        line_id="L1",
        station="ST-10",
        reason="r",
        raised_by=None,
        stops_line=True,
        vin=None,
        at=at(0),
    )
    cleared = d.AndonCleared(
        andon_id="ST-10-A1",
        line_id="L1",
        station="ST-10",
        cleared_by="E",
        duration_seconds=5.0,
        stops_line=True,
        at=at(1),
    )
    assert isinstance(wire.andon_to_wire(raised), st.AndonRaised)
    assert isinstance(wire.andon_to_wire(cleared), st.AndonCleared)
    assert st.AndonRaised.key == "station id"


def test_lines_and_routes_map_to_line_keyed_contracts() -> None:
    line = d.Line("L1", "Main", (d.Station("ST-10", "Cab", 1), d.Station("ST-20", "Axles", 2)), 3)
    configured = wire.line_configured(line)
    assert [(s.station_id, s.position) for s in configured.stations] == [("ST-10", 1), ("ST-20", 2)]
    route = wire.route_published(d.Route("L1", "HTX", 4, (d.RouteStep("ST-10", 600.0),), at(0)))
    assert (route.version, route.steps[0].standard_seconds) == (4, 600.0)


EVENT = TypeAdapter(schemas.StationEventIn)


def test_the_same_event_written_with_another_offset_has_the_same_fingerprint() -> None:
    utc = EVENT.validate_python(
        {"type": "arrived", "terminal_event_id": "T-1", "occurred_at": at(0).isoformat(), "vin": VIN}
    )
    local = EVENT.validate_python(
        {
            "type": "arrived",
            "terminal_event_id": "T-1",
            "occurred_at": at(0).astimezone(timezone(timedelta(hours=-5))).isoformat(),
            "vin": VIN,
        }
    )
    assert request_hash("ST-10", utc) == request_hash("ST-10", local)
    assert request_hash("ST-10", utc) != request_hash("ST-20", utc)
    later = EVENT.validate_python(
        {"type": "arrived", "terminal_event_id": "T-1", "occurred_at": at(1).isoformat(), "vin": VIN}
    )
    assert request_hash("ST-10", utc) != request_hash("ST-10", later)
