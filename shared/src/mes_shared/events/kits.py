"""Contracts of the kits domain (topic `mes.kits`), published by kit-receiving.

Kit events are keyed by kit serial so one kit's history stays in order; shipment events by the
sender's shipment id; kit type events by kit type code.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mes_shared.envelope import EventData
from mes_shared.topics import KITS

ClaimCode = Literal["M", "S", "D", "W", "F", "DP", "DT", "A", "surplus"]
Resolution = Literal["replacement_received", "shortage_accepted", "written_off"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BomLine(_Part):
    part_number: str
    description: str
    quantity: int = Field(gt=0)
    station: str


class AnnouncedKit(_Part):
    serial: str
    kit_type: str
    bom_version: int
    cases: list[str]


class MissingPart(_Part):
    discrepancy_id: str
    part_number: str
    quantity: int
    station: str | None
    claim_code: ClaimCode


class _KitsEvent(EventData):
    key: ClassVar[str] = "kit serial"
    topic: ClassVar[str] = KITS.name
    producer: ClassVar[str] = "kit-receiving"


class KitTypeBomPublished(_KitsEvent):
    """A kit type's BOM version took effect at the envelope's time (a late entry or a replay puts it in the
    past), in force until the next version's time; kits keep the version in force when they were announced."""

    key: ClassVar[str] = "kit type code"
    event_type: ClassVar[str] = "mes.kit-type.bom-published.v1"
    kit_type: str
    model: str
    variant: str
    version: int
    lines: list[BomLine]


class _AsnEvent(_KitsEvent):
    """The whole content of an ASN, as announced or as corrected."""

    key: ClassVar[str] = "shipment id"
    shipment_id: str
    carrier: str
    origin: str
    expected_arrival: datetime
    kits: list[AnnouncedKit]


class ShipmentAnnounced(_AsnEvent):
    """The sister plant's advance shipping notice (ASN): carrier, expected arrival, kits and cases."""

    event_type: ClassVar[str] = "mes.shipment.announced.v1"


class ShipmentCorrected(_AsnEvent):
    """The ASN was replaced before arrival; `kits` is the whole corrected list."""

    event_type: ClassVar[str] = "mes.shipment.corrected.v1"
    added_serials: list[str]
    removed_serials: list[str]


class ShipmentCancelled(_KitsEvent):
    """The ASN was withdrawn before any of its kits arrived; its kits are cancelled too."""

    key: ClassVar[str] = "shipment id"
    event_type: ClassVar[str] = "mes.shipment.cancelled.v1"
    shipment_id: str
    reason: str
    cancelled_serials: list[str]


class KitAnnounced(_KitsEvent):
    """A kit is on its way, announced by an ASN, with the BOM version it will be checked against."""

    event_type: ClassVar[str] = "mes.kit.announced.v1"
    serial: str
    kit_type: str
    bom_version: int
    shipment_id: str
    cases: list[str]
    expected_arrival: datetime


class KitAmended(_KitsEvent):
    """A shipment correction changed an announced kit's type, BOM version or cases."""

    event_type: ClassVar[str] = "mes.kit.amended.v1"
    serial: str
    kit_type: str
    bom_version: int
    cases: list[str]


class KitCancelled(_KitsEvent):
    """An announced kit will not come: its ASN was cancelled or corrected without it."""

    event_type: ClassVar[str] = "mes.kit.cancelled.v1"
    serial: str
    shipment_id: str | None
    reason: str


class KitReceived(_KitsEvent):
    """Counted at the dock. `status` is `received` (clear) or `quarantined` (discrepancies follow)."""

    event_type: ClassVar[str] = "mes.kit.received.v1"
    serial: str
    kit_type: str
    bom_version: int
    shipment_id: str | None
    unannounced: bool
    dock: str
    received_by: str
    discrepancy_count: int
    status: Literal["received", "quarantined"]


class DiscrepancyRecorded(_KitsEvent):
    """A mismatch found at receipt, with its CKD claim code and the station that fits the part."""

    event_type: ClassVar[str] = "mes.kit.discrepancy-recorded.v1"
    serial: str
    discrepancy_id: str
    claim_code: ClaimCode
    part_number: str
    quantity: int
    station: str | None
    note: str


class DiscrepancyResolved(_KitsEvent):
    """A claim was resolved. After a build-short release, `replacement_received` frees waiting stations."""

    event_type: ClassVar[str] = "mes.kit.discrepancy-resolved.v1"
    serial: str
    discrepancy_id: str
    claim_code: ClaimCode
    part_number: str
    quantity: int
    station: str | None
    resolution: Resolution
    discrepancy_status: Literal["open", "shortage_accepted", "resolved"]
    resolved_by: str
    note: str
    kit_status: str
    build_short: bool
    waiting_stations: list[str]


class KitQuarantined(_KitsEvent):
    """The kit is held: it has open discrepancies and cannot be released."""

    event_type: ClassVar[str] = "mes.kit.quarantined.v1"
    serial: str
    open_discrepancy_ids: list[str]
    claim_codes: list[ClaimCode]


class KitQuarantineLifted(_KitsEvent):
    """Every discrepancy has a decision; the kit can be released (build-short if shortages remain)."""

    event_type: ClassVar[str] = "mes.kit.quarantine-lifted.v1"
    serial: str
    accepted_shortages: list[MissingPart]


class KitConsumed(_KitsEvent):
    """Assembly-line started a truck's build with this kit (kit-receiving follows `mes.vehicle.build-started`)."""

    event_type: ClassVar[str] = "mes.kit.consumed.v1"
    serial: str
    vin: str


class KitReleased(_KitsEvent):
    """Released to the line. A build-short kit names the stations that will wait for missing parts."""

    event_type: ClassVar[str] = "mes.kit.released.v1"
    serial: str
    kit_type: str
    bom_version: int
    build_short: bool
    waiting_stations: list[str]
    missing_parts: list[MissingPart]
    released_by: str
