"""Which trucks are held for a missing part at an instant: for each truck and station, the last hold change
(held or released) at or before that instant decides. The one definition every view uses."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from reporting.projections.tables import hold_changes
from reporting.service.changes import last_changes


def holds_as_of(at: datetime, *, line_id: str | None = None, vins: Collection[str] | None = None) -> Any:
    """A subquery of the holds open at `at`: vin, station, line_id, kit_serial, missing_parts, held_at."""
    where = []
    if line_id is not None:
        where.append(hold_changes.c.line_id == line_id)
    if vins is not None:
        where.append(hold_changes.c.vin.in_(list(vins)))
    latest = last_changes(hold_changes, ("vin", "station"), at, *where)
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
