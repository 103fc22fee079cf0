"""Event handlers that keep the read models: kits from kit-receiving, people from workforce.

Each runs inside the consumer's inbox transaction (one savepoint per event), so it is applied once per
event id; it is deterministic given the event, and raises to be retried and then dead-lettered. Types
it does not use are skipped, so a new contract upstream never blocks a partition.

A late replacement part (DiscrepancyResolved after a build-short release) frees the stations that were
waiting for it: a truck held at one of them is released here, its VehicleHoldReleased going out through
the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from assembly_line.adapters.readmodels import Kits, People
from assembly_line.adapters.repository import Vehicles
from assembly_line.domain import MissingPart, Shortage
from assembly_line.service.handlers import publish
from assembly_line.settings import SERVICE
from mes_shared import outbox
from mes_shared.auth import Principal, Role
from mes_shared.commands import UnitOfWork
from mes_shared.envelope import Envelope
from mes_shared.events import kits as k
from mes_shared.events import people as p

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]

# Who acted, in the truck's history, when kit-receiving's event released a hold.
KIT_RECEIVING = Principal(subject="kit-receiving", role=Role.ADMIN)


def _handlers(*pairs: tuple[type, Handler]) -> dict[str, Handler]:
    return {contract.event_type: handler for contract, handler in pairs}  # type: ignore[attr-defined]


def _parts(parts: list[k.MissingPart]) -> list[dict[str, Any]]:
    return [
        {"discrepancy_id": m.discrepancy_id, "part_number": m.part_number, "quantity": m.quantity, "station": m.station}
        for m in parts
    ]


# ---- kits ---------------------------------------------------------------------------------------


async def _bom_published(session: AsyncSession, envelope: Envelope, e: k.KitTypeBomPublished) -> None:
    await Kits(session).kit_type(
        kit_type=e.kit_type,
        version=e.version,
        model=e.model,
        variant=e.variant,
        parts=[{"part_number": ln.part_number, "quantity": ln.quantity, "station": ln.station} for ln in e.lines],
    )


async def _announced(session: AsyncSession, envelope: Envelope, e: k.KitAnnounced) -> None:
    await Kits(session).apply(
        e.serial, envelope.time, status="announced", kit_type=e.kit_type, bom_version=e.bom_version
    )


async def _amended(session: AsyncSession, envelope: Envelope, e: k.KitAmended) -> None:
    await Kits(session).apply(e.serial, envelope.time, kit_type=e.kit_type, bom_version=e.bom_version)


async def _cancelled(session: AsyncSession, envelope: Envelope, e: k.KitCancelled) -> None:
    await Kits(session).apply(e.serial, envelope.time, status="cancelled")


async def _received(session: AsyncSession, envelope: Envelope, e: k.KitReceived) -> None:
    await Kits(session).apply(e.serial, envelope.time, status=e.status, kit_type=e.kit_type, bom_version=e.bom_version)


async def _quarantined(session: AsyncSession, envelope: Envelope, e: k.KitQuarantined) -> None:
    await Kits(session).apply(e.serial, envelope.time, status="quarantined")


async def _quarantine_lifted(session: AsyncSession, envelope: Envelope, e: k.KitQuarantineLifted) -> None:
    await Kits(session).apply(e.serial, envelope.time, status="received")


async def _consumed(session: AsyncSession, envelope: Envelope, e: k.KitConsumed) -> None:
    # kit-receiving following our BuildStarted; the binding to the VIN is ours already (vehicles.kit_serial).
    await Kits(session).apply(e.serial, envelope.time, status="consumed")


async def _released(session: AsyncSession, envelope: Envelope, e: k.KitReleased) -> None:
    await Kits(session).apply(
        e.serial,
        envelope.time,
        status="released",
        kit_type=e.kit_type,
        bom_version=e.bom_version,
        build_short=e.build_short,
        waiting_stations=sorted(e.waiting_stations),
        missing_parts=_parts(e.missing_parts),
        released_at=envelope.time,
    )


async def _discrepancy_resolved(session: AsyncSession, envelope: Envelope, e: k.DiscrepancyResolved) -> None:
    kits = Kits(session)
    missing = [m for m in await kits.missing_parts(e.serial) if m.get("discrepancy_id") != e.discrepancy_id]
    if e.discrepancy_status == "shortage_accepted":
        missing.append(
            {
                "discrepancy_id": e.discrepancy_id,
                "part_number": e.part_number,
                "quantity": e.quantity,
                "station": e.station,
            }
        )
    await kits.apply(
        e.serial,
        envelope.time,
        status=e.kit_status,
        build_short=e.build_short,
        waiting_stations=sorted(e.waiting_stations),
        missing_parts=missing,
    )
    shortage = Shortage(
        build_short=e.build_short,
        waiting_stations=frozenset(e.waiting_stations),
        missing_parts=tuple(
            MissingPart(part_number=m["part_number"], quantity=m["quantity"], station=m["station"])
            for m in missing
            if m.get("station")
        ),
    )
    # Lock the kit's trucks after the kit row changed: a station event holding one right now either
    # committed already (then it is seen held here) or waits for us (then it reads the freed kit).
    now = datetime.now(UTC)
    for vehicle in await Vehicles(session).of_kit_for_update(e.serial):
        events = vehicle.release_hold(shortage, envelope.time)
        if not events:
            continue
        await Vehicles(session).save(vehicle, at=now)
        uow = UnitOfWork(session, f"/mes/{SERVICE}", KIT_RECEIVING, envelope.correlationid)
        await publish(uow, vehicle, events, actor=f"kit-receiving ({e.resolved_by})")
        await outbox.append(session, uow.events)


KIT_HANDLERS = _handlers(
    (k.KitTypeBomPublished, _bom_published),
    (k.KitAnnounced, _announced),
    (k.KitAmended, _amended),
    (k.KitCancelled, _cancelled),
    (k.KitReceived, _received),
    (k.KitQuarantined, _quarantined),
    (k.KitQuarantineLifted, _quarantine_lifted),
    (k.KitReleased, _released),
    (k.KitConsumed, _consumed),
    (k.DiscrepancyResolved, _discrepancy_resolved),
)


# ---- people -------------------------------------------------------------------------------------


async def _registered(session: AsyncSession, envelope: Envelope, e: p.EmployeeRegistered) -> None:
    people = People(session)
    await people.employee(e.employee_id, badge_id=e.badge_id, name=e.name)
    await people.status(e.employee_id, e.status, e.status_since)


async def _updated(session: AsyncSession, envelope: Envelope, e: p.EmployeeUpdated) -> None:
    await People(session).employee(e.employee_id, badge_id=e.badge_id, name=e.name)


async def _status_changed(session: AsyncSession, envelope: Envelope, e: p.EmployeeStatusChanged) -> None:
    await People(session).status(e.employee_id, e.to_status, e.effective_date)


async def _recalled(session: AsyncSession, envelope: Envelope, e: p.EmployeeRecalled) -> None:
    await People(session).status(e.employee_id, "active", e.recalled_on)


async def _granted(
    session: AsyncSession, envelope: Envelope, e: p.QualificationGranted | p.QualificationRenewed
) -> None:
    await People(session).grant(
        employee_id=e.employee_id, station=e.station, level=e.level, valid_from=e.valid_from, valid_until=e.valid_until
    )


async def _revoked(session: AsyncSession, envelope: Envelope, e: p.QualificationRevoked) -> None:
    await People(session).end_qualification(
        employee_id=e.employee_id, station=e.station, at=e.revoked_at, reason="revoked"
    )


async def _expired(session: AsyncSession, envelope: Envelope, e: p.QualificationExpired) -> None:
    await People(session).end_qualification(
        employee_id=e.employee_id, station=e.station, at=e.expired_at, reason="expired"
    )


async def _clocked_in(session: AsyncSession, envelope: Envelope, e: p.ClockedIn) -> None:
    people = People(session)
    await people.employee(e.employee_id)
    await people.clock_in(employee_id=e.employee_id, badge_id=e.badge_id, station=e.station, line_id=e.line_id, at=e.at)


async def _clocked_out(session: AsyncSession, envelope: Envelope, e: p.ClockedOut) -> None:
    await People(session).clock_out(e.employee_id, e.at)


PEOPLE_HANDLERS = _handlers(
    (p.EmployeeRegistered, _registered),
    (p.EmployeeUpdated, _updated),
    (p.EmployeeStatusChanged, _status_changed),
    (p.EmployeeRecalled, _recalled),
    (p.QualificationGranted, _granted),
    (p.QualificationRenewed, _granted),
    (p.QualificationRevoked, _revoked),
    (p.QualificationExpired, _expired),
    (p.ClockedIn, _clocked_in),
    (p.ClockedOut, _clocked_out),
)


def _dispatcher(handlers: dict[str, Handler]) -> Callable[[AsyncSession, Envelope], Awaitable[None]]:
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        handler = handlers.get(envelope.type)
        if handler is not None:
            await handler(session, envelope, envelope.payload())

    return handle


on_kits_event = _dispatcher(KIT_HANDLERS)
on_people_event = _dispatcher(PEOPLE_HANDLERS)
