"""Kits: on hand by status, days of supply at the planned rate, open discrepancies by claim code, and the
trucks held by a shortage."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa

from reporting.api import schemas
from reporting.projections.tables import (
    bom_versions,
    discrepancies,
    discrepancy_changes,
    kit_status_changes,
    kits,
    routes,
    shipment_eta_changes,
    vehicles,
)
from reporting.service.changes import last_changes
from reporting.service.context import Reader
from reporting.service.holds import holds_as_of

ON_HAND = ("quarantined", "received", "released")
USABLE = ("received", "released")
DiscrepancyStatus = Literal["open", "shortage_accepted", "resolved", "all"]


def _held_query(reader: Reader, line_id: str | None) -> sa.Select[Any]:
    holds = holds_as_of(reader.at, line_id=line_id)
    return (
        sa.select(holds)
        .join(vehicles, vehicles.c.vin == holds.c.vin, isouter=True)
        .where(sa.or_(vehicles.c.completed_at.is_(None), vehicles.c.completed_at > reader.at))
        .order_by(holds.c.held_at, holds.c.vin)
    )


def _held(reader: Reader, row: Any) -> schemas.HeldTruck:
    return schemas.HeldTruck(
        vin=row.vin,
        line_id=row.line_id,
        station=row.station,
        kit_serial=row.kit_serial,
        held_at=row.held_at,
        held_minutes=round((reader.at - row.held_at).total_seconds() / 60, 1) if row.held_at else None,
        missing_parts=row.missing_parts or [],
    )


async def planned_daily_rate(reader: Reader, line_id: str | None) -> float | None:
    """The plan's trucks per working day this month: of the line, or of every line with a target."""
    line_ids = [line_id] if line_id is not None else await reader.known_lines()
    total, any_plan = 0.0, False
    for lid in line_ids:
        plan = await reader.plan(lid)
        rate = plan.daily_rate(plan.calendar.local_date(reader.at))
        if rate is not None:
            total += rate
            any_plan = True
    return total if any_plan else None


def _of_kit_type(kit_type: str | list[str] | None) -> list[sa.ColumnElement[bool]]:
    if kit_type is None:
        return []
    return [kits.c.kit_type == kit_type] if isinstance(kit_type, str) else [kits.c.kit_type.in_(kit_type)]


def _discrepancies_of(kit_type: str | list[str] | None) -> Any:
    """Discrepancies, joined with their kits when only some kit types are wanted."""
    if kit_type is None:
        return discrepancies
    return discrepancies.join(kits, kits.c.serial == discrepancies.c.serial)


async def line_kit_types(reader: Reader, line_id: str) -> list[str]:
    """Kit types of the models the line builds (its routes' models, the kit types' BOM models)."""
    rows = await reader.rows(
        sa.select(bom_versions.c.kit_type)
        .join(routes, sa.and_(routes.c.model == bom_versions.c.model, routes.c.line_id == line_id))
        .distinct()
    )
    return sorted(r.kit_type for r in rows)


