"""Which trucks are held for a missing part at an instant: for each truck and station, the last hold change
(held or released) at or before that instant decides. The one definition every view uses."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from reporting.projections.tables import hold_changes


def holds_as_of(at: datetime, *, line_id: str | None = None, vins: Collection[str] | None = None) -> Any:
    """A subquery of the holds open at `at`: vin, station, line_id, kit_serial, missing_parts, held_at.

    Changes at the same instant are ordered by their log position; a release and a hold at one instant
    leave the truck as the later of the two says."""
    last = (
        sa.select(hold_changes)
        .where(hold_changes.c.at <= at)
        .distinct(hold_changes.c.vin, hold_changes.c.station)
        .order_by(hold_changes.c.vin, hold_changes.c.station, hold_changes.c.at.desc(), hold_changes.c.seq.desc())
    )
    if line_id is not None:
        last = last.where(hold_changes.c.line_id == line_id)
    if vins is not None:
        last = last.where(hold_changes.c.vin.in_(list(vins)))
    latest = last.subquery("latest_hold_change")
    return (
        sa.select(
            latest.c.vin,
            latest.c.station,
            latest.c.line_id,
            latest.c.kit_serial,
            latest.c.missing_parts,
            latest.c.at.label("held_at"),
        )
        .where(latest.c.held.is_(True))
        .subquery("holds_as_of")
    )
