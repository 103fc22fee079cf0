"""Shipments (ASNs): the sister plant's advance notice of which kits are on the way.

The shipment does not own Kit aggregates (each kit is its own consistency boundary); the rules that
depend on kits take their statuses as input, so they stay pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from .errors import Conflict, InvalidInput
from .guards import require_aware, require_text
from .kit import ON_SITE_STATUSES, KitStatus, validate_cases


class ShipmentStatus(StrEnum):
    ANNOUNCED = "announced"
    CANCELLED = "cancelled"
    RECEIVING = "receiving"  # some of its kits received
    RECEIVED = "received"  # all announced kits received


@dataclass(frozen=True, slots=True)
class ShipmentKit:
    serial: str
    kit_type: str
    cases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require_text(self.serial, "kit serial")
        require_text(self.kit_type, f"kit type of kit {self.serial}")
        object.__setattr__(self, "cases", validate_cases(self.cases, self.serial))


class CorrectionPlan(NamedTuple):
    """What a corrected ASN means for the kits: announce ``added``, cancel ``removed``, amend ``changed``."""

    added: tuple[ShipmentKit, ...]
    removed: tuple[ShipmentKit, ...]
    changed: tuple[ShipmentKit, ...]  # the new version of each kit whose type or cases changed

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _unique_kits(kits: Iterable[ShipmentKit], shipment_id: str) -> tuple[ShipmentKit, ...]:
    result = tuple(kits)
    serials = [k.serial for k in result]
    dupes = sorted({s for s in serials if serials.count(s) > 1})
    if dupes:
        raise InvalidInput(
            "shipment.kits.duplicate-serial",
            f"shipment {shipment_id} lists kit serial(s) {', '.join(dupes)} more than once",
        )
    return result


def plan_correction(
    old_kits: Iterable[ShipmentKit], new_kits: Iterable[ShipmentKit], shipment_id: str = "?"
) -> CorrectionPlan:
    old = {k.serial: k for k in _unique_kits(old_kits, shipment_id)}
    new = _unique_kits(new_kits, shipment_id)
    new_serials = {k.serial for k in new}
    # Keep the order of the ASN so the resulting events read in the order the partner sent them.
    added = tuple(k for k in new if k.serial not in old)
    changed = tuple(k for k in new if k.serial in old and old[k.serial] != k)
    removed = tuple(k for k in old.values() if k.serial not in new_serials)
    return CorrectionPlan(added, removed, changed)


def derive_status(kit_statuses: Iterable[KitStatus]) -> ShipmentStatus:
    """Shipment status from the statuses of the kits it currently lists."""
    statuses = list(kit_statuses)
    live = [s for s in statuses if s is not KitStatus.CANCELLED]
    if statuses and not live:
        return ShipmentStatus.CANCELLED
    on_site = sum(1 for s in live if s in ON_SITE_STATUSES)
    if live and on_site == len(live):
        return ShipmentStatus.RECEIVED
    if on_site:
        return ShipmentStatus.RECEIVING
    return ShipmentStatus.ANNOUNCED


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipment:
    shipment_id: str
    carrier: str
    origin: str
    expected_arrival: datetime
    kits: tuple[ShipmentKit, ...]
    status: ShipmentStatus = ShipmentStatus.ANNOUNCED

    def __post_init__(self) -> None:
        require_text(self.shipment_id, "shipment id")
        require_text(self.carrier, f"carrier of shipment {self.shipment_id}")
        require_text(self.origin, f"origin of shipment {self.shipment_id}")
        require_aware(self.expected_arrival, f"expected arrival of shipment {self.shipment_id}")
        kits = _unique_kits(self.kits, self.shipment_id)
        if not kits:
            raise InvalidInput("shipment.kits.empty", f"shipment {self.shipment_id} announces no kits")
        object.__setattr__(self, "kits", kits)

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(k.serial for k in self.kits)

    def correct(
        self,
        *,
        carrier: str,
        origin: str,
        expected_arrival: datetime,
        kits: Iterable[ShipmentKit],
        kit_statuses: Mapping[str, KitStatus],
    ) -> tuple[Shipment, CorrectionPlan]:
        """Replace the ASN with a corrected one, as long as nothing of it has arrived."""
        self._require_untouched("correct", kit_statuses)
        corrected = replace(self, carrier=carrier, origin=origin, expected_arrival=expected_arrival, kits=tuple(kits))
        return corrected, plan_correction(self.kits, corrected.kits, self.shipment_id)

    def cancel(self, kit_statuses: Mapping[str, KitStatus]) -> Shipment:
        """Cancel the ASN; the caller cancels each of its kits. Repeating it changes nothing."""
        if self.status is ShipmentStatus.CANCELLED:
            return self
        self._require_untouched("cancel", kit_statuses)
        return replace(self, status=ShipmentStatus.CANCELLED)

    def with_status_from(self, kit_statuses: Mapping[str, KitStatus]) -> Shipment:
        """Recompute the status after one of its kits changed."""
        if self.status is ShipmentStatus.CANCELLED:
            return self  # a cancelled ASN stays cancelled whatever happens to stray kits
        status = derive_status(kit_statuses.get(s, KitStatus.ANNOUNCED) for s in self.serials)
        return self if status is self.status else replace(self, status=status)

    def _require_untouched(self, verb: str, kit_statuses: Mapping[str, KitStatus]) -> None:
        if self.status is ShipmentStatus.CANCELLED:
            raise Conflict(f"shipment.{verb}.cancelled", f"shipment {self.shipment_id} is cancelled")
        arrived = sorted(s for s in self.serials if kit_statuses.get(s) in ON_SITE_STATUSES)
        if arrived:
            raise Conflict(
                f"shipment.{verb}.kits-received",
                f"cannot {verb} shipment {self.shipment_id}: kit(s) {', '.join(arrived)} already received",
            )
