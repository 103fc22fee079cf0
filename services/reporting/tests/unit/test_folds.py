"""The projections' folds: events of the other services' catalogue in, projection rows out; merged the same
way whatever the batches and, where the log does not fix it, whatever the order."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from mes_shared.envelope import Envelope, EventData
from mes_shared.events import kits as k
from mes_shared.events import people as p
from mes_shared.events import stations as s
from mes_shared.events import vehicles as v
from reporting.projections.fold import FOLDS, fold, log_seq
from reporting.projections.merge import RowBuffer
from reporting.projections.tables import MERGERS

T0 = datetime(2026, 11, 26, 6, tzinfo=UTC)
VIN = "XLRTE47MS0E123456"


def env(data: EventData, subject: str, minutes: float = 0) -> Envelope:
    return Envelope.wrap(data, source="/mes/test", subject=subject, time=T0 + timedelta(minutes=minutes))


def rows_of(*envelopes: Envelope) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, e in enumerate(envelopes):
        effects = fold(e, log_seq(0, i))
        assert effects is not None
        out.extend(effects.rows)
    return out


def merged(rows: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    buffer = RowBuffer(MERGERS)
    buffer.extend(rows)
    return {m.table.name: sorted(r, key=lambda row: [str(row[c]) for c in m.key]) for m, r in buffer.tables()}


def test_every_contract_reporting_needs_is_folded() -> None:
    folded = set(FOLDS)
    for event_type in EventData.registered():
        if event_type.startswith(("mes.shipment.", "mes.vehicle.check-recorded", "mes.test.")):
            # shipments are followed through their kits; checks open defects of their own; mes.test.* are
            # contracts other test modules declare in the same process
            continue
        assert event_type in folded, f"{event_type} is not folded"


def test_a_completed_truck() -> None:
    done = env(
        v.VehicleCompleted(
            vin=VIN,
            model="HTX",
            line_id="L1",
            station="EOL",
            kit_serial="KIT-1",
            started_at=T0 - timedelta(hours=20),
            lead_time_seconds=72_000,
            defect_count=1,
            first_pass=False,
        ),
        VIN,
    )
    effects = fold(done, log_seq(3, 17))
    assert effects is not None
    assert {"output", "wip", "quality"} <= effects.views
    tables = merged(list(effects.rows))
    truck = tables["vehicles"][0]
    assert (truck["vin"], truck["completed_at"], truck["started_at"], truck["first_pass"]) == (
        VIN,
        T0,
        T0 - timedelta(hours=20),
        False,
    )
    assert tables["station_events"][0]["kind"] == "completed"


def test_unknown_and_ignored_event_types_fold_to_nothing() -> None:
    shipment = k.ShipmentCancelled(shipment_id="ASN-1", reason="x", cancelled_serials=[])
    assert fold(env(shipment, "ASN-1"), 0) is None
    odd = Envelope(
        source="/mes/elsewhere", type="mes.something.new.v1", subject="x", time=T0, dataschema="urn:x", data={}
    )
    assert fold(odd, 0) is None


def test_a_broken_calendar_is_refused() -> None:
    bad = p.CalendarPublished(
        line_id="L1",
        version=1,
        time_zone="Mars/Olympus_Mons",
        valid_from=date(2026, 1, 1),
        working_days=[1],
        holidays=[],
        shifts=[],
    )
    with pytest.raises(Exception, match="Mars"):
        fold(env(bad, "L1"), 0)


def _kit_story() -> list[Envelope]:
    serial = "KIT-9"
    return [
        env(
            k.KitAnnounced(
                serial=serial,
                kit_type="HTX-A",
                bom_version=1,
                shipment_id="ASN-1",
                cases=["C1"],
                expected_arrival=T0 + timedelta(days=3),
            ),
            serial,
            0,
        ),
        env(
            k.KitReceived(
                serial=serial,
                kit_type="HTX-A",
                bom_version=1,
                shipment_id="ASN-1",
                unannounced=False,
                dock="D1",
                received_by="dock",
                discrepancy_count=1,
                status="quarantined",
            ),
            serial,
            10,
        ),
        env(
            k.DiscrepancyRecorded(
                serial=serial,
                discrepancy_id="D1",
                claim_code="DT",
                part_number="P-1",
                quantity=1,
                station="ST-02",
                note="",
            ),
            serial,
            10,
        ),
        env(k.KitQuarantined(serial=serial, open_discrepancy_ids=["D1"], claim_codes=["DT"]), serial, 10),
        env(
            k.DiscrepancyResolved(
                serial=serial,
                discrepancy_id="D1",
                claim_code="DT",
                part_number="P-1",
                quantity=1,
                station="ST-02",
                resolution="shortage_accepted",
                discrepancy_status="shortage_accepted",
                resolved_by="qa",
                note="",
                kit_status="received",
                build_short=False,
                waiting_stations=[],
            ),
            serial,
            20,
        ),
        env(k.KitQuarantineLifted(serial=serial, accepted_shortages=[]), serial, 20),
        env(
            k.KitReleased(
                serial=serial,
                kit_type="HTX-A",
                bom_version=1,
                build_short=True,
                waiting_stations=["ST-02"],
                missing_parts=[],
                released_by="lead",
            ),
            serial,
            30,
        ),
        env(k.KitConsumed(serial=serial, vin=VIN), serial, 40),
    ]


def test_a_kits_story_folds_to_its_last_state_whatever_the_batches() -> None:
    story = _kit_story()
    whole = merged(rows_of(*story))
    kit = whole["kits"][0]
    assert (kit["status"], kit["build_short"], kit["waiting_stations"], kit["consumed_by_vin"]) == (
        "consumed",
        True,
        ["ST-02"],
        VIN,
    )
    assert (kit["received_at"], kit["released_at"]) == (T0 + timedelta(minutes=10), T0 + timedelta(minutes=30))
    assert whole["discrepancies"][0]["status"] == "shortage_accepted"
    # Split into batches at every point: the merge of the merges is the same.
    rows = rows_of(*story)
    for cut in range(1, len(rows)):
        first, second = merged(rows[:cut]), merged(rows[cut:])
        combined: dict[str, list[dict[str, Any]]] = {}
        for table in set(first) | set(second):
            merger = MERGERS[table]
            by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
            for row in first.get(table, []) + second.get(table, []):
                key = merger.key_of(row)
                by_key[key] = row if key not in by_key else merger.merge(by_key[key], row)
            combined[table] = sorted(by_key.values(), key=lambda r, m=merger: [str(r[c]) for c in m.key])
        assert combined == whole


def test_a_late_event_does_not_override_a_newer_state() -> None:
    """The release (minute 30) arrives before the quarantine (minute 10): the kit stays released."""
    story = _kit_story()[:7]
    in_order = merged(rows_of(*story))
    shuffled = merged(rows_of(story[6], *story[:6]))
    assert in_order["kits"][0]["status"] == shuffled["kits"][0]["status"] == "released"


def test_andon_raise_and_clear_merge_in_either_order() -> None:
    raised = env(
        s.AndonRaised(
            andon_id="A1", line_id="L1", station="ST-02", reason="tool", raised_by="op", stops_line=True, vin=None
        ),
        "ST-02",
        0,
    )
    cleared = env(
        s.AndonCleared(
            andon_id="A1", line_id="L1", station="ST-02", cleared_by="lead", duration_seconds=600, stops_line=True
        ),
        "ST-02",
        10,
    )
    results = [merged(rows_of(*order))["andons"] for order in itertools.permutations([raised, cleared])]
    assert results[0] == results[1]
    andon = results[0][0]
    assert (andon["raised_at"], andon["cleared_at"], andon["duration_seconds"], andon["reason"]) == (
        T0,
        T0 + timedelta(minutes=10),
        600,
        "tool",
    )


def test_qualification_changes_keep_every_grant_renewal_and_ending() -> None:
    grant = env(
        p.QualificationGranted(
            employee_id="E1", station="ST-01", level="qualified", valid_from=T0, valid_until=T0 + timedelta(days=30)
        ),
        "E1",
        0,
    )
    revoke = env(
        p.QualificationRevoked(employee_id="E1", station="ST-01", level="qualified", revoked_at=T0, reason="x"), "E1", 5
    )
    renew = env(
        p.QualificationRenewed(
            employee_id="E1", station="ST-01", level="trainer", valid_from=T0, valid_until=T0 + timedelta(days=90)
        ),
        "E1",
        10,
    )
    changes = merged(rows_of(grant, revoke, renew))["qualification_changes"]
    assert sorted((c["kind"], c["at"], c["level"], c["valid_until"]) for c in changes) == [
        ("granted", grant.time, "qualified", T0 + timedelta(days=30)),
        ("renewed", renew.time, "trainer", T0 + timedelta(days=90)),
        ("revoked", T0, "qualified", None),
    ]


def test_people_and_rosters() -> None:
    registered = env(
        p.EmployeeRegistered(
            employee_id="E7",
            badge_id="B7",
            name="Ana",
            origin="transferred",
            status="idle",
            status_since=date(2026, 1, 5),
        ),
        "E7",
    )
    recalled = env(p.EmployeeRecalled(employee_id="E7", recalled_on=date(2026, 2, 1), goal_id="G1"), "E7", 1)
    changed = env(
        p.EmployeeStatusChanged(
            employee_id="E7",
            origin="recalled",
            from_status="idle",
            to_status="active",
            effective_date=date(2026, 2, 1),
            reason="recall",
        ),
        "E7",
        1,
    )
    tables = merged(rows_of(registered, recalled, changed))
    assert tables["employees"][0]["origin"] == "recalled"
    assert sorted(r["status"] for r in tables["employee_status"]) == ["active", "active", "idle"]
    assert tables["recalls"][0]["goal_id"] == "G1"
    roster = env(
        p.RosterPublished(
            line_id="L1",
            date=date(2026, 11, 26),
            shift="A",
            assignments=[p.StationAssignment(employee_id="E7", station="ST-01")],
            required=[p.StationRequirement(station="ST-01", headcount=2)],
            unqualified_assignments=[],
        ),
        "L1",
    )
    republished = env(
        p.RosterPublished(
            line_id="L1",
            date=date(2026, 11, 26),
            shift="A",
            assignments=[],
            required=[p.StationRequirement(station="ST-01", headcount=3)],
            unqualified_assignments=[],
        ),
        "L1",
        30,
    )
    for order in ((roster, republished), (republished, roster)):
        assert merged(rows_of(*order))["rosters"][0]["required"] == [{"station": "ST-01", "headcount": 3}]


def test_a_calendar_is_kept_with_its_version() -> None:
    cal = p.CalendarPublished(
        line_id="L1",
        version=2,
        time_zone="Europe/Berlin",
        valid_from=date(2026, 6, 1),
        working_days=[5, 1, 2, 3, 4, 1],
        holidays=[date(2026, 12, 25)],
        shifts=[p.ShiftDefinition(code="A", start=time(6), end=time(14), breaks=[])],
    )
    row = merged(rows_of(env(cal, "L1")))["calendars"][0]
    assert (row["version"], row["working_days"], row["holidays"]) == (2, [1, 2, 3, 4, 5], ["2026-12-25"])
    assert row["shifts"] == [{"code": "A", "start": "06:00:00", "end": "14:00:00", "breaks": []}]


def test_upserts_compile_with_the_merge_rules() -> None:
    sql = str(MERGERS["kits"].statement().compile(dialect=postgresql.dialect()))
    assert "ON CONFLICT (serial) DO UPDATE" in sql
    assert "least(projection.kits.received_at, excluded.received_at)" in sql
    assert "CASE WHEN" in sql
    facts = str(MERGERS["station_events"].statement().compile(dialect=postgresql.dialect()))
    assert "ON CONFLICT (event_id) DO NOTHING" in facts


def test_fact_rows_carry_their_event_id() -> None:
    arrived = env(
        v.VehicleArrived(vin=VIN, line_id="L1", station="ST-02", terminal_event_id="t-1", operator_id=None), VIN
    )
    effects = fold(arrived, 5)
    assert effects is not None
    (table, row) = effects.rows[0]
    assert table == "station_events" and row["event_id"] == arrived.id and isinstance(row["event_id"], uuid.UUID)
