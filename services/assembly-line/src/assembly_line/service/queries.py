"""Read models for the GET routes, served from the tables the write side keeps current in its transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from assembly_line.adapters.readmodels import Kits, People
from assembly_line.adapters.repository import vehicle_of
from assembly_line.adapters.tables import (
    andons,
    components,
    kits,
    lines,
    models,
    routes,
    station_events,
    stations,
    vehicle_history,
    vehicles,
)
from assembly_line.api import schemas
from assembly_line.domain import Conflict, StepStatus, Vehicle, VehicleStatus, require_bindable
from mes_shared.versions import in_force

# ---- configuration ------------------------------------------------------------------------------


async def line_view(session: AsyncSession, line_id: str) -> schemas.LineView | None:
    row = (await session.execute(sa.select(lines).where(lines.c.line_id == line_id))).one_or_none()
    if row is None:
        return None
    found = await session.execute(
        sa.select(stations.c.station_id, stations.c.name, stations.c.position)
        .where(stations.c.line_id == line_id, stations.c.active)
        .order_by(stations.c.position)
    )
    return schemas.LineView(
        **row._mapping, stations=[schemas.StationView.model_validate(dict(s._mapping)) for s in found]
    )


async def list_lines(session: AsyncSession) -> list[schemas.LineView]:
    ids = await session.scalars(sa.select(lines.c.line_id).order_by(lines.c.line_id))
    return [view for line_id in ids if (view := await line_view(session, line_id)) is not None]


async def model_view(session: AsyncSession, model: str) -> schemas.ModelView | None:
    row = (await session.execute(sa.select(models).where(models.c.model == model))).one_or_none()
    return schemas.ModelView.model_validate(dict(row._mapping)) if row else None


async def list_models(session: AsyncSession) -> list[schemas.ModelView]:
    rows = await session.execute(sa.select(models).order_by(models.c.model))
    return [schemas.ModelView.model_validate(dict(r._mapping)) for r in rows]


async def route_view(
    session: AsyncSession, line_id: str, model: str, version: int | None = None, *, at: datetime | None = None
) -> schemas.RouteView | None:
    """A version of the model's route: `version`, else the one in force at `at`, else the latest."""
    rows = (
        await session.execute(
            sa.select(routes).where(routes.c.line_id == line_id, routes.c.model == model).order_by(routes.c.version)
        )
    ).all()
    if not rows:
        return None
    if version is not None:
        chosen = next((r for r in rows if r.version == version), None)
    else:
        chosen = rows[-1] if at is None else in_force(rows, at)
    if chosen is None:
        return None
    return schemas.RouteView(
        line_id=chosen.line_id,
        model=chosen.model,
        version=chosen.version,
        steps=[schemas.RouteStepIn.model_validate(step) for step in chosen.steps],
        effective_from=chosen.effective_from,
        published_at=chosen.published_at,
        published_by=chosen.published_by,
        versions=[r.version for r in rows],
    )


async def list_routes(session: AsyncSession, line_id: str) -> list[schemas.RouteView]:
    model_codes = await session.scalars(
        sa.select(routes.c.model).where(routes.c.line_id == line_id).distinct().order_by(routes.c.model)
    )
    return [view for m in model_codes if (view := await route_view(session, line_id, m)) is not None]


# ---- build orders -------------------------------------------------------------------------------

_ORDER_COLUMNS = (
    vehicles.c.vin,
    vehicles.c.model,
    vehicles.c.variant,
    vehicles.c.line_id,
    vehicles.c.kit_serial,
    vehicles.c.status,
    vehicles.c.route_version,
    vehicles.c.current_station,
    vehicles.c.held_at,
    vehicles.c.open_defects,
    vehicles.c.created_at,
    vehicles.c.created_by,
    vehicles.c.started_at,
    vehicles.c.completed_at,
    vehicles.c.cancelled_at,
)


async def build_order_view(session: AsyncSession, vin: str) -> schemas.BuildOrderView | None:
    row = (await session.execute(sa.select(*_ORDER_COLUMNS).where(vehicles.c.vin == vin))).one_or_none()
    return schemas.BuildOrderView.model_validate(dict(row._mapping)) if row else None


