"""Reporting's figures for one run, side by side with the simulator's tally.

Reporting is read only here, after the run, to compare: output per day and per shift, WIP, first-pass
yield, kits by status (the run's own kit types) and headcount by origin and status. Headcount is plant-wide
in reporting: the run's people are those with its id prefix where reporting filters by one, else the change
from a baseline taken before the run wrote anything.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

from plant_sim.api import Api
from plant_sim.requests import REPORTING
from plant_sim.tally import ORIGINS, STATUSES, Tally

Figures = dict[str, Any]
EXPIRING_DAYS = 365  # the longest window reporting's expiring view takes: every qualification of a run falls in


class ReportingError(Exception):
    """Reporting answered something other than a view."""


async def _view(api: Api, path: str, params: dict[str, Any]) -> dict[str, Any]:
    answer = await api.get(REPORTING, path, params=params)
    if not answer.ok or not isinstance(answer.body, dict):
        raise ReportingError(f"GET {path} {params}: HTTP {answer.status} {answer.body}")
    return answer.body


PREFIX_PARAMETER = "employee_id_prefix"


@dataclass(frozen=True)
class HeadcountScope:
    """How to find the run's people in reporting's plant-wide headcount: by their id prefix where
    reporting filters by one, else as the change from `before` (nobody else may change people meanwhile)."""

    prefix: str | None
    before: dict[str, int]


async def headcount_scope(api: Api, prefix: str, as_of: str) -> HeadcountScope:
    spec = await api.openapi(REPORTING)
    params = spec.get("paths", {}).get("/people/headcount", {}).get("get", {}).get("parameters", [])
    if any(p.get("name") == PREFIX_PARAMETER for p in params):
        return HeadcountScope(prefix, {})
    return HeadcountScope(None, await headcount(api, as_of))


async def headcount(api: Api, as_of: str, prefix: str | None = None) -> dict[str, int]:
    """Reporting's headcount cells ('origin/status' -> people) on a date."""
    params = {"as_of": as_of} | ({PREFIX_PARAMETER: prefix} if prefix else {})
    view = await _view(api, "/people/headcount", params)
    return {f"{c['origin']}/{c['status']}": int(c["count"]) for c in view["matrix"] if c["count"]}


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(keys) if after.get(k, 0) != before.get(k, 0)}


def _by(cells: dict[str, int], index: int, names: tuple[str, ...]) -> dict[str, int]:
    return {n: sum(v for k, v in cells.items() if k.split("/")[index] == n) for n in names}


KIT_FIGURES = ("on_hand", "usable", "quarantined", "in_transit")
LINE_KIT_FIGURES = (
    "open_discrepancies_by_claim_code",
    "accepted_shortages",
    "trucks_held_by_shortage",
    "build_short_in_production",
)
STAFFING_FIGURES = ("required", "rostered", "unqualified_rostered", "clocked_in", "coverage", "rostered_coverage")


def _running(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each bucket's count and the running total up to it (reporting's `actual` and `cumulative_actual`)."""
    out, total = {}, 0
    for label, n in counts.items():
        total += n
        out[label] = {"actual": n, "cumulative": total}
    return out


def _points(view: Figures) -> dict[str, dict[str, int]]:
    return {p["label"]: {"actual": p["actual"], "cumulative": p["cumulative_actual"]} for p in view["points"]}


def _kit_figures(by_status: dict[str, int]) -> Figures:
    """A kit type's figures as reporting derives them from its kits' statuses."""
    return {
        "by_status": by_status,
        "on_hand": sum(by_status.get(s, 0) for s in ("quarantined", "received", "released")),
        "usable": by_status.get("received", 0) + by_status.get("released", 0),
        "quarantined": by_status.get("quarantined", 0),
        "in_transit": by_status.get("announced", 0),
    }


def _kits_view(view: Figures) -> Figures:
    return {"by_status": {k: v for k, v in sorted(view["by_status"].items()) if v}} | {k: view[k] for k in KIT_FIGURES}


def _share(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def instants(tally: Tally) -> list[datetime]:
    """The past instants the as-of views are compared at: local noon and evening of every day of the window
    before the last action, and an instant inside the first hold of every truck held more than once at a
    station (else inside the first hold of the run), where an as-of view once lost a hold."""
    cal, out = tally.calendar, set()
    last = tally.last_at
    if last is None:
        return []
    for day in tally.days():
        for hour in (12, 20):
            at = cal.local(day, clock(hour))
            if at < last:
                out.add(at)
    ended = sorted((since, until, vin, station) for vin, station, since, until in tally.hold_spans() if until)
    by_truck: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for since, until, vin, station in ended:
        if until - since > timedelta(minutes=2):
            by_truck.setdefault((vin, station), []).append((since, until))
    firsts = [spans[0] for spans in by_truck.values() if len(spans) > 1]
    if not firsts and by_truck:
        firsts = [min(spans[0] for spans in by_truck.values())]
    out.update(since + (until - since) / 2 for since, until in firsts)
    return sorted(at.replace(microsecond=0) for at in out)


def expected_as_of(tally: Tally, at: datetime) -> Figures:
    """The tally's figures as of a past instant."""
    wip = tally.wip_at(at)
    return {
        "output_per_day": _running(tally.output_at(at)),
        "wip": sum(s["trucks"] for s in wip.values()),
        "wip_stations": {k: v for k, v in wip.items()},
        "held_trucks": [
            f"{vin}@{station} since {since.isoformat()} for {round((at - since).total_seconds() / 60, 1)} min"
            for vin, station, since in tally.held_at(at)
        ],
        "kits": {t: _kit_figures(tally.kits_at(at, t)) for t in tally.kit_types},
        "line_kits": _line_kits(tally, at),
        "expiring": {s: tally.expiring(at, EXPIRING_DAYS, s) for s in tally.stations},
    }


