"""Where a truck in production is, from its movement events alone (order of arrival does not matter)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Movement = Literal["started", "arrived", "work_started", "work_completed", "held", "hold_released", "sent_back"]
MOVEMENTS: frozenset[str] = frozenset(
    {"started", "arrived", "work_started", "work_completed", "held", "hold_released", "sent_back"}
)

STATUS = {
    "started": "arrived",
    "arrived": "arrived",
    "work_started": "working",
    "work_completed": "done",
    "held": "held",
    "hold_released": "arrived",
    "sent_back": "sent_back",
}


@dataclass(frozen=True)
class StationEvent:
    at: datetime
    seq: int  # tie-break for equal times: the event's position in the log
    kind: str
    station: str


@dataclass(frozen=True)
class Position:
    station: str
    status: str  # arrived, working, done (waiting to move on), held, sent_back
    since: datetime  # first event of the current stay at this station
    last_event_at: datetime


def position(events: Iterable[StationEvent]) -> Position | None:
    """The station of the latest movement, since the start of the truck's current stay there."""
    ordered = sorted((e for e in events if e.kind in MOVEMENTS), key=lambda e: (e.at, e.seq))
    if not ordered:
        return None
    last = ordered[-1]
    since = last.at
    for event in reversed(ordered):
        if event.station != last.station:
            break
        since = event.at
        if event.kind in ("arrived", "sent_back", "started"):
            break  # the stay began here
    return Position(station=last.station, status=STATUS[last.kind], since=since, last_event_at=last.at)
