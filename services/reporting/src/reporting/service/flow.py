"""Flow: WIP by station with its age against the standard time and takt, the WIP ramp, lead time, cycle
time per station against standard, and the bottleneck."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reporting.api import schemas
from reporting.domain.kpi import Stats, stats
from reporting.domain.targets import next_ramp_point, ramp_goal
from reporting.domain.wip import MOVEMENTS, StationEvent, position
from reporting.projections.tables import lines, routes, station_events, vehicles
from reporting.service.context import Reader
from reporting.service.holds import holds_as_of
from reporting.service.ranges import Range


def r2(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


@dataclass(frozen=True)
class StationInfo:
    station_id: str
    name: str | None
    position: int | None


async def station_order(reader: Reader, line_id: str | None) -> dict[str, StationInfo]:
    """Stations in line order (line definition); for all lines, by line then position."""
    query = sa.select(lines).order_by(lines.c.line_id)
    if line_id is not None:
        query = query.where(lines.c.line_id == line_id)
    out: dict[str, StationInfo] = {}
    for row in await reader.rows(query):
        for st in row.stations or []:
            out.setdefault(st["station_id"], StationInfo(st["station_id"], st.get("name"), st.get("position")))
    return out


def ordered(stations: Iterable[str], known: dict[str, StationInfo]) -> list[str]:
    """Known stations in line order first, the others after them by id."""
    names = set(stations)
    first = [s for s in known if s in names]
    return first + sorted(names - set(first))


def stats_out(s: Stats, scale: float = 1.0) -> schemas.StatsOut:
    def f(v: float | None) -> float | None:
        return r2(v / scale) if v is not None else None

    return schemas.StatsOut(count=s.count, mean=f(s.mean), median=f(s.median), p90=f(s.p90), min=f(s.min), max=f(s.max))


async def takt_seconds(reader: Reader, line_id: str | None) -> float | None:
    if line_id is None:
        return None
    plan = await reader.plan(line_id)
    cal = plan.calendar
    today = cal.local_date(reader.at)
    year = plan.year(today.year)
    if year is None:
        return None
    rate = year.months[today.month - 1].rate_per_second
    return r2(1 / rate) if rate > 0 else None


class Standards:
    """Standard seconds per station of each truck's route version (latest version if unknown)."""

    def __init__(self, rows: list[Any]) -> None:
        self._by_version: dict[tuple[str, str, int], dict[str, float]] = {}
        self._latest: dict[tuple[str, str], int] = {}
        for r in rows:
            self._by_version[(r.line_id, r.model, r.version)] = {
                s["station_id"]: float(s["standard_seconds"]) for s in r.steps
            }
            self._latest[(r.line_id, r.model)] = max(r.version, self._latest.get((r.line_id, r.model), 0))

    def of(self, line_id: str, model: str | None, version: int | None, station: str) -> float | None:
        if model is None:
            return None
        if version is None or (line_id, model, version) not in self._by_version:
            version = self._latest.get((line_id, model))
        if version is None:
            return None
        return self._by_version.get((line_id, model, version), {}).get(station)


async def wip_trucks(reader: Reader, line_id: str | None, station: str | None = None) -> list[schemas.WipTruck]:
    at = reader.at
    where = [
        vehicles.c.started_at.is_not(None),
        vehicles.c.started_at <= at,
        sa.or_(vehicles.c.completed_at.is_(None), vehicles.c.completed_at > at),
    ]
    if line_id is not None:
        where.append(vehicles.c.line_id == line_id)
    trucks = await reader.rows(sa.select(vehicles).where(*where))
    if not trucks:
        return []
    vins = [t.vin for t in trucks]
    moves: dict[str, list[StationEvent]] = defaultdict(list)
    for e in await reader.rows(
        sa.select(
            station_events.c.vin,
            station_events.c.at,
            station_events.c.seq,
            station_events.c.kind,
            station_events.c.station,
        ).where(station_events.c.vin.in_(vins), station_events.c.at <= at, station_events.c.kind.in_(sorted(MOVEMENTS)))
    ):
        moves[e.vin].append(StationEvent(e.at, e.seq, e.kind, e.station))
    held = holds_as_of(at, vins=vins)
    held_now = {(h.vin, h.station) for h in await reader.rows(sa.select(held.c.vin, held.c.station))}
    line_ids = sorted({t.line_id for t in trucks if t.line_id})
    standards = Standards(await reader.rows(sa.select(routes).where(routes.c.line_id.in_(line_ids))))
    out: list[schemas.WipTruck] = []
    for t in trucks:
        where_now = position(moves[t.vin])
        if where_now is None:
            continue
        if station is not None and where_now.station != station:
            continue
        age = (at - where_now.since).total_seconds()
        standard = standards.of(t.line_id, t.model, t.route_version, where_now.station)
        ratio = age / standard if standard else None
        out.append(
            schemas.WipTruck(
                vin=t.vin,
                line_id=t.line_id,
                model=t.model,
                station=where_now.station,
                status="held" if (t.vin, where_now.station) in held_now else where_now.status,
                since=where_now.since,
                age_seconds=round(age, 1),
                standard_seconds=standard,
                age_ratio=round(ratio, 3) if ratio is not None else None,
                over_standard=ratio is not None and ratio > 1,
                held=(t.vin, where_now.station) in held_now,
                build_short=bool(t.build_short),
                started_at=t.started_at,
            )
        )
    out.sort(key=lambda w: (-w.age_seconds, w.vin))
    return out


