"""Kit-receiving's tables. Domain objects never see these; the repository maps between them."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

_ts = sa.DateTime(timezone=True)

kit_types = sa.Table(
    "kit_types",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("variant", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
)

kit_type_versions = sa.Table(
    "kit_type_versions",
    metadata,
    sa.Column("kit_type", sa.Text, sa.ForeignKey("kit_types.code"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    # A published BOM never changes, so it is stored whole.
    sa.Column("lines", JSONB, nullable=False),
    # In force from then (a late entry dates it in the past); published_at is when it was entered.
    sa.Column("effective_from", _ts, nullable=False),
    sa.Column("published_at", _ts, nullable=False),
    sa.Column("published_by", sa.Text, nullable=False),
)

shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("shipment_id", sa.Text, primary_key=True),
    sa.Column("carrier", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("expected_arrival", _ts, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("announced_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("shipments_status", "status"),
)

kits = sa.Table(
    "kits",
    metadata,
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
    sa.Column("received_at", _ts),
    sa.Column("released_at", _ts),
    sa.Column("released_by", sa.Text),
    sa.Column("cancelled_at", _ts),
    sa.Column("consumed_at", _ts),
    sa.Column("vin", sa.Text),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("kits_status_type", "status", "kit_type"),
    sa.Index("kits_shipment", "shipment_id"),
)

discrepancies = sa.Table(
    "discrepancies",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("serial", sa.Text, sa.ForeignKey("kits.serial"), nullable=False),
    sa.Column("claim_code", sa.Text, nullable=False),
    sa.Column("part_number", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("station", sa.Text),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("resolution", sa.Text),
    sa.Column("recorded_at", _ts, nullable=False),
    sa.Column("resolved_at", _ts),
    sa.Column("resolved_by", sa.Text),
    sa.Column("resolution_note", sa.Text),
    sa.Index("discrepancies_serial", "serial"),
    sa.Index("discrepancies_status_code", "status", "claim_code"),
)

kit_history = sa.Table(
    "kit_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    sa.Column("at", _ts, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("detail", JSONB, nullable=False),
    sa.Index("kit_history_serial", "serial", "id"),
)

# Discrepancies in the order they were recorded: ids of one receipt share a time and run D1, D2, ... D10,
# so the shorter id sorts first.
RECORDED_ORDER = (
    discrepancies.c.recorded_at,
    discrepancies.c.serial,
    sa.func.length(discrepancies.c.id),
    discrepancies.c.id,
)