async def kits_summary(reader: Reader, line_id: str | None, kit_type: str | None = None) -> schemas.KitsView:
    """Kits of one kit type if asked; for a line, the kit types of the models it builds (all kits while
    no kit type is known to be built on it); else every kit of the plant."""
    scope: str | list[str] | None = kit_type
    scope_name = f"kit type {kit_type}" if kit_type else "plant"
    # A line's kit types come from its routes and the kit types' BOMs as known now.
    scope_from_line = kit_type is None and line_id is not None
    if scope_from_line:
        types = await line_kit_types(reader, line_id)
        if types:
            scope, scope_name = types, f"kit types built on line {line_id}: {', '.join(types)}"
    by_kit_type = _of_kit_type(scope)
    statuses = last_changes(kit_status_changes, ("serial",), reader.at)
    kits_then = statuses.join(kits, kits.c.serial == statuses.c.serial)
    by_status = {
        r.status: int(r.n)
        for r in await reader.rows(
            sa.select(statuses.c.status, sa.func.count().label("n"))
            .select_from(kits_then)
            .where(*by_kit_type)
            .group_by(statuses.c.status)
        )
    }
    # A kit's expected arrival is its ASN's as last announced or corrected by then (the kit's own as announced
    # when no ASN event is known).
    etas = last_changes(shipment_eta_changes, ("shipment_id",), reader.at)
    expected = sa.func.coalesce(etas.c.expected_arrival, kits.c.expected_arrival)
    next_arrival = (
        await reader.rows(
            sa.select(sa.func.min(expected))
            .select_from(kits_then.join(etas, etas.c.shipment_id == kits.c.shipment_id, isouter=True))
            .where(statuses.c.status == "announced", expected >= reader.at, *by_kit_type)
        )
    )[0][0]
    states = last_changes(discrepancy_changes, ("serial", "discrepancy_id"), reader.at)
    discrepancies_then = states.join(kits, kits.c.serial == states.c.serial) if by_kit_type else states
    open_by_code = {
        r.claim_code: int(r.n)
        for r in await reader.rows(
            sa.select(states.c.claim_code, sa.func.count().label("n"))
            .select_from(discrepancies_then)
            .where(states.c.status == "open", *by_kit_type)
            .group_by(states.c.claim_code)
        )
    }
    accepted = (
        await reader.rows(
            sa.select(sa.func.count())
            .select_from(discrepancies_then)
            .where(states.c.status == "shortage_accepted", *by_kit_type)
        )
    )[0][0]
    held = [_held(reader, r) for r in await reader.rows(_held_query(reader, line_id))]
    short_where = [
        vehicles.c.build_short.is_(True),
        vehicles.c.started_at <= reader.at,
        sa.or_(vehicles.c.completed_at.is_(None), vehicles.c.completed_at > reader.at),
    ]
    if line_id is not None:
        short_where.append(vehicles.c.line_id == line_id)
    build_short = (await reader.rows(sa.select(sa.func.count()).select_from(vehicles).where(*short_where)))[0][0]
    usable = sum(by_status.get(s, 0) for s in USABLE)
    quarantined = by_status.get("quarantined", 0)
    rate = await planned_daily_rate(reader, line_id)
    note = None
    if rate is None:
        note = "no annual target for this year: days of supply need a planned rate"
    elif rate == 0:
        note = "the plan has no trucks this month: days of supply are unbounded"
    supply = round(usable / rate, 2) if rate else None
    return schemas.KitsView(
        as_planned_now=[f for f in reader.planned_now("/kits") if f != "scope" or scope_from_line],
        at=reader.at,
        scope=scope_name,
        by_status=dict(sorted(by_status.items())),
        on_hand=sum(by_status.get(s, 0) for s in ON_HAND),
        usable=usable,
        quarantined=quarantined,
        in_transit=by_status.get("announced", 0),
        next_arrival=next_arrival,
        planned_daily_rate=round(rate, 2) if rate is not None else None,
        days_of_supply=supply,
        days_of_supply_with_quarantined=round((usable + quarantined) / rate, 2) if rate else None,
        open_discrepancies_by_claim_code=dict(sorted(open_by_code.items())),
        accepted_shortages=accepted,
        trucks_held_by_shortage=len(held),
        build_short_in_production=build_short,
        held_trucks=held[:20],
        note=note,
    )


async def discrepancy_page(
    reader: Reader, status: DiscrepancyStatus, claim_code: str | None, kit_type: str | None, limit: int, offset: int
) -> schemas.DiscrepancyPage:
    where = _of_kit_type(kit_type)
    if status != "all":
        where.append(discrepancies.c.status == status)
    if claim_code is not None:
        where.append(discrepancies.c.claim_code == claim_code)
    total = (await reader.rows(sa.select(sa.func.count()).select_from(_discrepancies_of(kit_type)).where(*where)))[0][0]
    rows = await reader.rows(
        sa.select(discrepancies, kits.c.status.label("kit_status"))
        .join(kits, kits.c.serial == discrepancies.c.serial, isouter=True)
        .where(*where)
        .order_by(discrepancies.c.recorded_at, discrepancies.c.serial, discrepancies.c.discrepancy_id)
        .limit(limit)
        .offset(offset)
    )
    items = [
        schemas.DiscrepancyOut(
            serial=r.serial,
            discrepancy_id=r.discrepancy_id,
            claim_code=r.claim_code,
            part_number=r.part_number,
            quantity=r.quantity,
            station=r.station,
            status=r.status,
            resolution=r.resolution,
            recorded_at=r.recorded_at,
            resolved_at=r.resolved_at,
            kit_status=r.kit_status,
        )
        for r in rows
    ]
    return schemas.DiscrepancyPage(total=total, limit=limit, offset=offset, items=items)


async def held_page(reader: Reader, line_id: str | None, limit: int, offset: int) -> schemas.HeldTruckPage:
    query = _held_query(reader, line_id)
    total = (await reader.rows(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())))[0][0]
    rows = await reader.rows(query.limit(limit).offset(offset))
    return schemas.HeldTruckPage(
        as_planned_now=reader.planned_now("/kits/held-trucks"),
        total=total,
        limit=limit,
        offset=offset,
        items=[_held(reader, r) for r in rows],
    )
