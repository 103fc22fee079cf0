from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count

import pytest

from kit_receiving.domain import (
    ClaimCode,
    Conflict,
    CountedLine,
    DiscrepancyResolved,
    Finding,
    InvalidInput,
    Kit,
    KitBom,
    KitConsumed,
    KitReleased,
    KitStatus,
    MissingPart,
    ReleaseBlocked,
    Resolution,
)

VIN = "1HTMKAAR5CH123456"


def ids() -> Iterator[str]:
    return (f"d-{n}" for n in count(1))


def received(bom: KitBom, t0: datetime, lines: list[CountedLine] | None = None) -> Kit:
    kit, _ = Kit.announce(serial="K-1", kit_type="TRK-6X4-A", bom_version=3, shipment_id="SH-1", cases=(), at=t0)
    kit.receive(t0, bom, lines or [], ids())
    return kit


def short_received(bom: KitBom, t0: datetime) -> Kit:
    """Shortages accepted: d-1 M P-300 (ST-20), d-2 S P-200 (ST-12), d-3 D P-400 (ST-05)."""
    kit = received(
        bom,
        t0,
        [
            CountedLine("P-300", 0),
            CountedLine("P-200", 15),
            CountedLine("P-400", 1, (Finding(ClaimCode.D, 1),)),
        ],
    )
    for d_id in ("d-1", "d-2", "d-3"):
        kit.resolve(d_id, Resolution.SHORTAGE_ACCEPTED, t0, "dock.lead")
    return kit


def short_kit(bom: KitBom, t0: datetime) -> Kit:
    kit = short_received(bom, t0)
    kit.release(t0, "logistics")
    return kit