async def list_build_orders(
    session: AsyncSession, *, status: str | None, line_id: str | None, model: str | None, limit: int, offset: int
) -> schemas.BuildOrderPage:
    where = []
    if status:
        where.append(vehicles.c.status == status)
    if line_id:
        where.append(vehicles.c.line_id == line_id)
    if model:
        where.append(vehicles.c.model == model)
    total = await session.scalar(sa.select(sa.func.count()).select_from(vehicles).where(*where)) or 0
    rows = await session.execute(
        sa.select(*_ORDER_COLUMNS)
        .where(*where)
        .order_by(vehicles.c.created_at, vehicles.c.vin)
        .limit(limit)
        .offset(offset)
    )
    items = [schemas.BuildOrderView.model_validate(dict(r._mapping)) for r in rows]
    return schemas.BuildOrderPage(items=items, total=total, limit=limit, offset=offset)


# ---- one truck: genealogy -----------------------------------------------------------------------

# For timeline entries at the same instant: the build's own facts first, then the terminal's, then the
# consequences (a hold follows the arrival that caused it).
_FIRST = {"build-order-created", "build-started"}


async def vehicle_view(session: AsyncSession, vin: str, *, now: datetime) -> schemas.VehicleView | None:
    row = (await session.execute(sa.select(vehicles).where(vehicles.c.vin == vin))).one_or_none()
    if row is None:
        return None
    vehicle = vehicle_of(row)
    kit = (
        await session.execute(
            sa.select(
                kits.c.kit_type, kits.c.bom_version, kits.c.status, kits.c.build_short, kits.c.waiting_stations
            ).where(kits.c.serial == vehicle.kit_serial)
        )
    ).one_or_none()
    logged = (
        await session.execute(
            sa.select(
                station_events.c.type,
                station_events.c.station,
                station_events.c.occurred_at,
                station_events.c.operator_id,
                station_events.c.payload,
                station_events.c.response,
                station_events.c.terminal,
            )
            .where(station_events.c.vin == vin)
            .order_by(station_events.c.occurred_at, station_events.c.received_at)
        )
    ).all()
    history = (
        await session.execute(
            sa.select(vehicle_history).where(vehicle_history.c.vin == vin).order_by(vehicle_history.c.id)
        )
    ).all()
    fitted = await session.execute(
        sa.select(components).where(components.c.vin == vin).order_by(components.c.fitted_at)
    )
    completed = vehicle.status is VehicleStatus.COMPLETED
    return schemas.VehicleView(
        vin=vin,
        model=vehicle.model,
        variant=vehicle.variant,
        line_id=vehicle.line_id,
        status=vehicle.status.value,
        route_version=vehicle.route_version,
        current_station=row.current_station,
        held_at=vehicle.held_at,
        held_since=vehicle.held_since,
        created_at=vehicle.created_at,
        started_at=vehicle.started_at,
        completed_at=vehicle.completed_at,
        lead_time_seconds=(vehicle.completed_at - vehicle.started_at).total_seconds()
        if completed and vehicle.completed_at and vehicle.started_at
        else None,
        first_pass=(not vehicle.defects) if completed else None,
        kit=schemas.KitSummary(
            serial=vehicle.kit_serial,
            kit_type=kit.kit_type if kit else None,
            bom_version=kit.bom_version if kit else None,
            status=kit.status if kit else None,
            build_short=kit.build_short if kit else False,
            waiting_stations=list(kit.waiting_stations) if kit else [],
        ),
        steps=[
            schemas.StepView(
                station=s.station,
                standard_seconds=s.standard_seconds,
                status=s.status.value,
                visits=s.visits,
                arrived_at=s.arrived_at,
                started_at=s.started_at,
                completed_at=s.completed_at,
                cycle_seconds=(s.completed_at - s.started_at).total_seconds()
                if s.completed_at and s.started_at
                else None,
                started_by=s.started_by,
                completed_by=s.completed_by,
            )
            for s in vehicle.steps
        ],
        defects=[
            schemas.DefectView(**{k: v for k, v in d.__dict__.items()}, status="open" if d.is_open else "repaired")
            for d in vehicle.defects
        ],
        components=[schemas.ComponentView.model_validate(dict(c._mapping)) for c in fitted],
        checks=[
            schemas.CheckView(
                station=e.station,
                characteristic=e.payload["characteristic"],
                value=e.payload["value"],
                nominal=e.payload["nominal"],
                tolerance=e.payload["tolerance"],
                unit=e.payload.get("unit", ""),
                passed=bool(e.response.get("defect_id") is None),
                defect_id=e.response.get("defect_id"),
                operator_id=e.operator_id,
                at=e.occurred_at,
            )
            for e in logged
            if e.type == "check_recorded"
        ],
        operators=_operators(logged),
        timeline=_timeline(logged, history),
    )


