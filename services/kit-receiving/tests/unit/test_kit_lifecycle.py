from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import count

import pytest

from kit_receiving.domain import (
    ClaimCode,
    Conflict,
    CountedLine,
    DiscrepancyRecorded,
    DiscrepancyStatus,
    Finding,
    InvalidInput,
    Kit,
    KitAmended,
    KitAnnounced,
    KitBom,
    KitCancelled,
    KitQuarantined,
    KitReceived,
    KitStatus,
    NotFound,
    QuarantineLifted,
    Resolution,
)


def ids() -> Iterator[str]:
    return (f"d-{n}" for n in count(1))


def announced(t0: datetime, serial: str = "K-1") -> Kit:
    kit, _ = Kit.announce(
        serial=serial, kit_type="TRK-6X4-A", bom_version=3, shipment_id="SH-1", cases=("C-1", "C-2"), at=t0
    )
    return kit


def test_announce_creates_an_announced_kit_and_says_so(t0: datetime) -> None:
    kit, events = Kit.announce(
        serial="K-1", kit_type="TRK-6X4-A", bom_version=3, shipment_id="SH-1", cases=["C-1"], at=t0
    )
    assert (kit.status, kit.unannounced, kit.cases, kit.shipment_id) == (
        KitStatus.ANNOUNCED,
        False,
        ("C-1",),
        "SH-1",
    )
    assert events == [
        KitAnnounced(
            kit_serial="K-1",
            kit_type="TRK-6X4-A",
            bom_version=3,
            shipment_id="SH-1",
            cases=("C-1",),
            announced_at=t0,
        )
    ]


def test_announce_refuses_duplicate_cases_and_naive_times(t0: datetime) -> None:
    with pytest.raises(InvalidInput, match="C-1"):
        Kit.announce(serial="K-1", kit_type="T", bom_version=1, shipment_id=None, cases=("C-1", "C-1"), at=t0)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        Kit.announce(serial="K-1", kit_type="T", bom_version=1, shipment_id=None, cases=(), at=datetime(2025, 1, 1))


