"""A kit's life through HTTP, with its events read back from the real `mes.kits` topic."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from mes_shared.testing import KafkaTap

CONSUMING_STATIONS = ["ST-02"]


async def test_announce_receive_quarantine_resolve_release_build_short(
    api: Any, kit_type: str, tap: KafkaTap, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, good, short = new_id("ASN"), new_id("KIT"), new_id("KIT")
    r = await api.post(
        "/shipments", asn(shipment, kit_type, [good, short]), headers={"X-Correlation-ID": "corr-" + shipment}
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "announced"
    assert [k["status"] for k in r.json()["kits"]] == ["announced", "announced"]

    # Nothing counted: complete as announced.
    r = await api.post(f"/kits/{good}/receipt", {"dock": "DOCK-1"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received" and r.json()["discrepancies"] == []

    # One axle short, two bolts damaged in transport, and a part that is not in the BOM.
    r = await api.post(
        f"/kits/{short}/receipt",
        {
            "dock": "DOCK-1",
            "lines": [
                {"part_number": "AXL-200", "counted": 1},
                {
                    "part_number": "BLT-M12",
                    "counted": 48,
                    "findings": [{"claim_code": "DT", "quantity": 2, "note": "bent"}],
                },
                {"part_number": "XYZ-999", "counted": 1},
            ],
        },
    )
    assert r.status_code == 200, r.text
    kit = r.json()
    assert kit["status"] == "quarantined"
    found = {(d["claim_code"], d["part_number"], d["quantity"]) for d in kit["discrepancies"]}
    assert found == {("S", "AXL-200", 1), ("DT", "BLT-M12", 2), ("W", "XYZ-999", 1)}
    ids = {d["claim_code"]: d["id"] for d in kit["discrepancies"]}

    shipment_view = (await api.get(f"/shipments/{shipment}")).json()
    assert shipment_view["status"] == "received"

    # Release is refused while anything is open, and the problem names what is open.
    r = await api.post(f"/kits/{short}/release")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["rule"] == "kit.release.open-discrepancies"
    assert set(r.json()["open_discrepancies"]) == set(ids.values())

    for code, resolution in (("S", "shortage_accepted"), ("DT", "replacement_received"), ("W", "written_off")):
        r = await api.post(f"/kits/{short}/discrepancies/{ids[code]}/resolution", {"resolution": resolution})
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"

    r = await api.post(f"/kits/{short}/release")
    assert r.status_code == 200, r.text
    released = r.json()
    assert released["status"] == "released"
    assert released["build_short"] is True
    assert released["waiting_stations"] == CONSUMING_STATIONS
    assert [p["part_number"] for p in released["missing_parts"]] == ["AXL-200"]

    # The missing axle arrives later: the waiting station is freed.
    r = await api.post(f"/kits/{short}/discrepancies/{ids['S']}/resolution", {"resolution": "replacement_received"})
    assert r.status_code == 200, r.text
    assert r.json()["build_short"] is False and r.json()["waiting_stations"] == []

    events = await tap.wait_for(short, 12)
    assert [e.type for e in events] == [
        "mes.kit.announced.v1",
        "mes.kit.received.v1",
        "mes.kit.discrepancy-recorded.v1",
        "mes.kit.discrepancy-recorded.v1",
        "mes.kit.discrepancy-recorded.v1",
        "mes.kit.quarantined.v1",
        "mes.kit.discrepancy-resolved.v1",
        "mes.kit.discrepancy-resolved.v1",
        "mes.kit.discrepancy-resolved.v1",
        "mes.kit.quarantine-lifted.v1",
        "mes.kit.released.v1",
        "mes.kit.discrepancy-resolved.v1",
    ]
    released_event = events[10].payload()
    assert released_event.build_short is True and released_event.waiting_stations == CONSUMING_STATIONS
    assert events[-1].payload().waiting_stations == []
    assert all(e.source == "/mes/kit-receiving" and e.subject == short for e in events)

    shipment_events = await tap.wait_for(shipment, 1)
    assert shipment_events[0].type == "mes.shipment.announced.v1"
    assert shipment_events[0].correlationid == "corr-" + shipment
    assert events[0].correlationid == "corr-" + shipment

    detail = (await api.get(f"/kits/{short}")).json()
    assert [h["action"] for h in detail["history"]] == [
        "kit-announced",
        "kit-received",
        "discrepancy-recorded",
        "discrepancy-recorded",
        "discrepancy-recorded",
        "kit-quarantined",
        "discrepancy-resolved",
        "discrepancy-resolved",
        "discrepancy-resolved",
        "quarantine-lifted",
        "kit-released",
        "discrepancy-resolved",
    ]
    assert {h["actor"] for h in detail["history"]} == {"logistics-tester"}


async def test_resend_with_same_key_is_answered_once(
    api: Any, kit_type: str, tap: KafkaTap, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, serial = new_id("ASN"), new_id("KIT")
    assert (await api.post("/shipments", asn(shipment, kit_type, [serial]))).status_code == 201
    body = {"dock": "DOCK-2", "lines": [{"part_number": "CAB-100", "counted": 0}]}
    first = await api.post(f"/kits/{serial}/receipt", body, key="scan-42-" + serial)
    again = await api.post(f"/kits/{serial}/receipt", body, key="scan-42-" + serial)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.json() == again.json()

    other = await api.post(f"/kits/{serial}/receipt", {"dock": "DOCK-9"}, key="scan-42-" + serial)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"

    # The sender resends its whole ASN under a new key: nothing changes, nothing is published twice.
    resent = await api.post("/shipments", asn(shipment, kit_type, [serial]))
    assert resent.status_code == 200

    # A later fact for the kit proves the tap has caught up with everything published before it.
    [discrepancy] = first.json()["discrepancies"]
    await api.post(f"/kits/{serial}/discrepancies/{discrepancy['id']}/resolution", {"resolution": "written_off"})
    events = await tap.wait_for(serial, 6)
    assert [e.type for e in events].count("mes.kit.received.v1") == 1
    assert [e.type for e in events].count("mes.kit.announced.v1") == 1
    assert len(tap.envelopes(shipment)) == 1


async def test_a_kit_nobody_announced_is_received_and_flagged(
    api: Any, kit_type: str, tap: KafkaTap, new_id: Callable[[str], str]
) -> None:
    serial = new_id("STRAY")
    r = await api.post(f"/kits/{serial}/receipt", {"dock": "DOCK-3", "kit_type": kit_type, "cases": ["C-9"]})
    assert r.status_code == 200, r.text
    assert r.json()["unannounced"] is True and r.json()["shipment_id"] is None
    assert r.json()["status"] == "received"
    flagged = (await api.get("/kits", unannounced="true", kit_type=kit_type)).json()
    assert [k["serial"] for k in flagged["items"]] == [serial]
    [event] = await tap.wait_for(serial, 1)
    received = event.payload()
    assert event.type == "mes.kit.received.v1" and received.unannounced is True and received.dock == "DOCK-3"


async def test_correct_then_cancel_before_arrival_and_refuse_after(
    api: Any, kit_type: str, tap: KafkaTap, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, a, b, c = new_id("ASN"), new_id("KIT"), new_id("KIT"), new_id("KIT")
    assert (await api.post("/shipments", asn(shipment, kit_type, [a, b]))).status_code == 201
    corrected = asn(shipment, kit_type, [a, c])
    corrected.pop("shipment_id")
    corrected["carrier"] = "RoadFreight"
    r = await api.put(f"/shipments/{shipment}", corrected)
    assert r.status_code == 200, r.text
    statuses = {k["serial"]: k["status"] for k in r.json()["kits"]}
    assert statuses == {a: "announced", b: "cancelled", c: "announced"}
    assert r.json()["carrier"] == "RoadFreight"
    [fix] = [e for e in await tap.wait_for(shipment, 2) if e.type == "mes.shipment.corrected.v1"]
    assert fix.payload().added_serials == [c] and fix.payload().removed_serials == [b]
    assert [e.type for e in await tap.wait_for(b, 2)] == ["mes.kit.announced.v1", "mes.kit.cancelled.v1"]

    r = await api.post(f"/kits/{a}/receipt", {"dock": "DOCK-1"})
    assert r.status_code == 200
    r = await api.post(f"/shipments/{shipment}/cancel", {"reason": "train delayed"})
    assert r.status_code == 409
    assert r.json()["rule"] == "shipment.cancel.kits-received"
    assert a in r.json()["detail"]

    other, d = new_id("ASN"), new_id("KIT")
    assert (await api.post("/shipments", asn(other, kit_type, [d]))).status_code == 201
    r = await api.post(f"/shipments/{other}/cancel", {"reason": "order withdrawn"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["cancel_reason"] == "order withdrawn"
    r = await api.post(f"/kits/{d}/receipt", {"dock": "DOCK-1"})
    assert r.status_code == 409 and r.json()["rule"] == "kit.receive.cancelled"


async def test_bom_versions_old_kits_keep_theirs(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    shipment, old = new_id("ASN"), new_id("KIT")
    assert (await api.post("/shipments", asn(shipment, kit_type, [old]))).status_code == 201
    r = await api.post(
        f"/kit-types/{kit_type}/bom-versions",
        {
            "lines": [
                {"part_number": "CAB-100", "description": "Cab shell (local)", "quantity": 1, "station": "ST-01"},
                {"part_number": "AXL-210", "description": "Rear axle, heavier", "quantity": 2, "station": "ST-02"},
            ]
        },
    )
    assert r.status_code == 201 and r.json()["current_version"] == 2
    # The old kit is still checked against v1: AXL-200 is expected, AXL-210 is not in its BOM.
    r = await api.post(f"/kits/{old}/receipt", {"dock": "D", "lines": [{"part_number": "AXL-210", "counted": 2}]})
    assert r.json()["bom_version"] == 1
    assert [(d["claim_code"], d["part_number"]) for d in r.json()["discrepancies"]] == [("W", "AXL-210")]
    v1 = (await api.get(f"/kit-types/{kit_type}", version=1)).json()
    assert {ln["part_number"] for ln in v1["bom"]["lines"]} == {"CAB-100", "AXL-200", "BLT-M12", "HRN-300"}
    new_shipment, new = new_id("ASN"), new_id("KIT")
    r = await api.post("/shipments", asn(new_shipment, kit_type, [new]))
    assert r.json()["kits"][0]["bom_version"] == 2


async def test_a_past_week_keeps_the_times_it_happened_at(
    api: Any, kit_type: str, tap: KafkaTap, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str]
) -> None:
    """Facts written down after they happened (an offline dock scanner, yesterday's decision, a replayed
    window): each write takes its own time and the events carry it, so reports bucket them where they belong."""
    shipment, serial = new_id("ASN"), new_id("KIT")
    announced_at, received_at, resolved_at, released_at = (days_ago(d) for d in (6, 5, 4.5, 4))

    r = await api.post("/shipments", asn(shipment, kit_type, [serial]) | {"announced_at": announced_at.isoformat()})
    assert r.status_code == 201, r.text
    receipt = {
        "dock": "DOCK-2",
        "received_at": received_at.isoformat(),
        "lines": [{"part_number": "AXL-200", "counted": 1}],
    }
    r = await api.post(f"/kits/{serial}/receipt", receipt)
    assert r.status_code == 200, r.text
    (short,) = r.json()["discrepancies"]
    decision = {"resolution": "shortage_accepted", "resolved_at": resolved_at.isoformat()}
    r = await api.post(f"/kits/{serial}/discrepancies/{short['id']}/resolution", decision)
    assert r.status_code == 200, r.text
    r = await api.post(f"/kits/{serial}/release", {"released_at": released_at.isoformat()})
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["status"] == "released" and detail["build_short"] is True
    assert datetime.fromisoformat(detail["received_at"]) == received_at

    events = await tap.wait_for(serial, 7)
    assert [(e.type, e.time) for e in events] == [
        ("mes.kit.announced.v1", announced_at),
        ("mes.kit.received.v1", received_at),
        ("mes.kit.discrepancy-recorded.v1", received_at),
        ("mes.kit.quarantined.v1", received_at),
        ("mes.kit.discrepancy-resolved.v1", resolved_at),
        ("mes.kit.quarantine-lifted.v1", resolved_at),
        ("mes.kit.released.v1", released_at),
    ]
    assert (await tap.wait_for(shipment, 1))[0].time == announced_at


def days_ago(days: float) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0)


async def test_a_bom_version_dated_in_the_past_checks_the_kits_announced_from_then_on(
    api: Any,
    tap: KafkaTap,
    asn: Callable[..., dict[str, Any]],
    new_id: Callable[[str], str],
    bom_lines: list[dict[str, Any]],
) -> None:
    """BOM versions entered late (an import of the sister plant's history, a replay) take effect at their own
    time: a kit announced (or received unannounced) at an instant is checked against the version in force then."""
    code, v1_from, v2_from = new_id("HTX"), days_ago(10), days_ago(5)
    body = {"code": code, "model": "HTX-6x4", "variant": "tractor", "lines": bom_lines}
    r = await api.post("/kit-types", body | {"effective_from": v1_from.isoformat()})
    assert r.status_code == 201 and datetime.fromisoformat(r.json()["bom"]["effective_from"]) == v1_from, r.text
    v2_lines = [ln | {"part_number": "AXL-210"} if ln["part_number"] == "AXL-200" else ln for ln in bom_lines]
    r = await api.post(f"/kit-types/{code}/bom-versions", {"lines": v2_lines, "effective_from": v2_from.isoformat()})
    assert r.status_code == 201 and r.json()["current_version"] == 2, r.text
    assert datetime.fromisoformat(r.json()["bom"]["effective_from"]) == v2_from
    assert datetime.fromisoformat(r.json()["bom"]["published_at"]) > days_ago(0.01)  # entered now

    # Versions follow each other in time: one dated before the current version is refused, naming both times.
    earlier = days_ago(7)
    r = await api.post(f"/kit-types/{code}/bom-versions", {"lines": bom_lines, "effective_from": earlier.isoformat()})
    assert r.status_code == 409 and r.json()["rule"] == "bom.effective-before-current", r.text
    assert v2_from.isoformat() in r.json()["detail"] and earlier.isoformat() in r.json()["detail"]
    r = await api.post(
        f"/kit-types/{code}/bom-versions", {"lines": bom_lines, "effective_from": days_ago(-1).isoformat()}
    )
    assert r.status_code == 422 and r.json()["rule"] == "effective_from.in-future", r.text
    assert (await api.get(f"/kit-types/{code}")).json()["versions"] == [1, 2]

    # Announced before v2 took effect: v1, kept for good; after it: v2. Received unannounced: the same, by receipt.
    announced, announced_at = {}, {days: days_ago(days) for days in (8, 3)}
    for days in (8, 3):
        shipment, serial = new_id("ASN"), new_id("KIT")
        r = await api.post(
            "/shipments", asn(shipment, code, [serial]) | {"announced_at": announced_at[days].isoformat()}
        )
        assert r.status_code == 201, r.text
        announced[days] = r.json()["kits"][0]["bom_version"]
    assert announced == {8: 1, 3: 2}
    received = {}
    for days in (6, 4):
        serial = new_id("KIT")
        r = await api.post(
            f"/kits/{serial}/receipt", {"dock": "D", "kit_type": code, "received_at": days_ago(days).isoformat()}
        )
        assert r.status_code == 200, r.text
        received[days] = r.json()["bom_version"]
    assert received == {6: 1, 4: 2}
    # A version dated before a kit was announced would have been its version, but the kit keeps its own: refused.
    r = await api.post(
        f"/kit-types/{code}/bom-versions", {"lines": bom_lines, "effective_from": days_ago(3.5).isoformat()}
    )
    assert r.status_code == 409 and r.json()["rule"] == "bom.effective-before-announced-kit", r.text
    assert announced_at[3].isoformat() in r.json()["detail"]

    # The BOM as it was at an instant; the events are dated when each version took effect.
    at = {days: (await api.get(f"/kit-types/{code}", at=days_ago(days).isoformat())).json() for days in (30, 6, 1)}
    assert [at[d]["bom"]["version"] for d in (30, 6, 1)] == [1, 1, 2]  # before v1 took effect, v1 was all there was
    published = await tap.wait_for(code, 2)
    assert [(e.type, e.payload().version, e.time) for e in published] == [
        ("mes.kit-type.bom-published.v1", 1, v1_from),
        ("mes.kit-type.bom-published.v1", 2, v2_from),
    ]


async def test_a_back_dated_bom_version_racing_announcements_governs_them_or_is_refused(
    api: Any, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str], bom_lines: list[dict[str, Any]]
) -> None:
    """A version dated before kits were announced would be theirs: it is either published before they are
    announced (they take it) or refused because they were (they keep theirs), never accepted behind them."""
    for _ in range(3):
        code, announced_at = new_id("HTX"), days_ago(0.01)
        body = {"code": code, "model": "HTX-6x4", "variant": "tractor", "lines": bom_lines}
        assert (await api.post("/kit-types", body | {"effective_from": days_ago(1).isoformat()})).status_code == 201
        v2 = {"lines": bom_lines[:2], "effective_from": (announced_at - timedelta(minutes=1)).isoformat()}
        *announcements, published = await asyncio.gather(
            *(
                api.post(
                    "/shipments", asn(new_id("ASN"), code, [new_id("KIT")]) | {"announced_at": announced_at.isoformat()}
                )
                for _ in range(4)
            ),
            api.post(f"/kit-types/{code}/bom-versions", v2),
        )
        assert all(r.status_code == 201 for r in announcements), [r.text for r in announcements]
        versions = {r.json()["kits"][0]["bom_version"] for r in announcements}
        if published.status_code == 201:
            assert versions == {2}
        else:
            assert published.json()["rule"] == "bom.effective-before-announced-kit", published.text
            assert versions == {1}
