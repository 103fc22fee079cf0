"""Request and response bodies. The shared input types (mes_shared.inputs) refuse absurd input before it
reaches the domain: control characters, instants outside the plant's years, numbers past the columns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mes_shared.inputs import Code, Instant, NonBlank, Note, Text

ClaimCodeIn = Literal["D", "W", "F", "DP", "DT", "A"]
ClaimCodeOut = Literal["M", "S", "D", "W", "F", "DP", "DT", "A", "surplus"]
KitStatusName = Literal["announced", "cancelled", "quarantined", "received", "released", "consumed"]
ResolutionName = Literal["replacement_received", "shortage_accepted", "written_off"]


class Page(BaseModel):
    """One page of a long list: `total` matches the filter, `items` start at `offset`."""

    total: int
    limit: int
    offset: int


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- kit types ----------------------------------------------------------------------------------


class BomLineIn(Body):
    part_number: Code
    description: Text
    quantity: int = Field(ge=1, le=10_000)
    station: Code


_EFFECTIVE_FROM = (
    "When this BOM version takes effect (a late entry, a replay); default now; never in the future{}. Kits "
    "announced from then on (or received unannounced) are checked against it; kits announced before keep theirs"
)


class KitTypeCreate(Body):
    code: Code
    model: Code
    variant: Code
    description: Text = ""
    lines: list[BomLineIn] = Field(min_length=1, max_length=5_000)
    effective_from: Instant | None = Field(default=None, description=_EFFECTIVE_FROM.format(""))


class BomVersionCreate(Body):
    lines: list[BomLineIn] = Field(min_length=1, max_length=5_000)
    effective_from: Instant | None = Field(
        default=None,
        description=_EFFECTIVE_FROM.format(
            ", never before the current version's, nor at or before the announcement of a kit of the type"
        ),
    )


class BomVersionView(BaseModel):
    kit_type: str
    version: int
    effective_from: datetime = Field(description="In force from then until the next version's effective_from")
    published_at: datetime = Field(description="When the version was entered")
    published_by: str
    lines: list[BomLineIn]


class KitTypeView(BaseModel):
    code: str
    model: str
    variant: str
    description: str
    current_version: int
    versions: list[int]
    bom: BomVersionView


# ---- shipments ----------------------------------------------------------------------------------


class ShipmentKitIn(Body):
    serial: Code
    kit_type: Code
    cases: list[Code] = Field(default_factory=list, max_length=500)


class ShipmentAnnounce(Body):
    shipment_id: Code = Field(description="The sender's id of the ASN; announcing it again changes nothing")
    carrier: NonBlank
    origin: NonBlank
    expected_arrival: Instant
    kits: list[ShipmentKitIn] = Field(min_length=1, max_length=2_000)
    announced_at: Instant | None = Field(default=None, description="When the sender issued the ASN; default now")


class ShipmentCorrection(Body):
    carrier: NonBlank
    origin: NonBlank
    expected_arrival: Instant
    kits: list[ShipmentKitIn] = Field(min_length=1, max_length=2_000)


class ShipmentCancel(Body):
    reason: NonBlank


class ShipmentKitView(BaseModel):
    serial: str
    kit_type: str
    bom_version: int
    cases: list[str]
    status: KitStatusName


class ShipmentView(BaseModel):
    shipment_id: str
    carrier: str
    origin: str
    expected_arrival: datetime
    status: Literal["announced", "cancelled", "receiving", "received"]
    cancel_reason: str | None
    announced_at: datetime
    updated_at: datetime
    kits: list[ShipmentKitView]


class ShipmentPage(Page):
    items: list[ShipmentView]


# ---- receipt and discrepancies ------------------------------------------------------------------


class FindingIn(Body):
    claim_code: ClaimCodeIn
    quantity: int = Field(ge=1, le=100_000)
    note: Note = ""


class CountedLineIn(Body):
    part_number: Code
    counted: int = Field(ge=0, le=100_000)
    findings: list[FindingIn] = Field(default_factory=list, max_length=20)


class ReceiptIn(Body):
    dock: Code
    received_at: Instant | None = Field(default=None, description="When the kit was counted; default now")
    lines: list[CountedLineIn] = Field(
        default_factory=list,
        max_length=5_000,
        description="Counted lines that differ from the BOM or carry findings; none means complete as announced",
    )
    kit_type: Code | None = Field(default=None, description="Only for a kit nobody announced")
    cases: list[Code] = Field(default_factory=list, max_length=500, description="Only for an unannounced kit")


class ResolutionIn(Body):
    resolution: ResolutionName
    note: Note = ""
    resolved_at: Instant | None = Field(default=None, description="When the decision was taken; default now")


class ReleaseIn(Body):
    released_at: Instant | None = Field(default=None, description="When the kit went to the line; default now")


class DiscrepancyView(BaseModel):
    id: str
    serial: str
    claim_code: ClaimCodeOut
    part_number: str
    quantity: int
    station: str | None
    note: str
    status: Literal["open", "shortage_accepted", "resolved"]
    resolution: ResolutionName | None
    recorded_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class HistoryEntry(BaseModel):
    at: datetime
    action: str
    actor: str
    detail: dict[str, object]


class MissingPartView(BaseModel):
    discrepancy_id: str
    part_number: str
    quantity: int
    station: str | None
    claim_code: ClaimCodeOut


class KitView(BaseModel):
    serial: str
    kit_type: str
    bom_version: int
    shipment_id: str | None
    status: KitStatusName
    unannounced: bool
    cases: list[str]
    dock: str | None
    build_short: bool
    waiting_stations: list[str]
    missing_parts: list[MissingPartView]
    received_at: datetime | None
    released_at: datetime | None
    released_by: str | None
    consumed_at: datetime | None
    vin: str | None
    discrepancies: list[DiscrepancyView]


class KitDetail(KitView):
    history: list[HistoryEntry]


class KitSummary(BaseModel):
    serial: str
    kit_type: str
    bom_version: int
    shipment_id: str | None
    status: KitStatusName
    unannounced: bool
    build_short: bool
    open_discrepancies: int
    received_at: datetime | None
    released_at: datetime | None


class KitPage(Page):
    items: list[KitSummary]


class DiscrepancyPage(Page):
    items: list[DiscrepancyView]


class InventoryRow(BaseModel):
    kit_type: str
    status: KitStatusName
    kits: int


class Inventory(BaseModel):
    on_hand: int = Field(description="Kits at the plant and not yet consumed by a build")
    by_status: dict[str, int]
    by_type: list[InventoryRow]


class OpenDiscrepancySummary(BaseModel):
    open_total: int
    by_claim_code: dict[str, int]
    quantity_by_claim_code: dict[str, int]
