"""Reporting's own tables in the default schema: targets (set by planners), the WIP ramp goal, the pointer
to the active projection schema and the record of rebuilds. The projections themselves live in a
schema of their own (`reporting.projections.tables`) so that a rebuild can fill a fresh one beside them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("annual", sa.Integer, nullable=False),
    sa.Column("monthly", JSONB, nullable=False),  # {"1": 150, ...}: fixed months only
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

wip_ramps = sa.Table(
    "wip_ramps",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("points", JSONB, nullable=False),  # [{"date": "2026-01-31", "wip": 50}] in date order
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

# One row: which schema the live projections are in. A rebuild swaps it in one transaction.
projection_pointer = sa.Table(
    "projection_pointer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("schema_name", sa.Text, nullable=False),
    sa.Column("layout", sa.Text, nullable=False),
    sa.Column("swapped_at", TS, nullable=False),
    sa.CheckConstraint("id = 1", name="projection_pointer_single_row"),
)

rebuilds = sa.Table(
    "rebuilds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # also the generation of the schema it fills
    sa.Column("schema_name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # running, swapped, failed
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS),
    sa.Column("end_offsets", JSONB, nullable=False),  # {"topic/partition": offset} captured at the start
    sa.Column("events_applied", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("records_read", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("detail", sa.Text),
)
