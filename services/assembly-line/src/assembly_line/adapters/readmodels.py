"""Read models fed by other services' events: kits (kit-receiving) and people (workforce).

Consumers write them (one event at a time, inside the inbox transaction); command handlers only read
them. The station-event hot path reads them through hotpath.py; this module maps their JSON shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assembly_line.adapters.tables import (
    employee_statuses,
    employees,
    kit_types,
    kits,
    presences,
    qualifications,
    vehicles,
)
from assembly_line.domain import KitFacts, MissingPart, Qualification


def missing_parts_of(data: Iterable[dict[str, Any]]) -> tuple[MissingPart, ...]:
    return tuple(
        MissingPart(part_number=p["part_number"], quantity=p["quantity"], station=p["station"])
        for p in data
        if p.get("station")
    )


class Kits:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def facts(self, serial: str, *, for_update: bool = False) -> KitFacts | None:
        """The kit as kit-receiving reported it, its kit type's model, and the VIN holding it."""

        def of_type(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
            return (
                sa.select(column)
                .where(kit_types.c.kit_type == kits.c.kit_type)
                .order_by(kit_types.c.version.desc())
                .limit(1)
                .scalar_subquery()
            )

        held_by = (
            sa.select(vehicles.c.vin)
            .where(vehicles.c.kit_serial == kits.c.serial, vehicles.c.status != "cancelled")
            .limit(1)
            .scalar_subquery()
        )
        query = sa.select(
            kits,
            of_type(kit_types.c.model).label("model"),
            of_type(kit_types.c.variant).label("variant"),
            held_by.label("held_by_vin"),
        ).where(kits.c.serial == serial)
        row = (await self._s.execute(query.with_for_update(of=kits) if for_update else query)).one_or_none()
        if row is None:
            return None
        return KitFacts(
            serial=row.serial,
            status=row.status,
            kit_type=row.kit_type,
            model=row.model,
            variant=row.variant,
            build_short=row.build_short,
            waiting_stations=tuple(row.waiting_stations),
            missing_parts=missing_parts_of(row.missing_parts),
            held_by_vin=row.held_by_vin,
        )

    # ---- written by the kits consumer -----------------------------------------------------------

    async def kit_type(self, *, kit_type: str, version: int, model: str, variant: str, parts: list[Any]) -> None:
        values = {"model": model, "variant": variant, "parts": parts}
        await self._s.execute(
            insert(kit_types)
            .values(kit_type=kit_type, version=version, **values)
            .on_conflict_do_update(index_elements=["kit_type", "version"], set_=values)
        )

    async def apply(self, serial: str, at: datetime, **changes: Any) -> None:
        """Upsert a kit with the fields an event states (a kit first seen late starts from defaults)."""
        defaults = {"status": "announced", "build_short": False, "waiting_stations": [], "missing_parts": []}
        values = {**changes, "updated_at": at}
        await self._s.execute(
            insert(kits)
            .values(serial=serial, **{**defaults, **values})
            .on_conflict_do_update(index_elements=["serial"], set_=values)
        )

    async def missing_parts(self, serial: str) -> list[dict[str, Any]]:
        return list(await self._s.scalar(sa.select(kits.c.missing_parts).where(kits.c.serial == serial)) or [])


class People:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def present(self, station: str, at: datetime) -> list[sa.Row[Any]]:
        """Who is clocked in at a station at `at`."""
        rows = await self._s.execute(
            sa.select(presences.c.employee_id, presences.c.badge_id, presences.c.in_at, employees.c.name)
            .outerjoin(employees, employees.c.employee_id == presences.c.employee_id)
            .where(
                presences.c.station == station,
                presences.c.in_at <= at,
                sa.or_(presences.c.out_at.is_(None), presences.c.out_at > at),
            )
            .order_by(presences.c.in_at)
        )
        return list(rows)

    # ---- written by the people consumer ---------------------------------------------------------

    async def employee(self, employee_id: str, *, badge_id: str | None = None, name: str | None = None) -> None:
        values = {k: v for k, v in {"badge_id": badge_id, "name": name}.items() if v is not None}
        stmt = insert(employees).values(employee_id=employee_id, **values)
        await self._s.execute(
            stmt.on_conflict_do_update(index_elements=["employee_id"], set_=values)
            if values
            else stmt.on_conflict_do_nothing()
        )

    async def status(self, employee_id: str, status: str, effective: date) -> None:
        await self._s.execute(
            sa.insert(employee_statuses).values(employee_id=employee_id, status=status, effective_date=effective)
        )

    async def clock_out(self, employee_id: str, at: datetime) -> int:
        """Close the employee's open presence (at most one) at `at`; how many were closed."""
        result = await self._s.execute(
            sa.update(presences)
            .where(presences.c.employee_id == employee_id, presences.c.out_at.is_(None), presences.c.in_at <= at)
            .values(out_at=at)
        )
        return int(result.rowcount or 0)

    async def clock_in(self, *, employee_id: str, badge_id: str, station: str, line_id: str, at: datetime) -> None:
        # One presence open per employee: a clock-in elsewhere ends the previous one (workforce says so
        # with a ClockedOut too; closing here keeps the model right even if that one comes later).
        await self.clock_out(employee_id, at)
        await self._s.execute(
            sa.insert(presences).values(
                employee_id=employee_id, badge_id=badge_id, station=station, line_id=line_id, in_at=at
            )
        )

    async def grant(
        self, *, employee_id: str, station: str, level: str, valid_from: datetime, valid_until: datetime
    ) -> None:
        """A grant or renewal states the whole validity: it supersedes earlier ones from its valid_from."""
        q = qualifications
        await self._s.execute(
            sa.update(q)
            .where(
                q.c.employee_id == employee_id,
                q.c.station == station,
                sa.func.least(q.c.valid_until, sa.func.coalesce(q.c.ended_at, q.c.valid_until)) > valid_from,
            )
            .values(ended_at=valid_from, end_reason="superseded")
        )
        await self._s.execute(
            sa.insert(q).values(
                employee_id=employee_id, station=station, level=level, valid_from=valid_from, valid_until=valid_until
            )
        )

    async def end_qualification(self, *, employee_id: str, station: str, at: datetime, reason: str) -> None:
        q = qualifications
        await self._s.execute(
            sa.update(q)
            .where(
                q.c.employee_id == employee_id,
                q.c.station == station,
                sa.func.least(q.c.valid_until, sa.func.coalesce(q.c.ended_at, q.c.valid_until)) > at,
            )
            .values(ended_at=at, end_reason=reason)
        )


def qualification_of(data: dict[str, Any]) -> Qualification:
    ended = data.get("ended_at")
    return Qualification(
        level=data["level"],
        valid_from=datetime.fromisoformat(data["valid_from"]),
        valid_until=datetime.fromisoformat(data["valid_until"]),
        ended_at=datetime.fromisoformat(ended) if ended else None,
        end_reason=data.get("end_reason"),
    )
