"""Lost time: andon count and lost minutes per station and shift, line-stop minutes per shift, open andons,
and OEE per station with availability, performance and quality shown apart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from reporting.api import schemas
from reporting.domain.calendar import LineCalendar
from reporting.domain.intervals import Interval, clip, intersect, seconds, subtract, union
from reporting.domain.kpi import oee
from reporting.projections.tables import andons, defects, station_events
from reporting.service.context import Reader
from reporting.service.flow import ordered, station_order
from reporting.service.ranges import Range

ShiftKey = tuple[date | None, str | None]
OFF_SHIFT: ShiftKey = (None, None)


def r2(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


@dataclass(frozen=True)
class Andon:
    line_id: str
    andon_id: str
    station: str
    stops_line: bool
    raised_at: datetime | None
    interval: Interval | None  # raise to clear, or to `at` while open


def andon_interval(
    raised_at: datetime | None, cleared_at: datetime | None, duration: float | None, at: datetime
) -> Interval | None:
    start = raised_at
    if start is None and cleared_at is not None and duration is not None:
        start = cleared_at - timedelta(seconds=duration)
    if start is None or start > at:
        return None
    end = cleared_at if cleared_at is not None and cleared_at <= at else at
    return (start, end) if start < end else None


async def load_andons(reader: Reader, line_id: str | None, start: datetime, end: datetime) -> list[Andon]:
    """Andons whose lost time overlaps [start, end) or that were raised in it."""
    where = [
        sa.or_(andons.c.raised_at.is_(None), andons.c.raised_at < end),
        sa.or_(andons.c.cleared_at.is_(None), andons.c.cleared_at > start),
    ]
    if line_id is not None:
        where.append(andons.c.line_id == line_id)
    out = []
    for r in await reader.rows(sa.select(andons).where(*where)):
        out.append(
            Andon(
                line_id=r.line_id,
                andon_id=r.andon_id,
                station=r.station or "unknown",
                stops_line=bool(r.stops_line),
                raised_at=r.raised_at,
                interval=andon_interval(r.raised_at, r.cleared_at, r.duration_seconds, reader.at),
            )
        )
    return out


def split_by_shift(cal: LineCalendar, interval: Interval) -> list[tuple[ShiftKey, Interval]]:
    """The pieces of `interval` in each shift (breaks included) and, for the rest, off shift."""
    pieces: list[tuple[ShiftKey, Interval]] = []
    covered: list[Interval] = []
    for window in cal.windows(*interval):
        piece = clip(interval, window.start, window.end)
        if piece is not None:
            pieces.append(((window.date, window.code), piece))
            covered.append(piece)
    pieces.extend((OFF_SHIFT, rest) for rest in subtract(interval, covered))
    return pieces


def shift_of(cal: LineCalendar, instant: datetime) -> ShiftKey:
    window = cal.shift_at(instant)
    return (window.date, window.code) if window is not None else OFF_SHIFT


async def andon_report(reader: Reader, line_id: str | None, span: Range) -> schemas.AndonView:
    until = span.until(reader.at)
    found = await load_andons(reader, line_id, span.start, until)
    counts: dict[tuple[str, ShiftKey], int] = defaultdict(int)
    lost: dict[tuple[str, ShiftKey], float] = defaultdict(float)
    stopped: dict[tuple[str, ShiftKey], float] = defaultdict(float)
    stop_pieces: dict[ShiftKey, list[Interval]] = defaultdict(list)
    shift_counts: dict[ShiftKey, int] = defaultdict(int)
    shift_lost: dict[ShiftKey, float] = defaultdict(float)
    for a in found:
        cal = await reader.calendar(a.line_id)
        if a.raised_at is not None and span.start <= a.raised_at < until:
            key = shift_of(cal, a.raised_at)
            counts[(a.station, key)] += 1
            shift_counts[key] += 1
        if a.interval is None:
            continue
        inside = clip(a.interval, span.start, until)
        if inside is None:
            continue
        for key, piece in split_by_shift(cal, inside):
            length = (piece[1] - piece[0]).total_seconds()
            lost[(a.station, key)] += length
            shift_lost[key] += length
            if a.stops_line:
                stopped[(a.station, key)] += length
                stop_pieces[key].append(piece)
    keys = set(counts) | set(lost)
    buckets = [
        schemas.AndonBucket(
            station=station,
            shift_date=shift[0],
            shift=shift[1],
            andons=counts.get((station, shift), 0),
            lost_minutes=round(lost.get((station, shift), 0.0) / 60, 2),
            line_stop_minutes=round(stopped.get((station, shift), 0.0) / 60, 2),
        )
        for station, shift in sorted(keys, key=lambda k: (k[1][0] or date.min, k[1][1] or "", k[0]))
    ]
    stations: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for b in buckets:
        s = stations[b.station]
        s[0] += b.andons
        s[1] += b.lost_minutes
        s[2] += b.line_stop_minutes
    known = await station_order(reader, line_id)
    by_station = [
        schemas.AndonStation(
            station=n,
            andons=int(stations[n][0]),
            lost_minutes=round(stations[n][1], 2),
            line_stop_minutes=round(stations[n][2], 2),
        )
        for n in ordered(stations, known)
    ]
    shift_keys = sorted(set(shift_counts) | set(shift_lost), key=lambda k: (k[0] or date.min, k[1] or ""))
    by_shift = [
        schemas.AndonShift(
            shift_date=k[0],
            shift=k[1],
            andons=shift_counts.get(k, 0),
            lost_minutes=round(shift_lost.get(k, 0.0) / 60, 2),
            line_stop_minutes=round(seconds(stop_pieces.get(k, [])) / 60, 2),
        )
        for k in shift_keys
    ]
    return schemas.AndonView(
        as_planned_now=reader.planned_now("/andons"),
        line_id=line_id,
        start=span.start,
        end=span.end,
        total_andons=sum(counts.values()),
        total_lost_minutes=round(sum(lost.values()) / 60, 2),
        by_station=by_station,
        by_shift=by_shift,
        buckets=buckets,
    )


async def open_andons(reader: Reader, line_id: str | None) -> list[schemas.OpenAndon]:
    at = reader.at
    where = [
        sa.or_(andons.c.cleared_at.is_(None), andons.c.cleared_at > at),
        andons.c.raised_at.is_not(None),
        andons.c.raised_at <= at,
    ]
    if line_id is not None:
        where.append(andons.c.line_id == line_id)
    rows = await reader.rows(sa.select(andons).where(*where).order_by(andons.c.raised_at, andons.c.andon_id))
    return [
        schemas.OpenAndon(
            line_id=r.line_id,
            andon_id=r.andon_id,
            station=r.station,
            reason=r.reason,
            raised_by=r.raised_by,
            vin=r.vin,
            stops_line=r.stops_line,
            raised_at=r.raised_at,
            open_minutes=round((at - r.raised_at).total_seconds() / 60, 1),
        )
        for r in rows
    ]


async def oee_report(reader: Reader, line_id: str, span: Range) -> schemas.OeeView:
    until = span.until(reader.at)
    cal = await reader.calendar(line_id)
    planned = cal.planned_intervals(span.start, until)
    planned_s = seconds(planned)
    found = await load_andons(reader, line_id, span.start, until)
    line_stops = [a.interval for a in found if a.stops_line and a.interval is not None]
    work = await reader.rows(
        sa.select(station_events.c.vin, station_events.c.station, station_events.c.standard_seconds).where(
            station_events.c.line_id == line_id,
            station_events.c.kind == "work_completed",
            station_events.c.rework.is_not(True),
            station_events.c.at >= span.start,
            station_events.c.at < until,
        )
    )
    vins = sorted({w.vin for w in work})
    caused: set[tuple[str, str]] = set()
    if vins:
        for d in await reader.rows(
            sa.select(defects.c.vin, defects.c.caused_at_station).where(
                defects.c.vin.in_(vins), defects.c.found_at <= reader.at
            )
        ):
            caused.add((d.vin, d.caused_at_station))
    ideal: dict[str, float] = defaultdict(float)
    units: dict[str, set[str]] = defaultdict(set)
    for w in work:
        ideal[w.station] += w.standard_seconds or 0.0
        units[w.station].add(w.vin)
    known = await station_order(reader, line_id)
    at_station: dict[str, list[Interval]] = defaultdict(list)
    for a in found:
        if a.interval is not None:
            at_station[a.station].append(a.interval)
    out = []
    for name in ordered(list(known) + list(units) + list(at_station), known):
        down = seconds(intersect(planned, union(at_station.get(name, []) + line_stops)))
        total = len(units.get(name, set()))
        good = sum(1 for vin in units.get(name, set()) if (vin, name) not in caused)
        figures = oee(planned_s, down, ideal.get(name, 0.0), total, good)
        info = known.get(name)
        out.append(
            schemas.OeeStation(
                station=name,
                name=info.name if info else None,
                position=info.position if info else None,
                planned_minutes=round(figures.planned_seconds / 60, 2),
                downtime_minutes=round(figures.downtime_seconds / 60, 2),
                run_minutes=round(figures.run_seconds / 60, 2),
                ideal_minutes=round(figures.ideal_seconds / 60, 2),
                units=total,
                good_units=good,
                availability=_r4(figures.availability),
                performance=_r4(figures.performance),
                quality=_r4(figures.quality),
                oee=_r4(figures.oee),
                rating=figures.rating,
            )
        )
    return schemas.OeeView(
        as_planned_now=reader.planned_now("/oee"), line_id=line_id, start=span.start, end=span.end, stations=out
    )


def _r4(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