def test_a_clean_receipt_leaves_the_kit_received_with_one_event(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    events = kit.receive(t0, bom, [], ids())
    assert kit.status is KitStatus.RECEIVED and kit.received_at == t0 and kit.discrepancies == ()
    assert events == [
        KitReceived(
            kit_serial="K-1",
            kit_type="TRK-6X4-A",
            bom_version=3,
            shipment_id="SH-1",
            unannounced=False,
            cases=("C-1", "C-2"),
            discrepancy_count=0,
            received_at=t0,
        )
    ]


def test_a_receipt_with_discrepancies_quarantines_the_kit(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    lines = [CountedLine("P-300", 0), CountedLine("P-200", 20, (Finding(ClaimCode.DT, 1, "dented"),))]
    events = kit.receive(t0, bom, lines, ids())

    assert kit.status is KitStatus.QUARANTINED
    assert [(d.id, d.claim_code, d.kit_serial, d.recorded_at) for d in kit.discrepancies] == [
        ("d-1", ClaimCode.M, "K-1", t0),
        ("d-2", ClaimCode.DT, "K-1", t0),
    ]
    assert [type(e) for e in events] == [
        KitReceived,
        DiscrepancyRecorded,
        DiscrepancyRecorded,
        KitQuarantined,
    ]
    assert events[0].discrepancy_count == 2  # type: ignore[attr-defined]
    assert events[2] == DiscrepancyRecorded(
        kit_serial="K-1",
        discrepancy_id="d-2",
        claim_code=ClaimCode.DT,
        part_number="P-200",
        quantity=1,
        station="ST-12",
        note="dented",
        recorded_at=t0,
    )
    assert events[3] == KitQuarantined(kit_serial="K-1", open_discrepancy_ids=("d-1", "d-2"), quarantined_at=t0)


def test_a_surplus_alone_also_quarantines_until_someone_decides(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    kit.receive(t0, bom, [CountedLine("P-100", 2)], ids())
    assert kit.status is KitStatus.QUARANTINED


def test_a_second_receipt_is_a_conflict_and_changes_nothing(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = announced(t0)
    kit.receive(t0, bom, [], ids())
    with pytest.raises(Conflict) as err:
        kit.receive(later, bom, [CountedLine("P-300", 0)], ids())
    assert err.value.rule == "kit.receive.already-received" and "received" in err.value.message
    assert (kit.status, kit.received_at, kit.discrepancies) == (KitStatus.RECEIVED, t0, ())


def test_a_refused_receipt_leaves_the_kit_announced(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    with pytest.raises(InvalidInput):
        kit.receive(t0, bom, [CountedLine("P-300", 0), CountedLine("P-300", 1)], ids())
    assert kit.status is KitStatus.ANNOUNCED and kit.received_at is None


def test_receipt_needs_the_kit_own_bom_and_enough_ids(bom: KitBom, t0: datetime) -> None:
    other = KitBom("TRK-4X2-B", 3, bom.lines)
    with pytest.raises(InvalidInput, match="TRK-4X2-B v3"):
        announced(t0).receive(t0, other, [], ids())
    with pytest.raises(InvalidInput, match="2 discrepancies found but only 1 ids"):
        announced(t0).receive(t0, bom, [CountedLine("P-100", 0), CountedLine("P-300", 0)], ["d-1"])
    with pytest.raises(InvalidInput, match="not unique"):
        announced(t0).receive(t0, bom, [CountedLine("P-100", 0), CountedLine("P-300", 0)], ["d-1", "d-1"])


def test_an_unannounced_kit_is_received_flagged_and_checked(bom: KitBom, t0: datetime) -> None:
    kit, events = Kit.receive_unannounced(
        serial="K-9",
        bom=bom,
        at=t0,
        counted_lines=[CountedLine("P-100", 0)],
        discrepancy_ids=ids(),
        cases=["C-7"],
    )
    assert (kit.unannounced, kit.shipment_id, kit.kit_type, kit.bom_version) == (True, None, "TRK-6X4-A", 3)
    assert kit.status is KitStatus.QUARANTINED and kit.cases == ("C-7",)
    assert isinstance(events[0], KitReceived) and events[0].unannounced and events[0].shipment_id is None


def test_an_unannounced_clean_kit_is_simply_received(bom: KitBom, t0: datetime) -> None:
    kit, events = Kit.receive_unannounced(serial="K-9", bom=bom, at=t0, counted_lines=[], discrepancy_ids=[])
    assert kit.status is KitStatus.RECEIVED and kit.unannounced and len(events) == 1


def test_cancel_an_announced_kit_and_repeat_it_harmlessly(t0: datetime) -> None:
    kit = announced(t0)
    assert kit.cancel(t0, "ASN corrected") == [
        KitCancelled(kit_serial="K-1", shipment_id="SH-1", reason="ASN corrected", cancelled_at=t0)
    ]
    assert kit.status is KitStatus.CANCELLED and kit.cancelled_at == t0
    assert kit.cancel(t0) == []


def test_a_received_kit_cannot_be_cancelled(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    kit.receive(t0, bom, [], ids())
    with pytest.raises(Conflict) as err:
        kit.cancel(t0)
    assert err.value.rule == "kit.cancel.not-announced" and "is received" in err.value.message


def test_a_cancelled_kit_cannot_be_received(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    kit.cancel(t0)
    with pytest.raises(Conflict) as err:
        kit.receive(t0, bom, [], ids())
    assert err.value.rule == "kit.receive.cancelled"


def test_amend_changes_an_announced_kit_only(bom: KitBom, t0: datetime) -> None:
    kit = announced(t0)
    assert kit.amend(kit_type="TRK-6X4-A", bom_version=3, cases=("C-1", "C-2"), at=t0) == []
    events = kit.amend(kit_type="TRK-4X2-B", bom_version=1, cases=("C-9",), at=t0)
    assert events == [KitAmended(kit_serial="K-1", kit_type="TRK-4X2-B", bom_version=1, cases=("C-9",), amended_at=t0)]
    assert (kit.kit_type, kit.bom_version, kit.cases) == ("TRK-4X2-B", 1, ("C-9",))
    received = announced(t0, "K-2")
    received.receive(t0, bom, [], ids())
    with pytest.raises(Conflict):
        received.amend(kit_type="X", bom_version=1, cases=(), at=t0)


def quarantined(bom: KitBom, t0: datetime) -> Kit:
    kit = announced(t0)
    kit.receive(t0, bom, [CountedLine("P-300", 0), CountedLine("P-100", 2)], ids())  # d-1 M, d-2 surplus
    return kit


def test_quarantine_stays_while_any_discrepancy_is_open(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = quarantined(bom, t0)
    events = kit.resolve("d-2", Resolution.WRITTEN_OFF, later, "dock.lead", "kept as spare")
    assert kit.status is KitStatus.QUARANTINED
    assert len(events) == 1 and events[0].status is DiscrepancyStatus.RESOLVED  # type: ignore[attr-defined]
    assert kit.discrepancy("d-2").resolution_note == "kept as spare"


def test_resolving_the_last_open_discrepancy_lifts_quarantine(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = quarantined(bom, t0)
    kit.resolve("d-2", Resolution.WRITTEN_OFF, later, "dock.lead")
    events = kit.resolve("d-1", Resolution.SHORTAGE_ACCEPTED, later, "dock.lead")
    assert kit.status is KitStatus.RECEIVED
    assert events[-1] == QuarantineLifted(kit_serial="K-1", lifted_at=later)
    resolved = events[0]
    assert (resolved.discrepancy_id, resolved.resolution, resolved.build_short) == (  # type: ignore[attr-defined]
        "d-1",
        Resolution.SHORTAGE_ACCEPTED,
        False,  # not build-short until released
    )


def test_resolve_repeated_is_idempotent_and_different_is_a_conflict(bom: KitBom, t0: datetime) -> None:
    kit = quarantined(bom, t0)
    kit.resolve("d-1", Resolution.REPLACEMENT_RECEIVED, t0, "dock.lead")
    assert kit.resolve("d-1", Resolution.REPLACEMENT_RECEIVED, t0, "dock.lead") == []
    with pytest.raises(Conflict):
        kit.resolve("d-1", Resolution.WRITTEN_OFF, t0, "dock.lead")
    assert kit.discrepancy("d-1").resolution is Resolution.REPLACEMENT_RECEIVED


def test_resolving_an_unknown_discrepancy_is_not_found(bom: KitBom, t0: datetime) -> None:
    with pytest.raises(NotFound) as err:
        quarantined(bom, t0).resolve("d-99", Resolution.WRITTEN_OFF, t0, "dock.lead")
    assert err.value.message == "kit K-1 has no discrepancy d-99"
