"""Routes are in force from a stated time (`effective_from`), dated before their entry by a late entry or
a replay; versions published before it took effect when they were published.

Revision ID: 0002_route_effective_from
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_route_effective_from"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("routes", sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE routes SET effective_from = published_at")
    op.alter_column("routes", "effective_from", nullable=False)


def downgrade() -> None:
    op.drop_column("routes", "effective_from")
