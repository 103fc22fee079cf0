"""Maps the kit aggregate's domain events to the versioned wire contracts, and to history entries."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from kit_receiving import domain as d
from kit_receiving.domain import Kit
from mes_shared.envelope import EventData
from mes_shared.events import kits as wire


def _missing(parts: tuple[d.MissingPart, ...]) -> list[wire.MissingPart]:
    return [
        wire.MissingPart(
            discrepancy_id=p.discrepancy_id,
            part_number=p.part_number,
            quantity=p.quantity,
            station=p.station,
            claim_code=p.claim_code.value,
        )
        for p in parts
    ]


def to_wire(
    event: d.DomainEvent,
    kit: Kit,
    *,
    actor: str,
    dock: str | None,
    expected_arrival: datetime | None,
) -> EventData:
    """The contract for one domain event; `kit` is the aggregate after the command."""
    match event:
        case d.KitAnnounced():
            assert event.shipment_id is not None and expected_arrival is not None
            return wire.KitAnnounced(
                serial=event.kit_serial,
                kit_type=event.kit_type,
                bom_version=event.bom_version,
                shipment_id=event.shipment_id,
                cases=list(event.cases),
                expected_arrival=expected_arrival,
            )
        case d.KitAmended():
            return wire.KitAmended(
                serial=event.kit_serial, kit_type=event.kit_type, bom_version=event.bom_version, cases=list(event.cases)
            )
        case d.KitCancelled():
            return wire.KitCancelled(serial=event.kit_serial, shipment_id=event.shipment_id, reason=event.reason)
        case d.KitReceived():
            return wire.KitReceived(
                serial=event.kit_serial,
                kit_type=event.kit_type,
                bom_version=event.bom_version,
                shipment_id=event.shipment_id,
                unannounced=event.unannounced,
                dock=dock or "",
                received_by=actor,
                discrepancy_count=event.discrepancy_count,
                status="quarantined" if event.discrepancy_count else "received",
            )
        case d.DiscrepancyRecorded():
            return wire.DiscrepancyRecorded(
                serial=event.kit_serial,
                discrepancy_id=event.discrepancy_id,
                claim_code=event.claim_code.value,
                part_number=event.part_number,
                quantity=event.quantity,
                station=event.station,
                note=event.note,
            )
        case d.KitQuarantined():
            codes = sorted({kit.discrepancy(i).claim_code.value for i in event.open_discrepancy_ids})
            return wire.KitQuarantined(
                serial=event.kit_serial, open_discrepancy_ids=list(event.open_discrepancy_ids), claim_codes=codes
            )
        case d.DiscrepancyResolved():
            found = kit.discrepancy(event.discrepancy_id)
            return wire.DiscrepancyResolved(
                serial=event.kit_serial,
                discrepancy_id=event.discrepancy_id,
                claim_code=event.claim_code.value,
                part_number=event.part_number,
                quantity=found.quantity,
                station=found.station,
                resolution=event.resolution.value,
                discrepancy_status=event.status.value,
                resolved_by=event.resolved_by,
                note=event.note,
                kit_status=kit.status.value,
                build_short=event.build_short,
                waiting_stations=list(event.waiting_stations),
            )
        case d.QuarantineLifted():
            return wire.KitQuarantineLifted(serial=event.kit_serial, accepted_shortages=_missing(kit.missing_parts))
        case d.KitReleased():
            return wire.KitReleased(
                serial=event.kit_serial,
                kit_type=event.kit_type,
                bom_version=event.bom_version,
                build_short=event.build_short,
                waiting_stations=list(event.waiting_stations),
                missing_parts=_missing(event.missing_parts),
                released_by=event.released_by,
            )
        case d.KitConsumed():
            return wire.KitConsumed(serial=event.kit_serial, vin=event.vin)
    raise TypeError(f"kit-receiving does not publish {type(event).__name__}")


def event_time(event: d.DomainEvent) -> datetime:
    """When the fact happened: every domain event carries exactly one `*_at` time."""
    for f in dataclasses.fields(event):
        if f.name.endswith("_at"):
            value = getattr(event, f.name)
            assert isinstance(value, datetime)
            return value
    raise TypeError(f"{type(event).__name__} has no time")


def history_entry(event: d.DomainEvent, actor: str) -> dict[str, Any]:
    detail = {
        f.name: _plain(getattr(event, f.name))
        for f in dataclasses.fields(event)
        if f.name != "kit_serial" and not f.name.endswith("_at")
    }
    action = "".join(f"-{c.lower()}" if c.isupper() else c for c in type(event).__name__).lstrip("-")
    return {"serial": event.kit_serial, "at": event_time(event), "action": action, "actor": actor, "detail": detail}


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    return value