def _operators(logged: list[sa.Row[Any]]) -> list[schemas.OperatorWork]:
    work: dict[tuple[str, str], schemas.OperatorWork] = {}
    for e in logged:
        if e.operator_id is None:
            continue
        key = (e.operator_id, e.station)
        seen = work.get(key)
        if seen is None:
            work[key] = schemas.OperatorWork(
                operator_id=e.operator_id, station=e.station, events=1, first_at=e.occurred_at, last_at=e.occurred_at
            )
        else:
            work[key] = seen.model_copy(update={"events": seen.events + 1, "last_at": max(seen.last_at, e.occurred_at)})
    return list(work.values())


def _timeline(logged: list[sa.Row[Any]], history: list[sa.Row[Any]]) -> list[schemas.TimelineEntry]:
    entries: list[tuple[tuple[datetime, int, int], schemas.TimelineEntry]] = []
    for i, e in enumerate(logged):
        detail = {k: v for k, v in e.payload.items() if k not in ("type", "vin", "occurred_at", "operator_badge")} | {
            "terminal": e.terminal
        }
        entry = schemas.TimelineEntry(
            at=e.occurred_at, type=e.type, station=e.station, actor=e.operator_id, detail=detail
        )
        entries.append(((e.occurred_at, 1, i), entry))
    for i, h in enumerate(history):
        station = h.detail.get("station") or h.detail.get("to_station")
        entry = schemas.TimelineEntry(at=h.at, type=h.action, station=station, actor=h.actor, detail=h.detail)
        entries.append(((h.at, 0 if h.action in _FIRST else 2, i), entry))
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


# ---- WIP ----------------------------------------------------------------------------------------


def wip_truck(vehicle: Vehicle, now: datetime) -> tuple[str, schemas.WipTruck]:
    """The station a truck on the line occupies, and how long it has been there against the standard."""
    here = vehicle.location
    if here is None:
        step = vehicle.steps[0]
        state, since = "entering", vehicle.started_at
    else:
        step = vehicle.steps[here]
        state = {
            StepStatus.ARRIVED: "arrived",
            StepStatus.IN_PROGRESS: "in_progress",
            StepStatus.COMPLETED: "done",
            StepStatus.PENDING: "arrived",
        }[step.status]
        if vehicle.held_at == step.station:
            state = "held"
        since = step.arrived_at
    elapsed = max(0.0, (now - since).total_seconds()) if since else 0.0
    return step.station, schemas.WipTruck(
        vin=vehicle.vin,
        model=vehicle.model,
        state=state,  # type: ignore[arg-type]
        arrived_at=step.arrived_at,
        started_at=step.started_at,
        elapsed_seconds=round(elapsed, 3),
        standard_seconds=step.standard_seconds,
        over_standard=elapsed > step.standard_seconds,
        rework=step.rework,
        open_defects=len(vehicle.open_defects),
    )


async def _wip_of_line(session: AsyncSession, line_id: str, now: datetime) -> dict[str, list[schemas.WipTruck]]:
    rows = await session.execute(
        sa.select(vehicles).where(vehicles.c.line_id == line_id, vehicles.c.status == VehicleStatus.IN_PROGRESS.value)
    )
    by_station: dict[str, list[schemas.WipTruck]] = {}
    for row in rows:
        station, truck = wip_truck(vehicle_of(row), now)
        by_station.setdefault(station, []).append(truck)
    for trucks in by_station.values():
        trucks.sort(key=lambda t: (t.arrived_at is None, t.arrived_at or now, t.vin))
    return by_station


