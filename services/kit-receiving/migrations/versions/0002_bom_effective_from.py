"""BOM versions are in force from a stated time (`effective_from`), dated before their entry by a late
entry or a replay; versions published before it took effect when they were published.

Revision ID: 0002_bom_effective_from
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_bom_effective_from"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kit_type_versions", sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE kit_type_versions SET effective_from = published_at")
    op.alter_column("kit_type_versions", "effective_from", nullable=False)


def downgrade() -> None:
    op.drop_column("kit_type_versions", "effective_from")
