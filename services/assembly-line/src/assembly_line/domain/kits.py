"""May this kit be bound to a new build order? Judged from kit-receiving's facts (the kits read model).

A build order takes a kit that kit-receiving released and nobody else holds. Unknown (maybe not
reported yet), announced, received, quarantined, cancelled and consumed kits are refused, each with its
own rule, and so is a kit of another model.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Conflict
from .events import MissingPart
from .vehicle import Shortage


@dataclass(frozen=True, slots=True)
class KitFacts:
    serial: str
    status: str  # kit-receiving's status: announced, received, quarantined, released, consumed, cancelled
    kit_type: str | None
    model: str | None  # the kit type's model, when kit-receiving published its BOM
    variant: str | None
    build_short: bool
    waiting_stations: tuple[str, ...]
    missing_parts: tuple[MissingPart, ...]
    held_by_vin: str | None  # a build order of ours already bound to it (not cancelled)

    @property
    def shortage(self) -> Shortage:
        return Shortage(
            build_short=self.build_short,
            waiting_stations=frozenset(self.waiting_stations),
            missing_parts=self.missing_parts,
        )


def require_bindable(kit: KitFacts | None, *, serial: str, vin: str, model: str, variant: str | None) -> KitFacts:
    if kit is None:
        raise Conflict(
            "kit.unknown",
            f"kit {serial} is not known here: kit-receiving has not reported it (or not yet: retry in a moment)",
            kit_serial=serial,
            retryable=True,
        )
    if kit.held_by_vin is not None and kit.held_by_vin != vin:
        raise Conflict(
            "kit.consumed",
            f"kit {serial} is already bound to VIN {kit.held_by_vin}",
            kit_serial=serial,
            vin=kit.held_by_vin,
        )
    refusals = {
        "quarantined": ("kit.quarantined", "is quarantined: it has open discrepancies"),
        "consumed": ("kit.consumed", "is already consumed by a build"),
        "cancelled": ("kit.cancelled", "was cancelled: it will not come"),
        "announced": ("kit.not-released", "has not arrived yet (announced)"),
        "received": ("kit.not-released", "is received but not released to the line"),
    }
    if kit.status != "released":
        rule, why = refusals.get(kit.status, ("kit.not-released", f"is {kit.status}, not released"))
        raise Conflict(rule, f"kit {serial} {why}; only a released kit starts a truck", kit_status=kit.status)
    if kit.model is None:
        raise Conflict(
            "kit.type-unknown",
            f"kit {serial} is of kit type {kit.kit_type}, whose BOM kit-receiving has not reported yet; retry in a "
            "moment",
            retryable=True,
        )
    if kit.model != model:
        raise Conflict(
            "kit.model-mismatch",
            f"kit {serial} (kit type {kit.kit_type}) is for model {kit.model}, not {model}",
            kit_model=kit.model,
        )
    if variant is not None and kit.variant is not None and kit.variant != variant:
        raise Conflict(
            "kit.variant-mismatch",
            f"kit {serial} (kit type {kit.kit_type}) is for variant {kit.variant}, not {variant}",
            kit_variant=kit.variant,
        )
    return kit