def _line_kits(tally: Tally, at: datetime) -> Figures:
    """The kits view of the run's line (its kit types) as of `at`, every figure but those of the plan."""
    statuses: Counter[str] = Counter()
    for kit_type in tally.kit_types:
        statuses.update(tally.kits_at(at, kit_type))
    open_by_code, accepted = tally.discrepancies_at(at)
    following = tally.next_arrival_at(at)
    return _kit_figures(dict(sorted(statuses.items()))) | {
        "next_arrival": following.astimezone(UTC).isoformat() if following else None,
        "open_discrepancies_by_claim_code": open_by_code,
        "accepted_shortages": accepted,
        "trucks_held_by_shortage": len(tally.held_at(at)),
        "build_short_in_production": tally.build_short_at(at),
    }


async def actual_as_of(api: Api, tally: Tally, at: datetime) -> Figures:
    """Reporting's figures for the run's line and kit types, as of `at`."""
    line, when = tally.line_id, at.isoformat()
    day = tally.calendar.local_date(at).isoformat()
    days = await _view(
        api,
        "/output/series",
        {"line": line, "from": tally.first_day.isoformat(), "to": day, "bucket": "day", "at": when},
    )
    wip = await _view(api, "/wip", {"line": line, "at": when})
    held = await _view(api, "/kits/held-trucks", {"line": line, "at": when, "limit": 500})
    kits = {t: _kits_view(await _view(api, "/kits", {"kit_type": t, "at": when})) for t in tally.kit_types}
    line_kits = await _view(api, "/kits", {"line": line, "at": when})
    following = line_kits["next_arrival"]
    return {
        "output_per_day": _points(days),
        "wip": wip["total"],
        "wip_stations": {
            s["station"]: {"trucks": s["trucks"], "held": s["held"]} for s in wip["stations"] if s["trucks"]
        },
        "held_trucks": sorted(
            f"{h['vin']}@{h['station']} since {datetime.fromisoformat(h['held_at']).isoformat()} "
            f"for {h['held_minutes']} min"
            for h in held["items"]
        ),
        "kits": kits,
        "line_kits": _kits_view(line_kits)
        | {"next_arrival": datetime.fromisoformat(following).astimezone(UTC).isoformat() if following else None}
        | {k: line_kits[k] for k in LINE_KIT_FIGURES},
        "expiring": await expiring(api, tally, at),
    }


async def expiring(api: Api, tally: Tally, at: datetime | None) -> dict[str, list[str]]:
    """Reporting's qualifications expiring within EXPIRING_DAYS at each of the run's stations, as of `at`."""
    out = {}
    for station in tally.stations:
        params = {"station": station, "within_days": EXPIRING_DAYS, "limit": 500} | (
            {"at": at.isoformat()} if at else {}
        )
        view = await _view(api, "/people/qualifications/expiring", params)
        items = [
            f"{q['employee_id']} {q['level']} {datetime.fromisoformat(q['valid_until']).astimezone(UTC).isoformat()}"
            + (f" {q['days_left']} days left" if at else "")
            for q in view["items"]
        ]
        if view["total"] != len(items):
            items.append(f"total {view['total']}")
        out[station] = sorted(items)
    return out


