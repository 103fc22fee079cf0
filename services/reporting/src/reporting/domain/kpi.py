"""Plant KPIs from plain numbers: FPY, DPU, Pareto, OEE and the statistics of cycle and lead times."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Rating = Literal["good", "fair", "low"]
OEE_GOOD = 0.85  # above: world class
OEE_LOW = 0.50  # at or below: low


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def fpy(completed: int, first_pass: int) -> float | None:
    """First-pass yield: trucks completed with no defect ever recorded / trucks completed."""
    return ratio(first_pass, completed)


def dpu(defects: int, units: int) -> float | None:
    """Defects per unit."""
    return ratio(defects, units)


@dataclass(frozen=True)
class ParetoItem:
    key: str
    count: int
    share: float
    cumulative_share: float


def pareto(counts: Mapping[str, int]) -> list[ParetoItem]:
    """Largest first (ties by key), each with its share and the running share."""
    total = sum(counts.values())
    items: list[ParetoItem] = []
    running = 0
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if count <= 0:
            continue
        running += count
        items.append(ParetoItem(key, count, count / total, running / total))
    return items


@dataclass(frozen=True)
class Oee:
    planned_seconds: float
    downtime_seconds: float
    run_seconds: float
    ideal_seconds: float
    total_count: int
    good_count: int
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    rating: Rating | None


def rate_oee(value: float | None) -> Rating | None:
    if value is None:
        return None
    if value >= OEE_GOOD:
        return "good"
    if value <= OEE_LOW:
        return "low"
    return "fair"


def oee(planned_seconds: float, downtime_seconds: float, ideal_seconds: float, total: int, good: int) -> Oee:
    """availability = run / planned, performance = ideal cycle time x count / run, quality = good / total."""
    downtime = min(max(downtime_seconds, 0.0), planned_seconds)
    run = planned_seconds - downtime
    availability = ratio(run, planned_seconds)
    performance = ratio(ideal_seconds, run)
    quality = ratio(good, total)
    value = None
    if availability is not None and performance is not None and quality is not None:
        value = availability * performance * quality
    return Oee(
        planned_seconds,
        downtime,
        run,
        ideal_seconds,
        total,
        good,
        availability,
        performance,
        quality,
        value,
        rate_oee(value),
    )


@dataclass(frozen=True)
class Stats:
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    min: float | None
    max: float | None


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in [0, 1])."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    lo, hi = math.floor(position), math.ceil(position)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (position - lo)


def stats(values: Sequence[float]) -> Stats:
    ordered = sorted(values)
    if not ordered:
        return Stats(0, None, None, None, None, None)
    return Stats(
        count=len(ordered),
        mean=sum(ordered) / len(ordered),
        median=percentile(ordered, 0.5),
        p90=percentile(ordered, 0.9),
        min=ordered[0],
        max=ordered[-1],
    )
