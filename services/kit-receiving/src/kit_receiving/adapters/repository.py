"""Loads and saves kit-receiving aggregates. Writers lock the row they change (SELECT ... FOR UPDATE)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kit_receiving.adapters.tables import (
    RECORDED_ORDER,
    discrepancies,
    kit_history,
    kit_type_versions,
    kit_types,
    kits,
    shipments,
)
from kit_receiving.domain import (
    BomLine,
    BomVersion,
    ClaimCode,
    Discrepancy,
    DiscrepancyStatus,
    Kit,
    KitBom,
    KitStatus,
    Resolution,
    Shipment,
    ShipmentKit,
    ShipmentStatus,
)


class KitTypes:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, code: str, *, for_update: bool = False) -> sa.Row[Any] | None:
        query = sa.select(kit_types).where(kit_types.c.code == code)
        return (await self._s.execute(query.with_for_update() if for_update else query)).one_or_none()

    async def versions(self, codes: Iterable[str]) -> dict[str, list[BomVersion]]:
        """When each BOM version of the given kit types is in force, oldest first per kit type.

        The kit types are held (FOR SHARE) until commit, first, so a version being published (which holds its
        kit type FOR UPDATE and refuses to take effect before a kit's announcement) either is seen here or
        sees the kits announced with what is read here."""
        wanted = set(codes)
        await self._s.execute(
            sa.select(kit_types.c.code).where(kit_types.c.code.in_(wanted)).with_for_update(read=True)
        )
        rows = await self._s.execute(
            sa.select(kit_type_versions.c.kit_type, kit_type_versions.c.version, kit_type_versions.c.effective_from)
            .where(kit_type_versions.c.kit_type.in_(wanted))
            .order_by(kit_type_versions.c.kit_type, kit_type_versions.c.version)
        )
        found: dict[str, list[BomVersion]] = {}
        for row in rows:
            found.setdefault(row.kit_type, []).append(BomVersion(row.kit_type, row.version, row.effective_from))
        return found

    async def last_taken(self, code: str) -> datetime | None:
        """When a kit of the type last took a BOM version: announced, amended, or received unannounced."""
        announced = (
            sa.select(sa.func.max(kit_history.c.at))
            .join(kits, kits.c.serial == kit_history.c.serial)
            .where(
                kits.c.kit_type == code,
                kits.c.status != KitStatus.CANCELLED.value,  # a cancelled kit is never checked against a BOM
                kit_history.c.action.in_(("kit-announced", "kit-amended")),
            )
            .scalar_subquery()
        )
        unannounced = (
            sa.select(sa.func.max(kits.c.received_at))
            .where(kits.c.kit_type == code, kits.c.unannounced)
            .scalar_subquery()
        )
        return await self._s.scalar(sa.select(sa.func.greatest(announced, unannounced)))

    async def boms(self, versions: Iterable[BomVersion]) -> dict[str, KitBom]:
        """The BOMs of the given versions, by kit type."""
        wanted = {(v.kit_type, v.version) for v in versions}
        if not wanted:
            return {}
        rows = await self._s.execute(
            sa.select(kit_type_versions).where(
                sa.tuple_(kit_type_versions.c.kit_type, kit_type_versions.c.version).in_(wanted)
            )
        )
        return {row.kit_type: _bom(row) for row in rows}

    async def bom(self, code: str, version: int) -> KitBom | None:
        row = (
            await self._s.execute(
                sa.select(kit_type_versions).where(
                    kit_type_versions.c.kit_type == code, kit_type_versions.c.version == version
                )
            )
        ).one_or_none()
        return _bom(row) if row else None

    async def add(self, *, code: str, model: str, variant: str, description: str, at: datetime) -> None:
        await self._s.execute(
            sa.insert(kit_types).values(
                code=code, model=model, variant=variant, description=description, current_version=1, created_at=at
            )
        )

    async def add_version(self, bom: KitBom, *, effective_from: datetime, at: datetime, by: str) -> None:
        lines = [
            {
                "part_number": ln.part_number,
                "description": ln.description,
                "quantity": ln.quantity,
                "station": ln.station,
            }
            for ln in bom.lines
        ]
        await self._s.execute(
            sa.insert(kit_type_versions).values(
                kit_type=bom.kit_type,
                version=bom.version,
                lines=lines,
                effective_from=effective_from,
                published_at=at,
                published_by=by,
            )
        )
        await self._s.execute(
            sa.update(kit_types).where(kit_types.c.code == bom.kit_type).values(current_version=bom.version)
        )


def _bom(row: sa.Row[Any]) -> KitBom:
    return KitBom(row.kit_type, row.version, tuple(BomLine(**line) for line in row.lines))


class Kits:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get_for_update(self, serial: str) -> Kit | None:
        row = (await self._s.execute(sa.select(kits).where(kits.c.serial == serial).with_for_update())).one_or_none()
        if row is None:
            return None
        found = await self._s.execute(
            sa.select(discrepancies).where(discrepancies.c.serial == serial).order_by(*RECORDED_ORDER)
        )
        return _kit(row, [_discrepancy(d) for d in found])

    async def existing_serials(self, serials: Iterable[str]) -> dict[str, str | None]:
        """Serial -> shipment id, for the given serials that already exist."""
        rows = await self._s.execute(
            sa.select(kits.c.serial, kits.c.shipment_id).where(kits.c.serial.in_(set(serials)))
        )
        return {row.serial: row.shipment_id for row in rows}

    async def statuses_of_shipment(self, shipment_id: str) -> dict[str, KitStatus]:
        rows = await self._s.execute(sa.select(kits.c.serial, kits.c.status).where(kits.c.shipment_id == shipment_id))
        return {row.serial: KitStatus(row.status) for row in rows}

    async def save(self, kit: Kit, *, at: datetime, dock: str | None = None) -> None:
        values: dict[str, Any] = {
            "serial": kit.serial,
            "kit_type": kit.kit_type,
            "bom_version": kit.bom_version,
            "shipment_id": kit.shipment_id,
            "status": kit.status.value,
            "unannounced": kit.unannounced,
            "cases": list(kit.cases),
            "build_short": kit.build_short,
            "waiting_stations": list(kit.waiting_stations),
            "received_at": kit.received_at,
            "released_at": kit.released_at,
            "released_by": kit.released_by,
            "cancelled_at": kit.cancelled_at,
            "consumed_at": kit.consumed_at,
            "vin": kit.vin,
            "updated_at": at,
        }
        if dock is not None:
            values["dock"] = dock
        update = {k: v for k, v in values.items() if k != "serial"}
        await self._s.execute(insert(kits).values(values).on_conflict_do_update(index_elements=["serial"], set_=update))
        if kit.discrepancies:
            rows = [
                {
                    "id": d.id,
                    "serial": kit.serial,
                    "claim_code": d.claim_code.value,
                    "part_number": d.part_number,
                    "quantity": d.quantity,
                    "station": d.station,
                    "note": d.note,
                    "status": d.status.value,
                    "resolution": d.resolution.value if d.resolution else None,
                    "recorded_at": d.recorded_at,
                    "resolved_at": d.resolved_at,
                    "resolved_by": d.resolved_by,
                    "resolution_note": d.resolution_note,
                }
                for d in kit.discrepancies
            ]
            stmt = insert(discrepancies).values(rows)
            await self._s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["id"],
                    set_={
                        c: stmt.excluded[c]
                        for c in ("status", "resolution", "resolved_at", "resolved_by", "resolution_note")
                    },
                )
            )

    async def record_history(self, entries: list[Mapping[str, Any]]) -> None:
        if entries:
            await self._s.execute(sa.insert(kit_history), entries)


def _kit(row: sa.Row[Any], found: list[Discrepancy]) -> Kit:
    return Kit(
        serial=row.serial,
        kit_type=row.kit_type,
        bom_version=row.bom_version,
        shipment_id=row.shipment_id,
        status=KitStatus(row.status),
        unannounced=row.unannounced,
        cases=tuple(row.cases),
        discrepancies=tuple(found),
        received_at=row.received_at,
        released_at=row.released_at,
        released_by=row.released_by,
        build_short=row.build_short,
        waiting_stations=tuple(row.waiting_stations),
        cancelled_at=row.cancelled_at,
        consumed_at=row.consumed_at,
        vin=row.vin,
    )


def _discrepancy(row: sa.Row[Any]) -> Discrepancy:
    return Discrepancy(
        id=row.id,
        kit_serial=row.serial,
        claim_code=ClaimCode(row.claim_code),
        part_number=row.part_number,
        quantity=row.quantity,
        note=row.note,
        station=row.station,
        recorded_at=row.recorded_at,
        status=DiscrepancyStatus(row.status),
        resolution=Resolution(row.resolution) if row.resolution else None,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note or "",
    )


class Shipments:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get_for_update(self, shipment_id: str) -> tuple[Shipment, str] | None:
        """The shipment and the hash of its announced content."""
        row = (
            await self._s.execute(sa.select(shipments).where(shipments.c.shipment_id == shipment_id).with_for_update())
        ).one_or_none()
        if row is None:
            return None
        status = ShipmentStatus(row.status)
        query = sa.select(kits.c.serial, kits.c.kit_type, kits.c.cases).where(kits.c.shipment_id == shipment_id)
        if status is not ShipmentStatus.CANCELLED:
            # Kits a correction removed are cancelled and no longer part of the ASN.
            query = query.where(kits.c.status != KitStatus.CANCELLED.value)
        listed = tuple(
            ShipmentKit(serial=k.serial, kit_type=k.kit_type, cases=tuple(k.cases))
            for k in await self._s.execute(query.order_by(kits.c.serial))
        )
        shipment = Shipment(
            shipment_id=row.shipment_id,
            carrier=row.carrier,
            origin=row.origin,
            expected_arrival=row.expected_arrival,
            kits=listed,
            status=status,
        )
        return shipment, row.content_hash

    async def save(
        self,
        shipment: Shipment,
        *,
        content_hash: str,
        at: datetime,
        cancel_reason: str | None = None,
        new: bool = False,
    ) -> None:
        values = {
            "carrier": shipment.carrier,
            "origin": shipment.origin,
            "expected_arrival": shipment.expected_arrival,
            "status": shipment.status.value,
            "content_hash": content_hash,
            "updated_at": at,
        }
        if cancel_reason is not None:
            values["cancel_reason"] = cancel_reason
        if new:
            await self._s.execute(
                sa.insert(shipments).values(shipment_id=shipment.shipment_id, announced_at=at, **values)
            )
        else:
            await self._s.execute(
                sa.update(shipments).where(shipments.c.shipment_id == shipment.shipment_id).values(**values)
            )

    async def set_status(self, shipment_id: str, status: ShipmentStatus, at: datetime) -> None:
        await self._s.execute(
            sa.update(shipments)
            .where(shipments.c.shipment_id == shipment_id, shipments.c.status != status.value)
            .values(status=status.value, updated_at=at)
        )
