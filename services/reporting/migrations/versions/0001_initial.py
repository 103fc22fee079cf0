"""Targets, WIP ramp goals, the projection pointer, rebuilds and the platform tables.

The projection tables are not created here: they live in a schema of their own, created (and, on a
layout change, rebuilt from the log) by the service itself; see reporting.projections.store.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from mes_shared.platform_tables import create_platform_tables_v1, drop_platform_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "targets",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("annual", sa.Integer, nullable=False),
        sa.Column("monthly", JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_table(
        "wip_ramps",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("points", JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_table(
        "projection_pointer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("schema_name", sa.Text, nullable=False),
        sa.Column("layout", sa.Text, nullable=False),
        sa.Column("swapped_at", TS, nullable=False),
        sa.CheckConstraint("id = 1", name="projection_pointer_single_row"),
    )
    op.create_table(
        "rebuilds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("schema_name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("end_offsets", JSONB, nullable=False),
        sa.Column("events_applied", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("records_read", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("detail", sa.Text),
    )


def downgrade() -> None:
    bind = op.get_bind()
    for (name,) in bind.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname ~ '^reporting_p[0-9]+$'")):
        op.execute(f'DROP SCHEMA "{name}" CASCADE')
    op.drop_table("rebuilds")
    op.drop_table("projection_pointer")
    op.drop_table("wip_ramps")
    op.drop_table("targets")
    drop_platform_tables_v1()
