"""Read models served straight from the tables (the write side keeps them current in its transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
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
from kit_receiving.api import schemas
from kit_receiving.domain import ON_SITE_STATUSES, KitStatus
from mes_shared.versions import in_force

_ON_HAND = sorted(s.value for s in ON_SITE_STATUSES if s is not KitStatus.CONSUMED)


async def kit_type_view(
    session: AsyncSession, code: str, version: int | None = None, *, at: datetime | None = None
) -> schemas.KitTypeView | None:
    """A kit type with one BOM version: `version`, else the one in force at `at`, else the current one."""
    kit_type = (await session.execute(sa.select(kit_types).where(kit_types.c.code == code))).one_or_none()
    if kit_type is None:
        return None
    versions = (
        await session.execute(
            sa.select(kit_type_versions)
            .where(kit_type_versions.c.kit_type == code)
            .order_by(kit_type_versions.c.version)
        )
    ).all()
    if version is None and at is not None:
        bom = in_force(versions, at)
    else:
        wanted = version or kit_type.current_version
        bom = next((v for v in versions if v.version == wanted), None)
    if bom is None:
        return None
    return schemas.KitTypeView(
        code=kit_type.code,
        model=kit_type.model,
        variant=kit_type.variant,
        description=kit_type.description,
        current_version=kit_type.current_version,
        versions=[v.version for v in versions],
        bom=schemas.BomVersionView(
            kit_type=code,
            version=bom.version,
            effective_from=bom.effective_from,
            published_at=bom.published_at,
            published_by=bom.published_by,
            lines=bom.lines,
        ),
    )


async def list_kit_types(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(sa.select(kit_types).order_by(kit_types.c.code))
    return [dict(row._mapping) for row in rows]


def _discrepancy_view(row: sa.Row[Any]) -> schemas.DiscrepancyView:
    return schemas.DiscrepancyView.model_validate(row._mapping, from_attributes=False)


async def kit_view(session: AsyncSession, serial: str, *, with_history: bool) -> schemas.KitView | None:
    kit = (await session.execute(sa.select(kits).where(kits.c.serial == serial))).one_or_none()
    if kit is None:
        return None
    found = [
        _discrepancy_view(r)
        for r in await session.execute(
            sa.select(discrepancies).where(discrepancies.c.serial == serial).order_by(*RECORDED_ORDER)
        )
    ]
    missing = [
        schemas.MissingPartView(
            discrepancy_id=d.id,
            part_number=d.part_number,
            quantity=d.quantity,
            station=d.station,
            claim_code=d.claim_code,
        )
        for d in found
        if d.status == "shortage_accepted"
    ]
    fields = dict(kit._mapping) | {"discrepancies": found, "missing_parts": missing}
    if not with_history:
        return schemas.KitView.model_validate(fields)
    history = [
        schemas.HistoryEntry(at=h.at, action=h.action, actor=h.actor, detail=h.detail)
        for h in await session.execute(
            sa.select(kit_history).where(kit_history.c.serial == serial).order_by(kit_history.c.id)
        )
    ]
    return schemas.KitDetail.model_validate(fields | {"history": history})


async def shipment_view(session: AsyncSession, shipment_id: str) -> schemas.ShipmentView | None:
    row = (await session.execute(sa.select(shipments).where(shipments.c.shipment_id == shipment_id))).one_or_none()
    if row is None:
        return None
    listed = await session.execute(
        sa.select(kits.c.serial, kits.c.kit_type, kits.c.bom_version, kits.c.cases, kits.c.status)
        .where(kits.c.shipment_id == shipment_id)
        .order_by(kits.c.serial)
    )
    return schemas.ShipmentView.model_validate(dict(row._mapping) | {"kits": [dict(k._mapping) for k in listed]})


async def list_shipments(session: AsyncSession, *, status: str | None, limit: int, offset: int) -> schemas.ShipmentPage:
    where = [shipments.c.status == status] if status else []
    total = await session.scalar(sa.select(sa.func.count()).select_from(shipments).where(*where)) or 0
    ids = await session.scalars(
        sa.select(shipments.c.shipment_id)
        .where(*where)
        .order_by(shipments.c.expected_arrival, shipments.c.shipment_id)
        .limit(limit)
        .offset(offset)
    )
    items = [view for sid in ids if (view := await shipment_view(session, sid)) is not None]
    return schemas.ShipmentPage(items=items, total=total, limit=limit, offset=offset)


async def list_kits(
    session: AsyncSession,
    *,
    status: str | None,
    kit_type: str | None,
    shipment_id: str | None,
    unannounced: bool | None,
    build_short: bool | None,
    limit: int,
    offset: int,
) -> schemas.KitPage:
    where = []
    if status:
        where.append(kits.c.status == status)
    if kit_type:
        where.append(kits.c.kit_type == kit_type)
    if shipment_id:
        where.append(kits.c.shipment_id == shipment_id)
    if unannounced is not None:
        where.append(kits.c.unannounced.is_(unannounced))
    if build_short is not None:
        where.append(kits.c.build_short.is_(build_short))
    total = await session.scalar(sa.select(sa.func.count()).select_from(kits).where(*where)) or 0
    open_count = (
        sa.select(sa.func.count())
        .where(discrepancies.c.serial == kits.c.serial, discrepancies.c.status == "open")
        .scalar_subquery()
    )
    rows = await session.execute(
        sa.select(kits, open_count.label("open_discrepancies"))
        .where(*where)
        .order_by(kits.c.serial)
        .limit(limit)
        .offset(offset)
    )
    items = [schemas.KitSummary.model_validate(dict(r._mapping)) for r in rows]
    return schemas.KitPage(items=items, total=total, limit=limit, offset=offset)


async def inventory(session: AsyncSession, *, kit_type: str | None) -> schemas.Inventory:
    where = [kits.c.status.in_(_ON_HAND)]
    if kit_type:
        where.append(kits.c.kit_type == kit_type)
    rows = (
        await session.execute(
            sa.select(kits.c.kit_type, kits.c.status, sa.func.count().label("kits"))
            .where(*where)
            .group_by(kits.c.kit_type, kits.c.status)
            .order_by(kits.c.kit_type, kits.c.status)
        )
    ).all()
    by_status = dict.fromkeys(_ON_HAND, 0)
    for row in rows:
        by_status[row.status] += row.kits
    return schemas.Inventory(
        on_hand=sum(by_status.values()),
        by_status=by_status,
        by_type=[schemas.InventoryRow(kit_type=r.kit_type, status=r.status, kits=r.kits) for r in rows],
    )


async def list_discrepancies(
    session: AsyncSession, *, status: str | None, claim_code: str | None, limit: int, offset: int
) -> schemas.DiscrepancyPage:
    where = []
    if status:
        where.append(discrepancies.c.status == status)
    if claim_code:
        where.append(discrepancies.c.claim_code == claim_code)
    total = await session.scalar(sa.select(sa.func.count()).select_from(discrepancies).where(*where)) or 0
    rows = await session.execute(
        sa.select(discrepancies).where(*where).order_by(*RECORDED_ORDER).limit(limit).offset(offset)
    )
    return schemas.DiscrepancyPage(items=[_discrepancy_view(r) for r in rows], total=total, limit=limit, offset=offset)


async def open_discrepancy_summary(session: AsyncSession) -> schemas.OpenDiscrepancySummary:
    rows = (
        await session.execute(
            sa.select(
                discrepancies.c.claim_code,
                sa.func.count().label("n"),
                sa.func.sum(discrepancies.c.quantity).label("qty"),
            )
            .where(discrepancies.c.status == "open")
            .group_by(discrepancies.c.claim_code)
            .order_by(discrepancies.c.claim_code)
        )
    ).all()
    return schemas.OpenDiscrepancySummary(
        open_total=sum(r.n for r in rows),
        by_claim_code={r.claim_code: r.n for r in rows},
        quantity_by_claim_code={r.claim_code: int(r.qty) for r in rows},
    )
