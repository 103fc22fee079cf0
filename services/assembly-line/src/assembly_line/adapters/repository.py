"""Loads and saves configuration, trucks, the terminals' event log, components, andons and history.

Writers lock the one row they change (SELECT ... FOR UPDATE): the truck for its station events, the
station for its andons, the line for its configuration.

The station-event hot path has its own data access on asyncpg (hotpath.py); what it shares with this
module is the mapping between a truck and its row (`vehicle_of`, `state_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assembly_line.adapters.tables import (
    lines,
    models,
    routes,
    stations,
    vehicle_history,
    vehicles,
)
from assembly_line.domain import (
    Defect,
    LastEvent,
    Line,
    Route,
    RouteStep,
    Station,
    Step,
    StepStatus,
    Variant,
    Vehicle,
    VehicleModel,
    VehicleStatus,
)

# ---- configuration ------------------------------------------------------------------------------


class Lines:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, line_id: str, *, for_update: bool = False) -> Line | None:
        query = sa.select(lines).where(lines.c.line_id == line_id)
        row = (await self._s.execute(query.with_for_update() if for_update else query)).one_or_none()
        if row is None:
            return None
        found = await self._s.execute(
            sa.select(stations.c.station_id, stations.c.name, stations.c.position)
            .where(stations.c.line_id == line_id, stations.c.active)
            .order_by(stations.c.position)
        )
        return Line(row.line_id, row.name, tuple(Station(*s) for s in found), row.revision)

    async def station_lines(self, station_ids: Iterable[str]) -> dict[str, str]:
        """Station id -> line id, for those of `station_ids` that are active on some line."""
        rows = await self._s.execute(
            sa.select(stations.c.station_id, stations.c.line_id).where(
                stations.c.station_id.in_(sorted(set(station_ids))), stations.c.active
            )
        )
        return {r.station_id: r.line_id for r in rows}

    async def save(self, line: Line, *, at: datetime, by: str) -> None:
        values = {"name": line.name, "revision": line.revision, "configured_at": at, "configured_by": by}
        await self._s.execute(
            insert(lines)
            .values(line_id=line.line_id, **values)
            .on_conflict_do_update(index_elements=["line_id"], set_=values)
        )
        rows = [
            {
                "station_id": s.station_id,
                "line_id": line.line_id,
                "name": s.name,
                "position": s.position,
                "active": True,
            }
            for s in line.stations
        ]
        stmt = insert(stations).values(rows)
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["station_id"],
                set_={c: stmt.excluded[c] for c in ("line_id", "name", "position", "active")},
            )
        )
        await self._s.execute(
            sa.update(stations)
            .where(stations.c.line_id == line.line_id, stations.c.station_id.not_in(list(line.station_ids)))
            .values(active=False)
        )


class Models:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, model: str, *, for_update: bool = False) -> VehicleModel | None:
        query = sa.select(models).where(models.c.model == model)
        row = (await self._s.execute(query.with_for_update() if for_update else query)).one_or_none()
        if row is None:
            return None
        return VehicleModel(row.model, row.name, tuple(Variant(v["code"], v["name"]) for v in row.variants))

    async def save(self, model: VehicleModel, *, at: datetime, by: str) -> None:
        values = {
            "name": model.name,
            "variants": [{"code": v.code, "name": v.name} for v in model.variants],
            "updated_at": at,
            "updated_by": by,
        }
        await self._s.execute(
            insert(models)
            .values(model=model.model, defined_at=at, **values)
            .on_conflict_do_update(index_elements=["model"], set_=values)
        )


def _route(row: sa.Row[Any]) -> Route:
    return Route(
        row.line_id,
        row.model,
        row.version,
        tuple(RouteStep(s["station_id"], float(s["standard_seconds"])) for s in row.steps),
        row.effective_from,
    )


class Routes:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def latest(self, line_id: str, model: str) -> Route | None:
        row = (
            await self._s.execute(
                sa.select(routes)
                .where(routes.c.line_id == line_id, routes.c.model == model)
                .order_by(routes.c.version.desc())
                .limit(1)
            )
        ).one_or_none()
        return _route(row) if row else None

    async def versions(self, line_id: str, model: str) -> list[Route]:
        """Every version of the model's route on the line, oldest first (a handful: few models, rare changes).

        For a truck being planned or started: the line is held (FOR SHARE) until commit, first, so a version
        being published (which holds the line FOR UPDATE and refuses to take effect before a truck's start)
        either is seen here or sees this truck's start."""
        await self._s.execute(sa.select(lines.c.line_id).where(lines.c.line_id == line_id).with_for_update(read=True))
        rows = await self._s.execute(
            sa.select(routes).where(routes.c.line_id == line_id, routes.c.model == model).order_by(routes.c.version)
        )
        return [_route(r) for r in rows]

    async def latest_of_line(self, line_id: str) -> list[Route]:
        rows = await self._s.execute(
            sa.select(routes)
            .distinct(routes.c.model)
            .where(routes.c.line_id == line_id)
            .order_by(routes.c.model, routes.c.version.desc())
        )
        return [_route(r) for r in rows]

    async def add(self, route: Route, *, at: datetime, by: str) -> None:
        await self._s.execute(
            sa.insert(routes).values(
                line_id=route.line_id,
                model=route.model,
                version=route.version,
                steps=[{"station_id": s.station_id, "standard_seconds": s.standard_seconds} for s in route.steps],
                effective_from=route.effective_from,
                published_at=at,
                published_by=by,
            )
        )


# ---- trucks -------------------------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def steps_json(steps: Iterable[Step]) -> list[dict[str, Any]]:
    return [
        {
            "station": s.station,
            "standard_seconds": s.standard_seconds,
            "status": s.status.value,
            "visits": s.visits,
            "arrived_at": _iso(s.arrived_at),
            "started_at": _iso(s.started_at),
            "completed_at": _iso(s.completed_at),
            "started_by": s.started_by,
            "completed_by": s.completed_by,
        }
        for s in steps
    ]


def steps_of(data: Iterable[Mapping[str, Any]]) -> list[Step]:
    return [
        Step(
            station=s["station"],
            standard_seconds=float(s["standard_seconds"]),
            status=StepStatus(s["status"]),
            visits=s["visits"],
            arrived_at=_at(s["arrived_at"]),
            started_at=_at(s["started_at"]),
            completed_at=_at(s["completed_at"]),
            started_by=s["started_by"],
            completed_by=s["completed_by"],
        )
        for s in data
    ]


def defects_json(defects: Iterable[Defect]) -> list[dict[str, Any]]:
    return [
        {
            "defect_id": d.defect_id,
            "code": d.code,
            "severity": d.severity,
            "station": d.station,
            "caused_at_station": d.caused_at_station,
            "note": d.note,
            "from_check": d.from_check,
            "found_at": _iso(d.found_at),
            "found_by": d.found_by,
            "repaired_at": _iso(d.repaired_at),
            "repaired_by": d.repaired_by,
            "repaired_station": d.repaired_station,
            "repair_note": d.repair_note,
        }
        for d in defects
    ]


def defects_of(data: Iterable[Mapping[str, Any]]) -> list[Defect]:
    found = []
    for d in data:
        found_at = _at(d["found_at"])
        assert found_at is not None
        found.append(
            Defect(
                defect_id=d["defect_id"],
                code=d["code"],
                severity=d["severity"],
                station=d["station"],
                caused_at_station=d["caused_at_station"],
                note=d["note"],
                from_check=d["from_check"],
                found_at=found_at,
                found_by=d["found_by"],
                repaired_at=_at(d["repaired_at"]),
                repaired_by=d["repaired_by"],
                repaired_station=d["repaired_station"],
                repair_note=d["repair_note"],
            )
        )
    return found


def vehicle_of(row: sa.Row[Any] | Mapping[str, Any]) -> Vehicle:
    r = row._mapping if isinstance(row, sa.Row) else row
    last = r["last_event"]
    return Vehicle(
        vin=r["vin"],
        model=r["model"],
        variant=r["variant"],
        line_id=r["line_id"],
        kit_serial=r["kit_serial"],
        route_version=r["route_version"],
        steps=steps_of(r["steps"]),
        status=VehicleStatus(r["status"]),
        defects=defects_of(r["defects"]),
        created_at=r["created_at"],
        started_at=r["started_at"],
        completed_at=r["completed_at"],
        cancelled_at=r["cancelled_at"],
        held_at=r["held_at"],
        held_since=r["held_since"],
        last_event=LastEvent(last["kind"], last["station"], datetime.fromisoformat(last["at"])) if last else None,
    )


_VEHICLE = sa.select(vehicles).where(vehicles.c.vin == sa.bindparam("vin"))
_VEHICLE_FOR_UPDATE = _VEHICLE.with_for_update()
# The columns to set come from the parameters (all of `_state`), the row from b_vin.
_SAVE_VEHICLE = sa.update(vehicles).where(vehicles.c.vin == sa.bindparam("b_vin"))


class Vehicles:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def last_start(self, line_id: str, model: str) -> datetime | None:
        """When the latest truck of the model started on the line (None when none has)."""
        return await self._s.scalar(
            sa.select(sa.func.max(vehicles.c.started_at)).where(
                vehicles.c.line_id == line_id, vehicles.c.model == model
            )
        )

    async def get(self, vin: str, *, for_update: bool = False) -> Vehicle | None:
        row = (await self._s.execute(_VEHICLE_FOR_UPDATE if for_update else _VEHICLE, {"vin": vin})).one_or_none()
        return vehicle_of(row) if row else None

    async def of_kit_for_update(self, kit_serial: str) -> list[Vehicle]:
        """Trucks bound to a kit, locked. Filtered on the kit only (never on state a concurrent writer may
        be changing), so a truck being held right now is waited for and then seen as held."""
        rows = await self._s.execute(
            sa.select(vehicles).where(vehicles.c.kit_serial == kit_serial).order_by(vehicles.c.vin).with_for_update()
        )
        return [vehicle_of(r) for r in rows]

    async def unfinished_of_line(self, line_id: str) -> list[Vehicle]:
        rows = await self._s.execute(
            sa.select(vehicles).where(
                vehicles.c.line_id == line_id, vehicles.c.status == VehicleStatus.IN_PROGRESS.value
            )
        )
        return [vehicle_of(r) for r in rows]

    async def add(self, vehicle: Vehicle, *, by: str, at: datetime) -> None:
        await self._s.execute(
            sa.insert(vehicles).values(
                vin=vehicle.vin,
                model=vehicle.model,
                variant=vehicle.variant,
                line_id=vehicle.line_id,
                kit_serial=vehicle.kit_serial,
                created_at=vehicle.created_at,
                created_by=by,
                **state_of(vehicle, at),
            )
        )

    async def save(self, vehicle: Vehicle, *, at: datetime) -> None:
        await self._s.execute(_SAVE_VEHICLE, {"b_vin": vehicle.vin, **state_of(vehicle, at)})

    async def replace(self, vehicle: Vehicle, *, by: str, at: datetime) -> None:
        """A new build order for the VIN of a cancelled one."""
        await self._s.execute(
            sa.update(vehicles)
            .where(vehicles.c.vin == vehicle.vin, vehicles.c.status == VehicleStatus.CANCELLED.value)
            .values(
                model=vehicle.model,
                variant=vehicle.variant,
                line_id=vehicle.line_id,
                kit_serial=vehicle.kit_serial,
                created_at=vehicle.created_at,
                created_by=by,
                **state_of(vehicle, at),
            )
        )


def state_of(vehicle: Vehicle, at: datetime) -> dict[str, Any]:
    here = vehicle.location
    last = vehicle.last_event
    return {
        "status": vehicle.status.value,
        "route_version": vehicle.route_version,
        "steps": steps_json(vehicle.steps),
        "defects": defects_json(vehicle.defects),
        "open_defects": len(vehicle.open_defects),
        "held_at": vehicle.held_at,
        "held_since": vehicle.held_since,
        "current_station": vehicle.steps[here].station
        if here is not None and vehicle.status is VehicleStatus.IN_PROGRESS
        else None,
        "last_event": {"kind": last.kind, "station": last.station, "at": last.at.isoformat()} if last else None,
        "last_event_at": last.at if last else None,
        "started_at": vehicle.started_at,
        "completed_at": vehicle.completed_at,
        "cancelled_at": vehicle.cancelled_at,
        "updated_at": at,
    }


class History:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(self, entries: list[dict[str, Any]]) -> None:
        if entries:
            await self._s.execute(sa.insert(vehicle_history), entries)