def expected(tally: Tally) -> Figures:
    """The tally's figures, in the shape `actual` reads reporting's."""
    cells = tally.headcount()["cells"]
    return {
        "output_per_day": _running(tally.output_per_day()),
        "output_per_shift": _running(tally.output_per_shift()),
        "wip": tally.wip,
        "quality": {
            "completed": tally.completed,
            "first_pass": tally.first_pass,
            "fpy": round(tally.fpy, 4) if tally.fpy is not None else None,
            "defects_found": tally.defects_found,
            "defects_on_completed": tally.defects_on_completed,
            "open_defects": tally.defects_found - tally.defects_repaired,
            "dpu": _share(tally.defects_on_completed, tally.completed),
        },
        "kits": {t: _kit_figures(tally.kits_by_status(t)) for t in tally.kit_types},
        "staffing": {
            day.isoformat(): {
                key: row
                | {
                    "coverage": _share(row["clocked_in"], row["required"]),
                    "rostered_coverage": _share(row["rostered"], row["required"]),
                }
                for key, row in tally.staffing(day).items()
            }
            for day in tally.staffing_days()
        },
        "headcount": {
            "total": sum(cells.values()),
            "cells": cells,
            "by_origin": _by(cells, 0, ORIGINS),
            "by_status": _by(cells, 1, STATUSES),
        },
    }


async def actual(api: Api, tally: Tally, people: HeadcountScope) -> Figures:
    """Reporting's figures for the run's line, kit types and window."""
    line, first, last = tally.line_id, tally.first_day.isoformat(), tally.last_day().isoformat()
    span = {"line": line, "from": first, "to": last}
    days = await _view(api, "/output/series", {**span, "bucket": "day"})
    shifts = await _view(api, "/output/series", {**span, "bucket": "shift"})
    wip = await _view(api, "/wip", {"line": line})
    quality = await _view(api, "/quality", span)
    kits = {t: _kits_view(await _view(api, "/kits", {"kit_type": t})) for t in tally.kit_types}
    cells = _delta(await headcount(api, last, people.prefix), people.before)
    staffing = {}
    for day in tally.staffing_days():
        view = await _view(api, "/people/staffing", {"line": line, "date": day.isoformat()})
        staffing[day.isoformat()] = {
            f"{row['shift']} {row['station']}": {k: row[k] for k in STAFFING_FIGURES} for row in view["stations"]
        }
    shift_labels = set(expected(tally)["output_per_shift"])
    return {
        "output_per_day": _points(days),
        # Shifts of the window that started by the run's last action (later ones of the last day are empty).
        "output_per_shift": {k: v for k, v in _points(shifts).items() if k in shift_labels or v["actual"]},
        "wip": wip["total"],
        "quality": {
            k: quality[k]
            for k in ("completed", "first_pass", "fpy", "defects_found", "defects_on_completed", "open_defects", "dpu")
        },
        "kits": kits,
        "staffing": staffing,
        "headcount": {
            "total": sum(cells.values()),
            "cells": cells,
            "by_origin": _by(cells, 0, ORIGINS),
            "by_status": _by(cells, 1, STATUSES),
        },
    }


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Every place where `got` differs from `want`, as 'path: tally X, reporting Y'."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for key in sorted(set(want) | set(got), key=str):
            out += differences(want.get(key), got.get(key), f"{path}.{key}" if path else str(key))
        return out
    if want != got:
        return [f"{path}: tally {want!r}, reporting {got!r}"]
    return []


async def _all_actual(api: Api, tally: Tally, people: HeadcountScope, at: list[datetime]) -> Figures:
    now = await actual(api, tally, people)
    return {"now": now} | {f"at {when.isoformat()}": await actual_as_of(api, tally, when) for when in at}


def expected_all(tally: Tally, *, as_of: bool = True) -> Figures:
    """Every figure compared: now, and (with `as_of`) as of each of `instants`."""
    at = instants(tally) if as_of else []
    return {"now": expected(tally)} | {f"at {when.isoformat()}": expected_as_of(tally, when) for when in at}


def count(figures: Any) -> int:
    """How many figures a comparison holds (a list of items counts each item, an empty one as one figure)."""
    if isinstance(figures, dict):
        return sum(count(v) for v in figures.values())
    if isinstance(figures, list):
        return max(1, len(figures))
    return 1


async def compare(
    api: Api, tally: Tally, people: HeadcountScope, *, timeout_s: float = 120.0, as_of: bool = True
) -> list[str]:
    """Poll reporting until its figures, now and as of every instant of `instants`, equal the tally's (returns
    []) or the deadline passes (the diff)."""
    at = instants(tally) if as_of else []
    want = expected_all(tally, as_of=as_of)
    deadline = time.monotonic() + timeout_s
    delay = 0.5
    while True:
        try:
            diff = differences(want, await _all_actual(api, tally, people, at))
        except ReportingError as exc:
            diff = [str(exc)]
        if not diff or time.monotonic() > deadline:
            return diff
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 5.0)
