"""Actions become the requests the plant's users send: the right service, path, role, time and body."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from mes_shared.auth import Role
from plant_sim.actions import Action, Kind
from plant_sim.ids import RunIds, run_tag
from plant_sim.requests import MissingRef, Refs, call_for, wire

IDS = RunIds("SIM", "ABC123")
AT = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)


def act(kind: Kind, seq: int = 5, **data: object) -> Action:
    return Action(seq, AT, kind, "k", dict(data))


def test_ids_are_unique_per_run_and_fit_the_services_patterns() -> None:
    assert run_tag(1, "a") == run_tag(1, "a") != run_tag(1, "b") != run_tag(2, "a")
    assert IDS.vin(42) == "XLTABC12300000042" and len(IDS.vin(42)) == 17
    assert not set(IDS.vin(1)) & set("IOQ")
    assert IDS.line("L1") == "SIM-ABC123-L1" and IDS.request_id(7) == "SIM-ABC123-7"
    with pytest.raises(ValueError):
        RunIds("sim", "ABC123")


def test_a_station_event_carries_its_simulated_time_and_only_the_fields_of_its_type() -> None:
    action = act(
        Kind.STATION_EVENT,
        type="work_completed",
        station="S-1",
        vin="V",
        operator_badge="B1",
        end_of_line=True,
        line_id="L",
        kit_serial="K",
    )
    call = call_for(action, IDS, Refs())
    assert (call.service, call.method, call.path) == ("assembly-line", "POST", "/stations/S-1/events")
    assert (call.role, call.stations, call.idempotency_key) == (Role.TERMINAL, ("S-1",), None)
    assert call.json == {
        "type": "work_completed",
        "terminal_event_id": "SIM-ABC123-5",
        "occurred_at": "2026-01-05T07:30:00+00:00",
        "vin": "V",
        "operator_badge": "B1",
    }


def test_a_repair_names_the_defect_id_the_service_gave() -> None:
    refs = Refs()
    found = act(Kind.STATION_EVENT, seq=3, type="defect_found", station="S", vin="V")
    refs.learn(found, {"defect_id": "V-D1"})
    repair = act(Kind.STATION_EVENT, type="defect_repaired", station="S", vin="V", defect_ref=3, note="fixed")
    assert call_for(repair, IDS, refs).json["defect_id"] == "V-D1"
    with pytest.raises(MissingRef):
        call_for(repair, IDS, refs)  # used up: a defect is repaired once


def test_kit_facts_carry_their_time_when_kit_receiving_takes_one() -> None:
    refs = Refs()
    receipt = act(Kind.RECEIVE_KIT, serial="K1", dock="D1", lines=[], discrepancies=[])
    refs.learn(receipt, {"discrepancies": [{"id": "K1-D1", "part_number": "P", "claim_code": "M"}]})
    resolve = act(
        Kind.RESOLVE_DISCREPANCY, serial="K1", part_number="P", claim_code="M", resolution="shortage_accepted", note="n"
    )
    call = call_for(resolve, IDS, refs)
    assert call.path == "/kits/K1/discrepancies/K1-D1/resolution"
    assert call.json["resolved_at"] == AT.isoformat() and call.idempotency_key == "SIM-ABC123-5"
    assert "resolved_at" not in call_for(resolve, IDS, refs, backdated_kits=False).json
    release = act(Kind.RELEASE_KIT, serial="K1")
    assert call_for(release, IDS, refs).json == {"released_at": AT.isoformat()}
    assert call_for(release, IDS, refs, backdated_kits=False).json is None
    assert call_for(receipt, IDS, refs).json["received_at"] == AT.isoformat()


def test_hr_sends_its_file_as_csv_and_terminals_scan_at_their_own_station() -> None:
    rows = [{"employee_id": "E1", "badge_id": "B1", "name": "Ann", "origin": "transferred", "status": "active"}]
    rows[0]["status_since"] = date(2026, 1, 4)  # type: ignore[assignment]
    call = call_for(act(Kind.IMPORT_EMPLOYEES, rows=rows), IDS, Refs())
    assert call.content_type is not None and call.content_type.startswith("text/csv")
    assert (
        call.content
        == b"employee_id,badge_id,name,origin,status,status_since\r\nE1,B1,Ann,transferred,active,2026-01-04\r\n"
    )
    scan = call_for(act(Kind.CLOCK_IN, badge_id="B1", station="S-2", shift="A", employee_id="E1"), IDS, Refs())
    assert (scan.path, scan.subject, scan.stations) == ("/clock-ins", "terminal-S-2", ("S-2",))
    assert scan.json == {
        "terminal_event_id": "SIM-ABC123-5",
        "badge_id": "B1",
        "station": "S-2",
        "at": AT.isoformat(),
        "shift": "A",
    }


def test_wall_clock_times_go_out_as_hours_and_minutes() -> None:
    assert wire({"start": time(6, 0), "on": [date(2026, 1, 5)]}) == {"start": "06:00", "on": ["2026-01-05"]}
