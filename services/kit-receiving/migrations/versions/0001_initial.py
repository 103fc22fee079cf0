"""Kit types and BOM versions, shipments, kits, discrepancies, kit history, platform tables.

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
        "kit_types",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("variant", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "kit_type_versions",
        sa.Column("kit_type", sa.Text, sa.ForeignKey("kit_types.code"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
    )
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.Text, primary_key=True),
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("expected_arrival", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("announced_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("shipments_status", "shipments", ["status"])
    op.create_table(
        "kits",
        sa.Column("serial", sa.Text, primary_key=True),
        sa.Column("kit_type", sa.Text, sa.ForeignKey("kit_types.code"), nullable=False),
        sa.Column("bom_version", sa.Integer, nullable=False),
        sa.Column("shipment_id", sa.Text, sa.ForeignKey("shipments.shipment_id")),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("unannounced", sa.Boolean, nullable=False),
        sa.Column("cases", JSONB, nullable=False),
        sa.Column("build_short", sa.Boolean, nullable=False),
        sa.Column("waiting_stations", JSONB, nullable=False),
        sa.Column("dock", sa.Text),
        sa.Column("received_at", TS),
        sa.Column("released_at", TS),
        sa.Column("released_by", sa.Text),
        sa.Column("cancelled_at", TS),
        sa.Column("consumed_at", TS),
        sa.Column("vin", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("kits_status_type", "kits", ["status", "kit_type"])
    op.create_index("kits_shipment", "kits", ["shipment_id"])
    op.create_table(
        "discrepancies",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("serial", sa.Text, sa.ForeignKey("kits.serial"), nullable=False),
        sa.Column("claim_code", sa.Text, nullable=False),
        sa.Column("part_number", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("station", sa.Text),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("resolution", sa.Text),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("resolved_by", sa.Text),
        sa.Column("resolution_note", sa.Text),
    )
    op.create_index("discrepancies_serial", "discrepancies", ["serial"])
    op.create_index("discrepancies_status_code", "discrepancies", ["status", "claim_code"])
    op.create_table(
        "kit_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("serial", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
    )
    op.create_index("kit_history_serial", "kit_history", ["serial", "id"])


def downgrade() -> None:
    for table in ("kit_history", "discrepancies", "kits", "shipments", "kit_type_versions", "kit_types"):
        op.drop_table(table)
    drop_platform_tables_v1()
