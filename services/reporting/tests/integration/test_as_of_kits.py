"""`/kits?at=` counts kits by the status each had at that instant, and the discrepancies open then.

It once counted today's statuses whatever `at` said (found by an independent plant scenario)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from reporting_story import t
from reporting_support import Api, Bus, unique, wrap

from mes_shared.auth import Role
from mes_shared.events import kits as k

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def kit_history(producer: Any, client: Any) -> str:
    kit_type, serial, other = unique("KT"), unique("KIT"), unique("KIT")
    bom = k.KitTypeBomPublished(
        kit_type=kit_type,
        model="HTX",
        variant="6x4",
        version=1,
        lines=[k.BomLine(part_number="P-9", description="bracket", quantity=2, station="ST-02")],
    )

    def announced(s: str) -> Any:
        return k.KitAnnounced(
            serial=s, kit_type=kit_type, bom_version=1, shipment_id="ASN-9", cases=["C1"], expected_arrival=t(8)
        )

    recorded = k.DiscrepancyRecorded(
        serial=serial, discrepancy_id="D1", claim_code="S", part_number="P-9", quantity=1, station="ST-02", note=""
    )
    resolved = k.DiscrepancyResolved(
        serial=serial,
        discrepancy_id="D1",
        claim_code="S",
        part_number="P-9",
        quantity=1,
        station="ST-02",
        resolution="shortage_accepted",
        discrepancy_status="shortage_accepted",
        resolved_by="lead",
        note="",
        kit_status="quarantined",
        build_short=False,
        waiting_stations=[],
    )
    received = k.KitReceived(
        serial=serial,
        kit_type=kit_type,
        bom_version=1,
        shipment_id="ASN-9",
        unannounced=False,
        dock="D1",
        received_by="dock",
        discrepancy_count=1,
        status="quarantined",
    )
    released = k.KitReleased(
        serial=serial,
        kit_type=kit_type,
        bom_version=1,
        build_short=True,
        waiting_stations=["ST-02"],
        missing_parts=[],
        released_by="lead",
    )

    def asn(kind: type[k.ShipmentAnnounced], eta: datetime, **extra: Any) -> k.ShipmentAnnounced:
        kits = [k.AnnouncedKit(serial=s, kit_type=kit_type, bom_version=1, cases=["C1"]) for s in (serial, other)]
        return kind(shipment_id="ASN-9", carrier="Rail", origin="Sister", expected_arrival=eta, kits=kits, **extra)

    events = [
        wrap(bom, kit_type, t(5)),
        wrap(asn(k.ShipmentAnnounced, t(8)), "ASN-9", t(6)),
        # At 07:00 the ASN is corrected: the train comes at 14:00, not 08:00.
        wrap(asn(k.ShipmentCorrected, t(14), added_serials=[], removed_serials=[]), "ASN-9", t(7)),
        # Published out of time order: the later facts first.
        wrap(k.KitConsumed(serial=serial, vin="VIN-1"), serial, t(11)),
        wrap(released, serial, t(10)),
        wrap(k.KitQuarantineLifted(serial=serial, accepted_shortages=[]), serial, t(9, 30)),
        wrap(resolved, serial, t(9)),
        wrap(k.KitQuarantined(serial=serial, open_discrepancy_ids=["D1"], claim_codes=["S"]), serial, t(8, 1)),
        wrap(recorded, serial, t(8)),
        wrap(received, serial, t(8)),
        wrap(announced(serial), serial, t(6)),
        wrap(announced(other), other, t(6, 30)),
    ]
    await Bus(producer, Api(client, Role.ADMIN)).publish(*events)
    return kit_type


@pytest.mark.parametrize(
    ("at", "by_status", "open_claims", "accepted", "next_arrival"),
    [
        (t(5, 30), {}, {}, 0, None),
        (t(6, 45), {"announced": 2}, {}, 0, t(8)),
        (t(7), {"announced": 2}, {}, 0, t(14)),
        (t(8, 30), {"announced": 1, "quarantined": 1}, {"S": 1}, 0, t(14)),
        (t(9, 15), {"announced": 1, "quarantined": 1}, {}, 1, t(14)),
        (t(9, 45), {"announced": 1, "received": 1}, {}, 1, t(14)),
        (t(10, 30), {"announced": 1, "released": 1}, {}, 1, t(14)),
        (t(12), {"announced": 1, "consumed": 1}, {}, 1, t(14)),
    ],
)
async def test_kits_as_of_an_instant_count_the_statuses_and_claims_of_that_instant(
    kit_history: str,
    manager: Api,
    at: datetime,
    by_status: dict[str, int],
    open_claims: dict[str, int],
    accepted: int,
    next_arrival: datetime | None,
) -> None:
    view = await manager.json("/kits", kit_type=kit_history, at=at.isoformat())
    assert view["by_status"] == by_status
    assert view["open_discrepancies_by_claim_code"] == open_claims
    assert view["accepted_shortages"] == accepted
    assert view["in_transit"] == by_status.get("announced", 0)
    assert (datetime.fromisoformat(view["next_arrival"]) if view["next_arrival"] else None) == next_arrival
