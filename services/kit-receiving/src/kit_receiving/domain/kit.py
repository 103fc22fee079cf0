"""The Kit aggregate: one kit per truck, from announcement to consumption by a build.

The aggregate is a mutable dataclass (the one place state changes); everything it holds is an
immutable value. Each command validates fully before touching state, so a refused command leaves the
kit exactly as it was, and returns the domain events it raised for the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .bom import KitBom
from .discrepancy import Discrepancy, Resolution
from .errors import Conflict, InvalidInput, NotFound, ReleaseBlocked
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
from .guards import require_aware, require_count, require_text
from .receipt import CountedLine, check_receipt

# 17 characters; I, O and Q are never used because they read as 1 and 0.
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


class KitStatus(StrEnum):
    ANNOUNCED = "announced"
    CANCELLED = "cancelled"
    QUARANTINED = "quarantined"  # received with open discrepancies
    RECEIVED = "received"  # checked and clear, waiting for release
    RELEASED = "released"
    CONSUMED = "consumed"  # bound to a truck by assembly-line


# Statuses in which the kit is physically at the plant.
ON_SITE_STATUSES: frozenset[KitStatus] = frozenset(
    {KitStatus.QUARANTINED, KitStatus.RECEIVED, KitStatus.RELEASED, KitStatus.CONSUMED}
)


def validate_cases(cases: Iterable[str], serial: str) -> tuple[str, ...]:
    result = tuple(cases)
    for case in result:
        require_text(case, f"case number of kit {serial}")
    if len(set(result)) != len(result):
        dupes = sorted({c for c in result if result.count(c) > 1})
        raise InvalidInput("kit.cases.duplicate", f"kit {serial} lists case(s) {', '.join(dupes)} twice")
    return result


@dataclass(kw_only=True)
class Kit:
    serial: str
    kit_type: str
    bom_version: int
    shipment_id: str | None  # None for a kit that arrived without an announcement
    status: KitStatus = KitStatus.ANNOUNCED
    unannounced: bool = False
    cases: tuple[str, ...] = ()
    discrepancies: tuple[Discrepancy, ...] = ()
    received_at: datetime | None = None
    released_at: datetime | None = None
    released_by: str | None = None
    build_short: bool = False
    waiting_stations: tuple[str, ...] = ()  # sorted; stations a truck will wait at for missing parts
    cancelled_at: datetime | None = None
    consumed_at: datetime | None = None
    vin: str | None = None

    # ---- creation -------------------------------------------------------------------------------

    @classmethod
    def announce(
        cls,
        *,
        serial: str,
        kit_type: str,
        bom_version: int,
        shipment_id: str | None,
        cases: Iterable[str],
        at: datetime,
    ) -> tuple[Kit, list[DomainEvent]]:
        require_text(serial, "kit serial")
        require_text(kit_type, f"kit type of kit {serial}")
        require_count(bom_version, f"BOM version of kit {serial}", minimum=1)
        require_aware(at, "announcement time")
        kit = cls(
            serial=serial,
            kit_type=kit_type,
            bom_version=bom_version,
            shipment_id=shipment_id,
            cases=validate_cases(cases, serial),
        )
        event = KitAnnounced(
            kit_serial=serial,
            kit_type=kit_type,
            bom_version=bom_version,
            shipment_id=shipment_id,
            cases=kit.cases,
            announced_at=at,
        )
        return kit, [event]

    @classmethod
    def receive_unannounced(
        cls,
        *,
        serial: str,
        bom: KitBom,
        at: datetime,
        counted_lines: Sequence[CountedLine],
        discrepancy_ids: Iterable[str],
        cases: Iterable[str] = (),
    ) -> tuple[Kit, list[DomainEvent]]:
        """A kit nobody announced is still received, flagged, and checked like any other."""
        require_text(serial, "kit serial")
        kit = cls(
            serial=serial,
            kit_type=bom.kit_type,
            bom_version=bom.version,
            shipment_id=None,
            unannounced=True,
            cases=validate_cases(cases, serial),
        )
        return kit, kit.receive(at, bom, counted_lines, discrepancy_ids)

    # ---- before arrival -------------------------------------------------------------------------

    def amend(self, *, kit_type: str, bom_version: int, cases: Iterable[str], at: datetime) -> list[DomainEvent]:
        """Apply a shipment correction to a kit that has not arrived yet."""
        require_text(kit_type, f"kit type of kit {self.serial}")
        require_count(bom_version, f"BOM version of kit {self.serial}", minimum=1)
        require_aware(at, "amendment time")
        new_cases = validate_cases(cases, self.serial)
        self._require_status(KitStatus.ANNOUNCED, "kit.amend.not-announced", "amended")
        if (kit_type, bom_version, new_cases) == (self.kit_type, self.bom_version, self.cases):
            return []
        self.kit_type, self.bom_version, self.cases = kit_type, bom_version, new_cases
        return [
            KitAmended(
                kit_serial=self.serial,
                kit_type=kit_type,
                bom_version=bom_version,
                cases=new_cases,
                amended_at=at,
            )
        ]

    def cancel(self, at: datetime, reason: str = "") -> list[DomainEvent]:
        """The shipment was cancelled or corrected before arrival. Repeating it changes nothing."""
        require_aware(at, "cancellation time")
        if self.status is KitStatus.CANCELLED:
            return []
        self._require_status(KitStatus.ANNOUNCED, "kit.cancel.not-announced", "cancelled")
        self.status = KitStatus.CANCELLED
        self.cancelled_at = at
        return [KitCancelled(kit_serial=self.serial, shipment_id=self.shipment_id, reason=reason, cancelled_at=at)]

    # ---- receipt --------------------------------------------------------------------------------

    def receive(
        self,
        at: datetime,
        bom: KitBom,
        counted_lines: Sequence[CountedLine],
        discrepancy_ids: Iterable[str],
    ) -> list[DomainEvent]:
        """Check the kit against its BOM; quarantine it when anything is wrong.

        ``discrepancy_ids`` is consumed lazily, one id per discrepancy found, so the caller can pass an
        endless generator (random or derived from the request id, which keeps a resend deterministic).
        """
        require_aware(at, "receipt time")
        if self.status is KitStatus.CANCELLED:
            raise Conflict("kit.receive.cancelled", f"kit {self.serial} was cancelled and cannot be received")
        if self.status is not KitStatus.ANNOUNCED:
            raise Conflict(
                "kit.receive.already-received",
                f"kit {self.serial} is already received (status {self.status})",
            )
        if (bom.kit_type, bom.version) != (self.kit_type, self.bom_version):
            raise InvalidInput(
                "kit.receive.bom-mismatch",
                f"kit {self.serial} is kit type {self.kit_type} v{self.bom_version} "
                f"but was checked against BOM {bom.kit_type} v{bom.version}",
            )

        drafts = check_receipt(bom, counted_lines)
        ids = iter(discrepancy_ids)
        recorded: list[Discrepancy] = []
        for draft in drafts:
            discrepancy_id = next(ids, None)
            if discrepancy_id is None:
                raise InvalidInput(
                    "kit.receive.ids-exhausted",
                    f"kit {self.serial}: {len(drafts)} discrepancies found but only {len(recorded)} ids given",
                )
            recorded.append(Discrepancy.from_draft(discrepancy_id, self.serial, draft, at))
        all_ids = [d.id for d in (*self.discrepancies, *recorded)]
        if len(set(all_ids)) != len(all_ids):
            raise InvalidInput("kit.receive.duplicate-ids", f"kit {self.serial}: discrepancy ids are not unique")

        # All checks passed: from here on nothing can fail.
        self.discrepancies = (*self.discrepancies, *recorded)
        self.received_at = at
        self.status = KitStatus.QUARANTINED if recorded else KitStatus.RECEIVED
        events: list[DomainEvent] = [
            KitReceived(
                kit_serial=self.serial,
                kit_type=self.kit_type,
                bom_version=self.bom_version,
                shipment_id=self.shipment_id,
                unannounced=self.unannounced,
                cases=self.cases,
                discrepancy_count=len(recorded),
                received_at=at,
            )
        ]
        events.extend(
            DiscrepancyRecorded(
                kit_serial=self.serial,
                discrepancy_id=d.id,
                claim_code=d.claim_code,
                part_number=d.part_number,
                quantity=d.quantity,
                station=d.station,
                note=d.note,
                recorded_at=at,
            )
            for d in recorded
        )
        if recorded:
            events.append(
                KitQuarantined(
                    kit_serial=self.serial,
                    open_discrepancy_ids=tuple(d.id for d in recorded),
                    quarantined_at=at,
                )
            )
        return events

    # ---- discrepancies --------------------------------------------------------------------------

    def discrepancy(self, discrepancy_id: str) -> Discrepancy:
        for d in self.discrepancies:
            if d.id == discrepancy_id:
                return d
        raise NotFound("kit.discrepancy.not-found", f"kit {self.serial} has no discrepancy {discrepancy_id}")

    @property
    def open_discrepancies(self) -> tuple[Discrepancy, ...]:
        return tuple(d for d in self.discrepancies if d.is_open)

    @property
    def missing_parts(self) -> tuple[MissingPart, ...]:
        """Accepted shortages still outstanding: what the kit lacks on the line."""
        return tuple(
            MissingPart(
                discrepancy_id=d.id,
                claim_code=d.claim_code,
                part_number=d.part_number,
                quantity=d.quantity,
                station=d.station,
            )
            for d in self.discrepancies
            if d.is_accepted_shortage
        )

    def resolve(
        self, discrepancy_id: str, resolution: Resolution, at: datetime, by: str, note: str = ""
    ) -> list[DomainEvent]:
        current = self.discrepancy(discrepancy_id)
        updated = current.resolve(resolution, at, by, note)
        if updated is current:
            return []  # the same decision again: a resend from the dock or the logistics system

        self.discrepancies = tuple(updated if d.id == discrepancy_id else d for d in self.discrepancies)
        lifted = self.status is KitStatus.QUARANTINED and not self.open_discrepancies
        if lifted:
            self.status = KitStatus.RECEIVED
        if self.status in (KitStatus.RELEASED, KitStatus.CONSUMED):
            # A late replacement (or write-off) after release frees the stations that were waiting.
            self._refresh_shortage()

        events: list[DomainEvent] = [
            DiscrepancyResolved(
                kit_serial=self.serial,
                discrepancy_id=updated.id,
                claim_code=updated.claim_code,
                part_number=updated.part_number,
                resolution=Resolution(resolution),
                status=updated.status,
                note=note,
                resolved_by=by,
                resolved_at=at,
                build_short=self.build_short,
                waiting_stations=self.waiting_stations,
            )
        ]
        if lifted:
            events.append(QuarantineLifted(kit_serial=self.serial, lifted_at=at))
        return events

    # ---- to the line ----------------------------------------------------------------------------

    def release(self, at: datetime, by: str) -> list[DomainEvent]:
        require_aware(at, "release time")
        require_text(by, "released by")
        if self.status is KitStatus.RELEASED:
            return []
        still_open = self.open_discrepancies
        if still_open:
            raise ReleaseBlocked(self.serial, tuple((d.id, str(d.claim_code)) for d in still_open))
        self._require_status(KitStatus.RECEIVED, "kit.release.not-received", "released")
        if self.received_at is not None and at < self.received_at:
            raise InvalidInput(
                "kit.release.before-receipt",
                f"kit {self.serial} cannot be released at {at.isoformat()}, before its receipt at "
                f"{self.received_at.isoformat()}",
            )

        self.status = KitStatus.RELEASED
        self.released_at = at
        self.released_by = by
        self._refresh_shortage()
        return [
            KitReleased(
                kit_serial=self.serial,
                kit_type=self.kit_type,
                bom_version=self.bom_version,
                released_by=by,
                build_short=self.build_short,
                waiting_stations=self.waiting_stations,
                missing_parts=self.missing_parts,
                released_at=at,
            )
        ]

    def consume(self, at: datetime, vin: str) -> list[DomainEvent]:
        """Assembly-line bound the kit to a truck. A repeat for the same VIN changes nothing."""
        require_aware(at, "consumption time")
        if not isinstance(vin, str) or not _VIN.match(vin):
            raise InvalidInput(
                "kit.consume.invalid-vin",
                f"VIN {vin!r} is not 17 characters of A-Z and 0-9 without I, O and Q",
            )
        if self.status is KitStatus.CONSUMED:
            if self.vin == vin:
                return []
            raise Conflict(
                "kit.consume.other-vin",
                f"kit {self.serial} is already consumed by VIN {self.vin}, not {vin}",
            )
        self._require_status(KitStatus.RELEASED, "kit.consume.not-released", "consumed")
        self.status = KitStatus.CONSUMED
        self.consumed_at = at
        self.vin = vin
        return [KitConsumed(kit_serial=self.serial, vin=vin, consumed_at=at)]

    # ---- helpers --------------------------------------------------------------------------------

    def _require_status(self, required: KitStatus, rule: str, verb: str) -> None:
        if self.status is not required:
            raise Conflict(rule, f"kit {self.serial} is {self.status}; only a {required} kit can be {verb}")

    def _refresh_shortage(self) -> None:
        missing = self.missing_parts
        # Every accepted shortage makes the kit build-short, even a wrong part outside the BOM; but only
        # a part with a station can hold a truck, so only those stations wait.
        self.build_short = bool(missing)
        self.waiting_stations = tuple(sorted({m.station for m in missing if m.station is not None}))