def test_a_clear_kit_is_released_complete(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = received(bom, t0)
    events = kit.release(later, "logistics")
    assert (kit.status, kit.released_at, kit.released_by, kit.build_short) == (
        KitStatus.RELEASED,
        later,
        "logistics",
        False,
    )
    assert events == [
        KitReleased(
            kit_serial="K-1",
            kit_type="TRK-6X4-A",
            bom_version=3,
            released_by="logistics",
            build_short=False,
            waiting_stations=(),
            missing_parts=(),
            released_at=later,
        )
    ]


def test_release_is_blocked_naming_every_open_discrepancy(bom: KitBom, t0: datetime) -> None:
    kit = received(bom, t0, [CountedLine("P-300", 0), CountedLine("P-100", 3), CountedLine("P-200", 19)])
    kit.resolve("d-3", Resolution.REPLACEMENT_RECEIVED, t0, "dock.lead")
    with pytest.raises(ReleaseBlocked) as err:
        kit.release(t0, "logistics")
    assert isinstance(err.value, Conflict) and err.value.rule == "kit.release.open-discrepancies"
    assert err.value.open_discrepancies == (("d-1", "M"), ("d-2", "surplus"))
    assert err.value.open_discrepancy_ids == ("d-1", "d-2")
    assert "d-1 (M)" in err.value.message and "d-2 (surplus)" in err.value.message
    assert kit.status is KitStatus.QUARANTINED and kit.released_at is None


def test_releasing_a_released_kit_is_idempotent(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = received(bom, t0)
    kit.release(t0, "logistics")
    assert kit.release(later, "someone.else") == []
    assert (kit.released_at, kit.released_by) == (t0, "logistics")


@pytest.mark.parametrize("setup", ["announced", "cancelled", "consumed"])
def test_release_is_refused_outside_received(bom: KitBom, t0: datetime, setup: str) -> None:
    kit, _ = Kit.announce(serial="K-1", kit_type="TRK-6X4-A", bom_version=3, shipment_id=None, cases=(), at=t0)
    if setup == "cancelled":
        kit.cancel(t0)
    elif setup == "consumed":
        kit.receive(t0, bom, [], ids())
        kit.release(t0, "logistics")
        kit.consume(t0, VIN)
    with pytest.raises(Conflict) as err:
        kit.release(t0, "logistics")
    assert not isinstance(err.value, ReleaseBlocked)
    assert err.value.rule == "kit.release.not-received" and f"is {setup}" in err.value.message


def test_accepted_shortages_release_build_short_with_waiting_stations(bom: KitBom, t0: datetime) -> None:
    kit = short_received(bom, t0)
    assert not kit.build_short  # a shortage only makes a kit build-short when it goes to the line
    events = kit.release(t0, "logistics")
    assert kit.build_short and kit.waiting_stations == ("ST-05", "ST-12", "ST-20")
    assert events == [
        KitReleased(
            kit_serial="K-1",
            kit_type="TRK-6X4-A",
            bom_version=3,
            released_by="logistics",
            build_short=True,
            waiting_stations=("ST-05", "ST-12", "ST-20"),
            missing_parts=(
                MissingPart(
                    discrepancy_id="d-1",
                    claim_code=ClaimCode.M,
                    part_number="P-300",
                    quantity=2,
                    station="ST-20",
                ),
                MissingPart(
                    discrepancy_id="d-2",
                    claim_code=ClaimCode.S,
                    part_number="P-200",
                    quantity=5,
                    station="ST-12",
                ),
                MissingPart(
                    discrepancy_id="d-3",
                    claim_code=ClaimCode.D,
                    part_number="P-400",
                    quantity=1,
                    station="ST-05",
                ),
            ),
            released_at=t0,
        )
    ]


def test_a_late_replacement_after_release_shrinks_waiting_stations(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = short_kit(bom, t0)
    events = kit.resolve("d-1", Resolution.REPLACEMENT_RECEIVED, later, "dock.clerk")
    assert kit.status is KitStatus.RELEASED
    assert kit.waiting_stations == ("ST-05", "ST-12") and kit.build_short
    assert len(events) == 1 and isinstance(events[0], DiscrepancyResolved)
    assert (events[0].waiting_stations, events[0].build_short, events[0].status) == (
        ("ST-05", "ST-12"),
        True,
        "resolved",
    )


def test_a_station_waits_until_all_its_parts_arrive(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = received(bom, t0, [CountedLine("P-100", 0), CountedLine("P-400", 0)])  # both fitted at ST-05
    kit.resolve("d-1", Resolution.SHORTAGE_ACCEPTED, t0, "dock.lead")
    kit.resolve("d-2", Resolution.SHORTAGE_ACCEPTED, t0, "dock.lead")
    kit.release(t0, "logistics")
    kit.resolve("d-1", Resolution.REPLACEMENT_RECEIVED, later, "dock.clerk")
    assert kit.waiting_stations == ("ST-05",)
    kit.resolve("d-2", Resolution.WRITTEN_OFF, later, "dock.clerk")
    assert not kit.waiting_stations and not kit.build_short


def test_the_last_late_part_clears_build_short_even_after_consumption(
    bom: KitBom, t0: datetime, later: datetime
) -> None:
    kit = short_kit(bom, t0)
    kit.consume(t0, VIN)
    for d_id in ("d-1", "d-2"):
        kit.resolve(d_id, Resolution.REPLACEMENT_RECEIVED, later, "dock.clerk")
    events = kit.resolve("d-3", Resolution.REPLACEMENT_RECEIVED, later, "dock.clerk")
    assert kit.status is KitStatus.CONSUMED and not kit.build_short and kit.waiting_stations == ()
    assert events[0].build_short is False  # type: ignore[attr-defined]


def test_an_accepted_wrong_part_outside_the_bom_is_missing_but_holds_no_station(bom: KitBom, t0: datetime) -> None:
    kit = received(bom, t0, [CountedLine("X-9", 1)])
    kit.resolve("d-1", Resolution.SHORTAGE_ACCEPTED, t0, "dock.lead")
    (event,) = kit.release(t0, "logistics")
    assert isinstance(event, KitReleased)
    assert event.build_short and event.waiting_stations == ()
    assert [(m.part_number, m.station) for m in event.missing_parts] == [("X-9", None)]


def test_written_off_and_replaced_discrepancies_do_not_make_a_kit_build_short(bom: KitBom, t0: datetime) -> None:
    kit = received(bom, t0, [CountedLine("P-300", 0), CountedLine("P-100", 2)])
    kit.resolve("d-1", Resolution.REPLACEMENT_RECEIVED, t0, "dock.lead")
    kit.resolve("d-2", Resolution.WRITTEN_OFF, t0, "dock.lead")
    kit.release(t0, "logistics")
    assert not kit.build_short and kit.missing_parts == ()


def test_consume_only_from_released(bom: KitBom, t0: datetime, later: datetime) -> None:
    kit = received(bom, t0)
    with pytest.raises(Conflict) as err:
        kit.consume(later, VIN)
    assert err.value.rule == "kit.consume.not-released" and "is received" in err.value.message
    kit.release(t0, "logistics")
    assert kit.consume(later, VIN) == [KitConsumed(kit_serial="K-1", vin=VIN, consumed_at=later)]
    assert (kit.status, kit.vin, kit.consumed_at) == (KitStatus.CONSUMED, VIN, later)


def test_consume_repeated_for_the_same_vin_is_harmless_another_vin_conflicts(bom: KitBom, t0: datetime) -> None:
    kit = received(bom, t0)
    kit.release(t0, "logistics")
    kit.consume(t0, VIN)
    assert kit.consume(t0, VIN) == []
    with pytest.raises(Conflict, match=VIN):
        kit.consume(t0, "1HTMKAAR5CH654321")


@pytest.mark.parametrize("vin", ["1HTMKAAR5CH12345", "1HTMKAAR5CH1234567", "1HTMKAAR5CH12345O", "1htmkaar5ch123456"])
def test_consume_refuses_a_malformed_vin(bom: KitBom, t0: datetime, vin: str) -> None:
    kit = received(bom, t0)
    kit.release(t0, "logistics")
    with pytest.raises(InvalidInput, match="VIN"):
        kit.consume(t0, vin)
    assert kit.status is KitStatus.RELEASED


def test_a_kit_cannot_be_released_before_its_receipt(bom: KitBom, t0: datetime) -> None:
    kit = received(bom, t0)
    with pytest.raises(InvalidInput) as refused:
        kit.release(t0 - timedelta(minutes=1), "logistics")
    assert refused.value.rule == "kit.release.before-receipt"
    assert kit.status is KitStatus.RECEIVED and kit.released_at is None
    assert kit.release(t0, "logistics")[0].released_at == t0
