from __future__ import annotations

from datetime import datetime

import pytest

from kit_receiving.domain import (
    Conflict,
    InvalidInput,
    KitStatus,
    Shipment,
    ShipmentKit,
    ShipmentStatus,
    derive_status,
    plan_correction,
)

A = KitStatus.ANNOUNCED


def kits(*serials: str) -> tuple[ShipmentKit, ...]:
    return tuple(ShipmentKit(s, "TRK-6X4-A", (f"{s}-C1",)) for s in serials)


def shipment(t0: datetime, *serials: str) -> Shipment:
    return Shipment(
        shipment_id="SH-1", carrier="RailCo", origin="Sister plant", expected_arrival=t0, kits=kits(*serials)
    )


def test_a_new_shipment_is_announced(t0: datetime) -> None:
    sh = shipment(t0, "K-1", "K-2")
    assert sh.status is ShipmentStatus.ANNOUNCED and sh.serials == ("K-1", "K-2")


def test_duplicate_serials_in_one_shipment_are_refused(t0: datetime) -> None:
    with pytest.raises(InvalidInput) as err:
        shipment(t0, "K-1", "K-2", "K-1")
    assert err.value.rule == "shipment.kits.duplicate-serial" and "K-1" in err.value.message
    with pytest.raises(InvalidInput, match="no kits"):
        shipment(t0)


def test_plan_correction_splits_added_removed_and_changed() -> None:
    old = kits("K-1", "K-2", "K-3")
    new = (old[0], ShipmentKit("K-2", "TRK-4X2-B", ("K-2-C1",)), ShipmentKit("K-4", "TRK-6X4-A"))
    added, removed, changed = plan_correction(old, new)
    assert [k.serial for k in added] == ["K-4"]
    assert [k.serial for k in removed] == ["K-3"]
    assert changed == (ShipmentKit("K-2", "TRK-4X2-B", ("K-2-C1",)),)
    assert plan_correction(old, old).is_empty


def test_plan_correction_sees_a_change_of_cases() -> None:
    old = kits("K-1")
    plan = plan_correction(old, (ShipmentKit("K-1", "TRK-6X4-A", ("K-1-C1", "K-1-C2")),))
    assert [k.cases for k in plan.changed] == [("K-1-C1", "K-1-C2")] and not plan.added and not plan.removed


def test_correction_before_arrival_returns_the_new_shipment_and_plan(t0: datetime, later: datetime) -> None:
    sh = shipment(t0, "K-1", "K-2")
    corrected, plan = sh.correct(
        carrier="RoadCo",
        origin="Sister plant",
        expected_arrival=later,
        kits=kits("K-2", "K-3"),
        kit_statuses={"K-1": A, "K-2": A},
    )
    assert (corrected.carrier, corrected.expected_arrival, corrected.serials) == (
        "RoadCo",
        later,
        ("K-2", "K-3"),
    )
    assert [k.serial for k in plan.added] == ["K-3"] and [k.serial for k in plan.removed] == ["K-1"]
    assert sh.serials == ("K-1", "K-2")  # the original value is untouched


@pytest.mark.parametrize("arrived", [KitStatus.QUARANTINED, KitStatus.RECEIVED, KitStatus.RELEASED])
def test_correction_and_cancel_are_refused_once_a_kit_arrived(t0: datetime, arrived: KitStatus) -> None:
    sh = shipment(t0, "K-1", "K-2")
    statuses = {"K-1": A, "K-2": arrived}
    with pytest.raises(Conflict) as err:
        sh.correct(carrier="c", origin="o", expected_arrival=t0, kits=kits("K-1"), kit_statuses=statuses)
    assert err.value.rule == "shipment.correct.kits-received" and "K-2" in err.value.message
    with pytest.raises(Conflict) as err:
        sh.cancel(statuses)
    assert err.value.rule == "shipment.cancel.kits-received"


def test_correction_refuses_duplicates_in_the_new_list(t0: datetime) -> None:
    with pytest.raises(InvalidInput, match="K-2"):
        shipment(t0, "K-1").correct(
            carrier="c", origin="o", expected_arrival=t0, kits=kits("K-2", "K-2"), kit_statuses={"K-1": A}
        )


def test_cancel_is_repeatable_and_a_cancelled_shipment_cannot_be_corrected(t0: datetime) -> None:
    cancelled = shipment(t0, "K-1").cancel({"K-1": A})
    assert cancelled.status is ShipmentStatus.CANCELLED
    assert cancelled.cancel({"K-1": KitStatus.CANCELLED}) is cancelled
    with pytest.raises(Conflict, match="cancelled"):
        cancelled.correct(carrier="c", origin="o", expected_arrival=t0, kits=kits("K-1"), kit_statuses={})


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([A, A], ShipmentStatus.ANNOUNCED),
        ([KitStatus.QUARANTINED, A], ShipmentStatus.RECEIVING),
        ([KitStatus.RECEIVED, KitStatus.CONSUMED], ShipmentStatus.RECEIVED),
        ([KitStatus.RELEASED, KitStatus.CANCELLED], ShipmentStatus.RECEIVED),
        ([KitStatus.CANCELLED, KitStatus.CANCELLED], ShipmentStatus.CANCELLED),
    ],
)
def test_shipment_status_follows_its_kits(statuses: list[KitStatus], expected: ShipmentStatus) -> None:
    assert derive_status(statuses) is expected


def test_with_status_from_recomputes_but_keeps_a_cancellation(t0: datetime) -> None:
    sh = shipment(t0, "K-1", "K-2")
    receiving = sh.with_status_from({"K-1": KitStatus.RECEIVED})  # K-2 unknown yet: still announced
    assert receiving.status is ShipmentStatus.RECEIVING
    assert receiving.with_status_from({"K-1": KitStatus.RECEIVED, "K-2": KitStatus.QUARANTINED}).status is (
        ShipmentStatus.RECEIVED
    )
    cancelled = sh.cancel({})
    assert cancelled.with_status_from({"K-1": KitStatus.RECEIVED}) is cancelled
