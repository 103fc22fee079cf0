"""Half-open time intervals [start, end) and the few operations the KPIs need on them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

Interval = tuple[datetime, datetime]


def clip(interval: Interval, start: datetime, end: datetime) -> Interval | None:
    """The part of `interval` inside [start, end), or None when they do not overlap."""
    lo, hi = max(interval[0], start), min(interval[1], end)
    return (lo, hi) if lo < hi else None


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same instants; touching intervals are merged."""
    merged: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[0] < i[1]):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def subtract(base: Interval, holes: Iterable[Interval]) -> list[Interval]:
    """`base` without the instants of `holes`."""
    pieces: list[Interval] = []
    cursor = base[0]
    for lo, hi in union(holes):
        if hi <= cursor or lo >= base[1]:
            continue
        if lo > cursor:
            pieces.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < base[1]:
        pieces.append((cursor, base[1]))
    return pieces


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """Instants in both sets of intervals."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        lo, hi = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if lo < hi:
            out.append((lo, hi))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def seconds(intervals: Iterable[Interval]) -> float:
    """Total length of the intervals, counting overlapping instants once."""
    return sum((hi - lo).total_seconds() for lo, hi in union(intervals))