async def wip(session: AsyncSession, line_id: str, *, now: datetime) -> schemas.WipView | None:
    line = await line_view(session, line_id)
    if line is None:
        return None
    by_station = await _wip_of_line(session, line_id, now)
    result = []
    for station in line.stations:
        trucks = by_station.pop(station.station_id, [])
        result.append(
            schemas.WipStation(
                station_id=station.station_id,
                name=station.name,
                position=station.position,
                trucks=trucks,
                count=len(trucks),
                over_standard=sum(t.over_standard for t in trucks),
            )
        )
    return schemas.WipView(line_id=line_id, at=now, total=sum(s.count for s in result), stations=result)


# ---- andons -------------------------------------------------------------------------------------


def _andon_view(row: sa.Row[Any], now: datetime) -> schemas.AndonView:
    data = dict(row._mapping)
    open_seconds = None if row.cleared_at else round(max(0.0, (now - row.raised_at).total_seconds()), 3)
    return schemas.AndonView(**data, open_seconds=open_seconds)


async def list_andons(
    session: AsyncSession,
    *,
    open_only: bool | None,
    line_id: str | None,
    station: str | None,
    limit: int,
    offset: int,
    now: datetime,
) -> schemas.AndonPage:
    where = []
    if open_only is True:
        where.append(andons.c.cleared_at.is_(None))
    elif open_only is False:
        where.append(andons.c.cleared_at.is_not(None))
    if line_id:
        where.append(andons.c.line_id == line_id)
    if station:
        where.append(andons.c.station == station)
    total = await session.scalar(sa.select(sa.func.count()).select_from(andons).where(*where)) or 0
    rows = await session.execute(
        sa.select(andons)
        .where(*where)
        .order_by(andons.c.raised_at.desc(), andons.c.andon_id)
        .limit(limit)
        .offset(offset)
    )
    return schemas.AndonPage(items=[_andon_view(r, now) for r in rows], total=total, limit=limit, offset=offset)


# ---- kits and stations --------------------------------------------------------------------------


async def kit_view(session: AsyncSession, serial: str) -> schemas.KitView | None:
    facts = await Kits(session).facts(serial)
    if facts is None:
        return None
    refusal = None
    try:
        require_bindable(facts, serial=serial, vin="", model=facts.model or "", variant=None)
    except Conflict as exc:
        refusal = exc.rule
    missing = await Kits(session).missing_parts(serial)
    return schemas.KitView(
        serial=serial,
        kit_type=facts.kit_type,
        bom_version=(await session.scalar(sa.select(kits.c.bom_version).where(kits.c.serial == serial))),
        model=facts.model,
        variant=facts.variant,
        status=facts.status,
        build_short=facts.build_short,
        waiting_stations=list(facts.waiting_stations),
        missing_parts=missing,
        vin=facts.held_by_vin,
        available=refusal is None,
        refusal=refusal,
    )


async def station_detail(session: AsyncSession, station_id: str, *, now: datetime) -> schemas.StationDetail | None:
    row = (await session.execute(sa.select(stations).where(stations.c.station_id == station_id))).one_or_none()
    if row is None:
        return None
    open_row = (
        await session.execute(sa.select(andons).where(andons.c.station == station_id, andons.c.cleared_at.is_(None)))
    ).one_or_none()
    trucks = (await _wip_of_line(session, row.line_id, now)).get(station_id, [])
    present = await People(session).present(station_id, now)
    return schemas.StationDetail(
        station_id=row.station_id,
        name=row.name,
        line_id=row.line_id,
        position=row.position,
        active=row.active,
        open_andon=_andon_view(open_row, now) if open_row else None,
        trucks=trucks,
        operators=[
            schemas.PresentOperator(employee_id=p.employee_id, badge_id=p.badge_id, name=p.name, since=p.in_at)
            for p in present
        ],
    )
