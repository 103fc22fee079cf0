"""Command handlers: load the aggregate, call the domain, save, emit events; one unit of work each.

The unit of work (shared `commands.execute`) wraps each handler in one transaction with its
idempotency key and outbox rows, so a handler only states what happens.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from kit_receiving.adapters.repository import Kits, KitTypes, Shipments
from kit_receiving.api import schemas
from kit_receiving.domain import (
    BomLine,
    BomVersion,
    Conflict,
    CountedLine,
    DomainEvent,
    Finding,
    InvalidInput,
    Kit,
    KitBom,
    NotFound,
    Resolution,
    Shipment,
    ShipmentKit,
    derive_status,
    next_bom_version,
)
from kit_receiving.service import queries
from kit_receiving.service.wire import event_time, history_entry, to_wire
from mes_shared.commands import Outcome, UnitOfWork
from mes_shared.events import kits as wire
from mes_shared.versions import in_force

# Terminals and scanners keep their own clocks; a little skew is normal, a fact from tomorrow is not.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


def _occurred_at(at: datetime | None, what: str) -> datetime:
    now = _now()
    if at is None:
        return now
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput(f"{what}.in-future", f"{what} {at.isoformat()} is in the future (now {now.isoformat()})")
    return at


def _bom(code: str, version: int, lines: Iterable[schemas.BomLineIn]) -> KitBom:
    return KitBom(
        code, version, tuple(BomLine(ln.part_number, ln.description, ln.quantity, ln.station) for ln in lines)
    )


def _content_hash(body: schemas.Body) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


async def record(
    uow: UnitOfWork,
    kit: Kit,
    events: list[DomainEvent],
    *,
    dock: str | None = None,
    expected_arrival: datetime | None = None,
) -> None:
    """Save the kit with its history, and put its events in the outbox."""
    at = _now()
    kits = Kits(uow.session)
    await kits.save(kit, at=at, dock=dock)
    await kits.record_history([history_entry(e, uow.principal.subject) for e in events])
    for event in events:
        uow.emit(
            to_wire(event, kit, actor=uow.principal.subject, dock=dock, expected_arrival=expected_arrival),
            subject=kit.serial,
            time=event_time(event),
        )


# ---- kit types ----------------------------------------------------------------------------------


def _bom_published(kit_type: schemas.KitTypeView) -> wire.KitTypeBomPublished:
    return wire.KitTypeBomPublished(
        kit_type=kit_type.code,
        model=kit_type.model,
        variant=kit_type.variant,
        version=kit_type.bom.version,
        lines=[wire.BomLine(**line.model_dump()) for line in kit_type.bom.lines],
    )


async def create_kit_type(uow: UnitOfWork, body: schemas.KitTypeCreate) -> Outcome:
    effective_from = _occurred_at(body.effective_from, "effective_from")
    repo = KitTypes(uow.session)
    if await repo.get(body.code, for_update=True) is not None:
        raise Conflict(
            "kit-type.exists",
            f"kit type {body.code} already exists; publish a new BOM version with "
            f"POST /kit-types/{body.code}/bom-versions",
        )
    first = next_bom_version(body.code, None, effective_from)
    bom = _bom(body.code, first.version, body.lines)
    at = _now()
    await repo.add(code=body.code, model=body.model, variant=body.variant, description=body.description, at=at)
    await repo.add_version(bom, effective_from=first.effective_from, at=at, by=uow.principal.subject)
    return await _bom_outcome(uow, first)


async def publish_bom_version(uow: UnitOfWork, code: str, body: schemas.BomVersionCreate) -> Outcome:
    effective_from = _occurred_at(body.effective_from, "effective_from")
    repo = KitTypes(uow.session)
    if await repo.get(code, for_update=True) is None:  # one version at a time per kit type
        raise NotFound("kit-type.not-found", f"kit type {code} does not exist")
    published = next_bom_version(
        code, (await repo.versions([code]))[code][-1], effective_from, last_taken=await repo.last_taken(code)
    )
    bom = _bom(code, published.version, body.lines)
    await repo.add_version(bom, effective_from=published.effective_from, at=_now(), by=uow.principal.subject)
    return await _bom_outcome(uow, published)


async def _bom_outcome(uow: UnitOfWork, published: BomVersion) -> Outcome:
    view = await queries.kit_type_view(uow.session, published.kit_type)
    assert view is not None
    # The envelope's time is the fact's: the version took effect then, whenever it was entered.
    uow.emit(_bom_published(view), subject=published.kit_type, time=published.effective_from)
    return Outcome(201, view)


# ---- shipments ----------------------------------------------------------------------------------


async def _boms_in_force(
    uow: UnitOfWork, kit_types: Iterable[str], at: datetime, shipment_id: str
) -> dict[str, KitBom]:
    """The BOM version of each kit type in force at `at` (when the kits were announced)."""
    wanted = set(kit_types)
    repo = KitTypes(uow.session)
    versions = await repo.versions(wanted)
    unknown = sorted(wanted - versions.keys())
    if unknown:
        raise InvalidInput(
            "shipment.kit-type.unknown", f"shipment {shipment_id} names unknown kit type(s): {', '.join(unknown)}"
        )
    return await repo.boms(chosen for v in versions.values() if (chosen := in_force(v, at)) is not None)


async def _refuse_existing_serials(uow: UnitOfWork, serials: Iterable[str]) -> None:
    existing = await Kits(uow.session).existing_serials(serials)
    if existing:
        listed = ", ".join(
            f"{s} (shipment {sid or 'none: received unannounced'})" for s, sid in sorted(existing.items())
        )
        raise Conflict("kit.serial.duplicate", f"kit serial(s) already known: {listed}")


def _shipment_kits(kits: list[schemas.ShipmentKitIn]) -> tuple[ShipmentKit, ...]:
    return tuple(ShipmentKit(serial=k.serial, kit_type=k.kit_type, cases=tuple(k.cases)) for k in kits)


async def _shipment_outcome(uow: UnitOfWork, shipment_id: str, status: int) -> Outcome:
    view = await queries.shipment_view(uow.session, shipment_id)
    assert view is not None
    return Outcome(status, view)


async def announce_shipment(uow: UnitOfWork, body: schemas.ShipmentAnnounce) -> Outcome:
    repo = Shipments(uow.session)
    found = await repo.get_for_update(body.shipment_id)
    if found is not None:
        if found[1] == _content_hash(body):
            return await _shipment_outcome(uow, body.shipment_id, 200)  # the sender resent its ASN
        raise Conflict(
            "shipment.announce.changed",
            f"shipment {body.shipment_id} was already announced with other content; send a correction "
            f"with PUT /shipments/{body.shipment_id}",
        )
    shipment = Shipment(
        shipment_id=body.shipment_id,
        carrier=body.carrier,
        origin=body.origin,
        expected_arrival=body.expected_arrival,
        kits=_shipment_kits(body.kits),
    )
    at = _occurred_at(body.announced_at, "announced_at")
    boms = await _boms_in_force(uow, (k.kit_type for k in shipment.kits), at, shipment.shipment_id)
    await _refuse_existing_serials(uow, shipment.serials)
    await repo.save(shipment, content_hash=_content_hash(body), at=at, new=True)
    announced: list[wire.AnnouncedKit] = []
    for listed in shipment.kits:
        bom = boms[listed.kit_type]
        kit, events = Kit.announce(
            serial=listed.serial,
            kit_type=listed.kit_type,
            bom_version=bom.version,
            shipment_id=shipment.shipment_id,
            cases=listed.cases,
            at=at,
        )
        await record(uow, kit, events, expected_arrival=shipment.expected_arrival)
        announced.append(
            wire.AnnouncedKit(
                serial=kit.serial, kit_type=kit.kit_type, bom_version=kit.bom_version, cases=list(kit.cases)
            )
        )
    uow.emit(
        wire.ShipmentAnnounced(
            shipment_id=shipment.shipment_id,
            carrier=shipment.carrier,
            origin=shipment.origin,
            expected_arrival=shipment.expected_arrival,
            kits=announced,
        ),
        subject=shipment.shipment_id,
        time=at,
    )
    return await _shipment_outcome(uow, shipment.shipment_id, 201)


async def _load_shipment(uow: UnitOfWork, shipment_id: str) -> Shipment:
    found = await Shipments(uow.session).get_for_update(shipment_id)
    if found is None:
        raise NotFound("shipment.not-found", f"shipment {shipment_id} was never announced")
    return found[0]


async def _load_kit(uow: UnitOfWork, serial: str) -> Kit:
    kit = await Kits(uow.session).get_for_update(serial)
    if kit is None:
        raise NotFound("kit.not-found", f"kit {serial} is not known")
    return kit


async def correct_shipment(uow: UnitOfWork, shipment_id: str, body: schemas.ShipmentCorrection) -> Outcome:
    shipment = await _load_shipment(uow, shipment_id)
    statuses = await Kits(uow.session).statuses_of_shipment(shipment_id)
    corrected, plan = shipment.correct(
        carrier=body.carrier,
        origin=body.origin,
        expected_arrival=body.expected_arrival,
        kits=_shipment_kits(body.kits),
        kit_statuses=statuses,
    )
    if plan.is_empty and corrected == shipment:
        return await _shipment_outcome(uow, shipment_id, 200)
    at = _now()
    boms = await _boms_in_force(uow, (k.kit_type for k in corrected.kits), at, shipment_id)
    await _refuse_existing_serials(uow, (k.serial for k in plan.added))
    for removed in plan.removed:
        kit = await _load_kit(uow, removed.serial)
        await record(uow, kit, kit.cancel(at, reason=f"removed from shipment {shipment_id} by a correction"))
    for changed in plan.changed:
        kit = await _load_kit(uow, changed.serial)
        events = kit.amend(
            kit_type=changed.kit_type, bom_version=boms[changed.kit_type].version, cases=changed.cases, at=at
        )
        await record(uow, kit, events)
    for added in plan.added:
        kit, events = Kit.announce(
            serial=added.serial,
            kit_type=added.kit_type,
            bom_version=boms[added.kit_type].version,
            shipment_id=shipment_id,
            cases=added.cases,
            at=at,
        )
        await record(uow, kit, events, expected_arrival=corrected.expected_arrival)
    await Shipments(uow.session).save(corrected, content_hash=_content_hash(body), at=at)
    view = await queries.shipment_view(uow.session, shipment_id)
    assert view is not None
    uow.emit(
        wire.ShipmentCorrected(
            shipment_id=shipment_id,
            carrier=corrected.carrier,
            origin=corrected.origin,
            expected_arrival=corrected.expected_arrival,
            kits=[
                wire.AnnouncedKit(serial=k.serial, kit_type=k.kit_type, bom_version=k.bom_version, cases=k.cases)
                for k in view.kits
                if k.status != "cancelled"
            ],
            added_serials=[k.serial for k in plan.added],
            removed_serials=[k.serial for k in plan.removed],
        ),
        subject=shipment_id,
        time=at,
    )
    return Outcome(200, view)


async def cancel_shipment(uow: UnitOfWork, shipment_id: str, body: schemas.ShipmentCancel) -> Outcome:
    shipment = await _load_shipment(uow, shipment_id)
    statuses = await Kits(uow.session).statuses_of_shipment(shipment_id)
    cancelled = shipment.cancel(statuses)
    if cancelled is shipment:
        return await _shipment_outcome(uow, shipment_id, 200)
    at = _now()
    for serial in shipment.serials:
        kit = await _load_kit(uow, serial)
        await record(uow, kit, kit.cancel(at, reason=body.reason))
    await Shipments(uow.session).save(cancelled, content_hash=_content_hash(body), at=at, cancel_reason=body.reason)
    uow.emit(
        wire.ShipmentCancelled(shipment_id=shipment_id, reason=body.reason, cancelled_serials=list(shipment.serials)),
        subject=shipment_id,
        time=at,
    )
    return await _shipment_outcome(uow, shipment_id, 200)


# ---- receipt, discrepancies, release ------------------------------------------------------------


def _discrepancy_ids(kit_serial: str, already: int) -> Iterator[str]:
    # Readable on the dock screen and deterministic for the kit: KIT-0001-D1, -D2, ...
    return (f"{kit_serial}-D{n}" for n in itertools.count(already + 1))


def _counted(lines: list[schemas.CountedLineIn]) -> tuple[CountedLine, ...]:
    return tuple(
        CountedLine(ln.part_number, ln.counted, tuple(Finding(f.claim_code, f.quantity, f.note) for f in ln.findings))
        for ln in lines
    )


async def _kit_outcome(uow: UnitOfWork, serial: str, status: int = 200) -> Outcome:
    view = await queries.kit_view(uow.session, serial, with_history=False)
    assert view is not None
    return Outcome(status, view)


async def receive_kit(uow: UnitOfWork, serial: str, body: schemas.ReceiptIn) -> Outcome:
    at = _occurred_at(body.received_at, "received_at")
    kits = Kits(uow.session)
    shipment_id = (await kits.existing_serials([serial])).get(serial)
    if shipment_id is not None:
        await Shipments(uow.session).get_for_update(shipment_id)  # receipts of one ASN update it one at a time
    kit = await kits.get_for_update(serial)
    if kit is None:
        if body.kit_type is None:
            raise InvalidInput(
                "kit.receive.unannounced-needs-type",
                f"kit {serial} was never announced; give its kit_type to receive it as unannounced",
            )
        versions = (await KitTypes(uow.session).versions([body.kit_type])).get(body.kit_type, [])
        version = in_force(versions, at)  # nobody announced it: the version in force when it was received
        if version is None:
            raise InvalidInput("kit.receive.kit-type-unknown", f"kit type {body.kit_type} is not known")
        kit, events = Kit.receive_unannounced(
            serial=serial,
            bom=(await KitTypes(uow.session).boms([version]))[body.kit_type],
            at=at,
            counted_lines=_counted(body.lines),
            discrepancy_ids=_discrepancy_ids(serial, 0),
            cases=body.cases,
        )
    else:
        if body.kit_type is not None and body.kit_type != kit.kit_type:
            raise InvalidInput(
                "kit.receive.kit-type-mismatch", f"kit {serial} was announced as {kit.kit_type}, not {body.kit_type}"
            )
        bom = await KitTypes(uow.session).bom(kit.kit_type, kit.bom_version)
        assert bom is not None, "a kit always references a published BOM version"
        events = kit.receive(at, bom, _counted(body.lines), _discrepancy_ids(serial, len(kit.discrepancies)))
    await record(uow, kit, events, dock=body.dock)
    if kit.shipment_id is not None:
        statuses = await kits.statuses_of_shipment(kit.shipment_id)
        await Shipments(uow.session).set_status(kit.shipment_id, derive_status(statuses.values()), _now())
    return await _kit_outcome(uow, serial)


async def resolve_discrepancy(uow: UnitOfWork, serial: str, discrepancy_id: str, body: schemas.ResolutionIn) -> Outcome:
    at = _occurred_at(body.resolved_at, "resolved_at")
    kit = await _load_kit(uow, serial)
    events = kit.resolve(discrepancy_id, Resolution(body.resolution), at, uow.principal.subject, body.note)
    await record(uow, kit, events)
    return await _kit_outcome(uow, serial)


async def release_kit(uow: UnitOfWork, serial: str, body: schemas.ReleaseIn) -> Outcome:
    at = _occurred_at(body.released_at, "released_at")
    kit = await _load_kit(uow, serial)
    await record(uow, kit, kit.release(at, uow.principal.subject))
    return await _kit_outcome(uow, serial)
