"""Domain events returned by the Kit aggregate.

Plain values with no envelope: the application layer maps them to the versioned wire events of the
shared catalogue and writes them to the outbox in the same transaction as the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .claims import ClaimCode
from .discrepancy import DiscrepancyStatus, Resolution


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    kit_serial: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingPart:
    """A part a build-short kit goes to the line without."""

    discrepancy_id: str
    claim_code: ClaimCode
    part_number: str
    quantity: int
    station: str | None  # None: the part is not in the BOM, so no station waits for it


@dataclass(frozen=True, slots=True, kw_only=True)
class KitAnnounced(DomainEvent):
    kit_type: str
    bom_version: int
    shipment_id: str | None
    cases: tuple[str, ...]
    announced_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KitAmended(DomainEvent):
    """A shipment correction changed an announced kit's type, BOM version or cases."""

    kit_type: str
    bom_version: int
    cases: tuple[str, ...]
    amended_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KitCancelled(DomainEvent):
    shipment_id: str | None
    reason: str
    cancelled_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KitReceived(DomainEvent):
    kit_type: str
    bom_version: int
    shipment_id: str | None
    unannounced: bool
    cases: tuple[str, ...]
    discrepancy_count: int
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscrepancyRecorded(DomainEvent):
    discrepancy_id: str
    claim_code: ClaimCode
    part_number: str
    quantity: int
    station: str | None
    note: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KitQuarantined(DomainEvent):
    open_discrepancy_ids: tuple[str, ...]
    quarantined_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscrepancyResolved(DomainEvent):
    discrepancy_id: str
    claim_code: ClaimCode
    part_number: str
    resolution: Resolution
    status: DiscrepancyStatus
    note: str
    resolved_by: str
    resolved_at: datetime
    # The kit's shortage picture after this decision, so a consumer holding a waiting truck can let it
    # move on without re-reading the kit.
    build_short: bool
    waiting_stations: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineLifted(DomainEvent):
    lifted_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KitReleased(DomainEvent):
    kit_type: str
    bom_version: int
    released_by: str
    build_short: bool
    waiting_stations: tuple[str, ...]
    missing_parts: tuple[MissingPart, ...]
    released_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KitConsumed(DomainEvent):
    vin: str
    consumed_at: datetime
