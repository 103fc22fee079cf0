"""State as of an instant, from tables that keep one row per change (`hold_changes`, `kit_status_changes`,
`discrepancy_changes`): for each thing, its last change at or before the instant decides.

Changes at the same instant are ordered by their log position, so replaying the log gives the same answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa


def last_changes(
    table: sa.Table, keys: Sequence[str], at: datetime, *where: sa.ColumnElement[bool], name: str | None = None
) -> Any:
    """A subquery with, for each value of `keys`, the row of its last change at or before `at`."""
    key_columns = [table.c[k] for k in keys]
    return (
        sa.select(table)
        .where(table.c.at <= at, *where)
        .distinct(*key_columns)
        .order_by(*key_columns, table.c.at.desc(), table.c.seq.desc())
        .subquery(name or f"{table.name}_as_of")
    )
