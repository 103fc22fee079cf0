"""Andon at a station: one call open at a time; lost time is from raise to clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import Conflict
from .events import AndonCleared, AndonRaised
from .guards import require_aware, require_text


@dataclass(frozen=True, slots=True)
class OpenAndon:
    andon_id: str
    raised_at: datetime
    stops_line: bool


@dataclass(frozen=True, slots=True)
class StationAndons:
    """The andon state of one station: its open call, when its last call changed, its call count."""

    line_id: str
    station: str
    open: OpenAndon | None
    last_change_at: datetime | None
    raised_count: int


def raise_andon(
    state: StationAndons, *, at: datetime, reason: str, stops_line: bool, raised_by: str | None, vin: str | None
) -> AndonRaised:
    require_aware(at, "occurred_at")
    require_text(reason, "andon reason")
    if state.open is not None:
        raise Conflict(
            "andon.already-open",
            f"andon {state.open.andon_id} at {state.station} is open since {state.open.raised_at.isoformat()}; "
            "clear it before raising another",
            andon_id=state.open.andon_id,
        )
    _require_in_order(state, at, "raised")
    return AndonRaised(
        andon_id=f"{state.station}-A{state.raised_count + 1}",
        line_id=state.line_id,
        station=state.station,
        reason=reason,
        raised_by=raised_by,
        stops_line=stops_line,
        vin=vin,
        at=at,
    )


def clear_andon(state: StationAndons, *, at: datetime, andon_id: str | None, cleared_by: str | None) -> AndonCleared:
    require_aware(at, "occurred_at")
    current = state.open
    if current is None:
        raise Conflict("andon.none-open", f"no andon is open at {state.station}")
    if andon_id is not None and andon_id != current.andon_id:
        raise Conflict(
            "andon.not-open",
            f"andon {andon_id} is not the open one at {state.station} (that is {current.andon_id})",
            andon_id=current.andon_id,
        )
    _require_in_order(state, at, "cleared")
    return AndonCleared(
        andon_id=current.andon_id,
        line_id=state.line_id,
        station=state.station,
        cleared_by=cleared_by,
        duration_seconds=max(0.0, (at - current.raised_at).total_seconds()),
        stops_line=current.stops_line,
        at=at,
    )


def _require_in_order(state: StationAndons, at: datetime, verb: str) -> None:
    if state.last_change_at is not None and at < state.last_change_at:
        raise Conflict(
            "station-event.out-of-order",
            f"an andon {verb} at {state.station} at {at.isoformat()} is older than the station's last andon "
            f"change at {state.last_change_at.isoformat()}; a terminal's events are taken in the order they "
            "happened",
            last_event={"type": "andon", "station": state.station, "at": state.last_change_at.isoformat()},
        )