async def wip(reader: Reader, line_id: str | None) -> schemas.WipView:
    trucks = await wip_trucks(reader, line_id)
    known = await station_order(reader, line_id)
    by_station: dict[str, list[schemas.WipTruck]] = defaultdict(list)
    for t in trucks:
        by_station[t.station].append(t)
    stations = []
    for name in ordered(list(known) + list(by_station), known):
        here = by_station.get(name, [])
        info = known.get(name)
        ages = [t.age_seconds for t in here]
        standards = [t.standard_seconds for t in here if t.standard_seconds is not None]
        stations.append(
            schemas.WipStation(
                station=name,
                name=info.name if info else None,
                position=info.position if info else None,
                trucks=len(here),
                held=sum(t.held for t in here),
                over_standard=sum(t.over_standard for t in here),
                oldest_age_seconds=max(ages) if ages else None,
                mean_age_seconds=r2(sum(ages) / len(ages)) if ages else None,
                standard_seconds=r2(sum(standards) / len(standards)) if standards else None,
            )
        )
    ramp = None
    if line_id is not None:
        points = await reader.ramp(line_id)
        if points:
            today = (await reader.calendar(line_id)).local_date(reader.at)
            goal = ramp_goal(points, today)
            following = next_ramp_point(points, today)
            ramp = schemas.RampOut(
                goal_today=r2(goal),
                next_date=following.date if following else None,
                next_goal=following.wip if following else None,
                gap=r2(len(trucks) - goal) if goal is not None else None,
            )
    return schemas.WipView(
        as_planned_now=reader.planned_now("/wip"),
        line_id=line_id,
        at=reader.at,
        total=len(trucks),
        takt_seconds=await takt_seconds(reader, line_id),
        stations=stations,
        ramp=ramp,
    )


async def lead_time(reader: Reader, line_id: str | None, span: Range) -> schemas.LeadTimeView:
    where = [
        vehicles.c.completed_at >= span.start,
        vehicles.c.completed_at < span.until(reader.at),
        vehicles.c.lead_time_seconds.is_not(None),
    ]
    if line_id is not None:
        where.append(vehicles.c.line_id == line_id)
    rows = await reader.rows(sa.select(vehicles.c.model, vehicles.c.lead_time_seconds).where(*where))
    per_model: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        per_model[r.model or "unknown"].append(r.lead_time_seconds)
    hours = 3600.0
    return schemas.LeadTimeView(
        as_planned_now=reader.planned_now("/flow/lead-time"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        hours=stats_out(stats([r.lead_time_seconds for r in rows]), hours),
        by_model=[
            schemas.LeadTimeModel(model=m, hours=stats_out(stats(v), hours)) for m, v in sorted(per_model.items())
        ],
    )


async def cycle_times(reader: Reader, line_id: str | None, span: Range) -> schemas.CycleTimeView:
    where = [
        station_events.c.kind == "work_completed",
        station_events.c.at >= span.start,
        station_events.c.at < span.until(reader.at),
    ]
    if line_id is not None:
        where.append(station_events.c.line_id == line_id)
    rows = await reader.rows(
        sa.select(
            station_events.c.station,
            station_events.c.cycle_seconds,
            station_events.c.standard_seconds,
            station_events.c.rework,
        ).where(*where)
    )
    takt = await takt_seconds(reader, line_id)
    known = await station_order(reader, line_id)
    cycles: dict[str, list[float]] = defaultdict(list)
    standard: dict[str, list[float]] = defaultdict(list)
    rework: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.rework:
            rework[r.station] += 1
            continue
        cycles[r.station].append(r.cycle_seconds)
        if r.standard_seconds:
            standard[r.station].append(r.standard_seconds)
    means = {s: sum(v) / len(v) for s, v in cycles.items() if v}
    slowest = max(means, key=lambda s: (means[s], s), default=None)
    out = []
    for name in ordered(set(cycles) | set(rework), known):
        info = known.get(name)
        mean_standard = sum(standard[name]) / len(standard[name]) if standard[name] else None
        mean = means.get(name)
        out.append(
            schemas.CycleStation(
                station=name,
                name=info.name if info else None,
                position=info.position if info else None,
                cycles=len(cycles[name]),
                rework_cycles=rework[name],
                cycle_seconds=stats_out(stats(cycles[name])),
                standard_seconds=r2(mean_standard),
                ratio_to_standard=round(mean / mean_standard, 3) if mean is not None and mean_standard else None,
                ratio_to_takt=round(mean / takt, 3) if mean is not None and takt else None,
                bottleneck=name == slowest,
            )
        )
    bottleneck = None
    if slowest is not None:
        mean = means[slowest]
        mean_standard = sum(standard[slowest]) / len(standard[slowest]) if standard[slowest] else None
        reason = f"longest mean cycle time of the line ({mean:.0f} s"
        if takt:
            reason += f", {mean / takt:.0%} of takt"
        bottleneck = schemas.Bottleneck(
            station=slowest,
            mean_cycle_seconds=round(mean, 2),
            standard_seconds=r2(mean_standard),
            takt_seconds=takt,
            reason=reason + ")",
        )
    return schemas.CycleTimeView(
        as_planned_now=reader.planned_now("/flow/cycle-times"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        takt_seconds=takt,
        stations=out,
        bottleneck=bottleneck,
    )
