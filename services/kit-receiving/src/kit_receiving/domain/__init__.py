"""Pure domain of kit receiving: BOM check, discrepancies, kit and shipment state machines.

No I/O here: the application layer loads and saves, and maps the returned events and errors.
"""

from .bom import BomLine, BomVersion, KitBom, next_bom_version
from .claims import FINDING_CODES, UNUSABLE_CODES, ClaimCode, is_unusable
from .discrepancy import Discrepancy, DiscrepancyStatus, Resolution
from .errors import Conflict, DomainError, InvalidInput, NotFound, ReleaseBlocked
from .events import (
    DiscrepancyRecorded,
    DiscrepancyResolved,
    DomainEvent,
    KitAmended,
    KitAnnounced,
    KitCancelled,
    KitConsumed,
    KitQuarantined,
    KitReceived,
    KitReleased,
    MissingPart,
    QuarantineLifted,
)
from .kit import ON_SITE_STATUSES, Kit, KitStatus
from .receipt import MAX_COUNT_FACTOR, MAX_COUNT_FLOOR, CountedLine, DiscrepancyDraft, Finding, check_receipt
from .shipment import (
    CorrectionPlan,
    Shipment,
    ShipmentKit,
    ShipmentStatus,
    derive_status,
    plan_correction,
)

__all__ = [
    "FINDING_CODES",
    "MAX_COUNT_FACTOR",
    "MAX_COUNT_FLOOR",
    "ON_SITE_STATUSES",
    "UNUSABLE_CODES",
    "BomLine",
    "BomVersion",
    "ClaimCode",
    "Conflict",
    "CorrectionPlan",
    "CountedLine",
    "Discrepancy",
    "DiscrepancyDraft",
    "DiscrepancyRecorded",
    "DiscrepancyResolved",
    "DiscrepancyStatus",
    "DomainError",
    "DomainEvent",
    "Finding",
    "InvalidInput",
    "Kit",
    "KitAmended",
    "KitAnnounced",
    "KitBom",
    "KitCancelled",
    "KitConsumed",
    "KitQuarantined",
    "KitReceived",
    "KitReleased",
    "KitStatus",
    "MissingPart",
    "NotFound",
    "QuarantineLifted",
    "ReleaseBlocked",
    "Resolution",
    "Shipment",
    "ShipmentKit",
    "ShipmentStatus",
    "check_receipt",
    "derive_status",
    "is_unusable",
    "next_bom_version",
    "plan_correction",
]
