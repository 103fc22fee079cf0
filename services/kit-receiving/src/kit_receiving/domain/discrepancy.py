"""A recorded discrepancy on a kit and the decisions that close it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .claims import ClaimCode
from .errors import Conflict, InvalidInput
from .guards import require_aware, require_text
from .receipt import DiscrepancyDraft


class DiscrepancyStatus(StrEnum):
    OPEN = "open"
    # The part is still missing but the kit may go to the line build-short.
    SHORTAGE_ACCEPTED = "shortage_accepted"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    REPLACEMENT_RECEIVED = "replacement_received"
    SHORTAGE_ACCEPTED = "shortage_accepted"
    WRITTEN_OFF = "written_off"  # claim closed with nothing outstanding


# (current status, requested resolution) -> new status. Anything absent is refused.
_TRANSITIONS: dict[tuple[DiscrepancyStatus, Resolution], DiscrepancyStatus] = {
    (DiscrepancyStatus.OPEN, Resolution.REPLACEMENT_RECEIVED): DiscrepancyStatus.RESOLVED,
    (DiscrepancyStatus.OPEN, Resolution.WRITTEN_OFF): DiscrepancyStatus.RESOLVED,
    (DiscrepancyStatus.OPEN, Resolution.SHORTAGE_ACCEPTED): DiscrepancyStatus.SHORTAGE_ACCEPTED,
    # The missing part arrived later (possibly after release): this lets a waiting truck move on.
    (DiscrepancyStatus.SHORTAGE_ACCEPTED, Resolution.REPLACEMENT_RECEIVED): DiscrepancyStatus.RESOLVED,
    (DiscrepancyStatus.SHORTAGE_ACCEPTED, Resolution.WRITTEN_OFF): DiscrepancyStatus.RESOLVED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Discrepancy:
    """Immutable: a decision returns a new value, so the Kit aggregate is the only thing that mutates."""

    id: str
    kit_serial: str
    claim_code: ClaimCode
    part_number: str
    quantity: int
    note: str
    station: str | None
    recorded_at: datetime
    status: DiscrepancyStatus = DiscrepancyStatus.OPEN
    resolution: Resolution | None = None  # the latest decision
    resolved_at: datetime | None = None  # time of the latest decision
    resolved_by: str | None = None
    resolution_note: str = ""

    @classmethod
    def from_draft(
        cls, discrepancy_id: str, kit_serial: str, draft: DiscrepancyDraft, recorded_at: datetime
    ) -> Discrepancy:
        return cls(
            id=require_text(discrepancy_id, "discrepancy id"),
            kit_serial=kit_serial,
            claim_code=draft.claim_code,
            part_number=draft.part_number,
            quantity=draft.quantity,
            note=draft.note,
            station=draft.station,
            recorded_at=recorded_at,
        )

    @property
    def is_open(self) -> bool:
        return self.status is DiscrepancyStatus.OPEN

    @property
    def is_accepted_shortage(self) -> bool:
        return self.status is DiscrepancyStatus.SHORTAGE_ACCEPTED

    def resolve(self, resolution: Resolution, at: datetime, by: str, note: str = "") -> Discrepancy:
        """Apply a decision. Returns ``self`` unchanged when it repeats the current one (a resend)."""
        try:
            resolution = Resolution(resolution)
        except ValueError:
            raise InvalidInput("discrepancy.resolution.unknown", f"unknown resolution {resolution!r}") from None
        require_aware(at, "resolution time")
        require_text(by, "resolved by")
        if at < self.recorded_at:
            raise InvalidInput(
                "discrepancy.resolve.before-recorded",
                f"discrepancy {self.id} cannot be decided at {at.isoformat()}, before it was recorded at "
                f"{self.recorded_at.isoformat()}",
            )

        if self.resolution is resolution and self.status is not DiscrepancyStatus.OPEN:
            return self
        if resolution is Resolution.SHORTAGE_ACCEPTED and self.claim_code is ClaimCode.SURPLUS:
            raise Conflict(
                "discrepancy.resolve.surplus-not-shortage",
                f"discrepancy {self.id} is a surplus of part {self.part_number}; "
                f"a surplus cannot be accepted as a shortage",
            )
        new_status = _TRANSITIONS.get((self.status, resolution))
        if new_status is None:
            raise Conflict(
                "discrepancy.resolve.not-allowed",
                f"discrepancy {self.id} ({self.claim_code}, part {self.part_number}) is {self.status}"
                + (f" as {self.resolution}" if self.resolution else "")
                + f"; it cannot be resolved as {resolution}",
            )
        return replace(
            self,
            status=new_status,
            resolution=resolution,
            resolved_at=at,
            resolved_by=by,
            resolution_note=note,
        )
