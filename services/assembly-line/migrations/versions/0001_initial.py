"""Configuration (lines, stations, models, routes), the line's state (vehicles, station events,
components, andons, vehicle history), the kit and workforce read models, and the platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_shared.platform_tables import create_platform_tables_v1, drop_platform_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "employee_statuses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "employee_statuses_by_date", "employee_statuses", ["employee_id", "effective_date", "id"], unique=False
    )
    op.create_table(
        "employees",
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("badge_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("employee_id"),
    )
    op.create_table(
        "kit_types",
        sa.Column("kit_type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("parts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("kit_type", "version"),
    )
    op.create_table(
        "kits",
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("kit_type", sa.Text(), nullable=True),
        sa.Column("bom_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("build_short", sa.Boolean(), nullable=False),
        sa.Column("waiting_stations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("missing_parts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "lines",
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("configured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("configured_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("line_id"),
    )
    op.create_table(
        "models",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("variants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("defined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("model"),
    )
    op.create_table(
        "presences",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("badge_id", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=False),
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("out_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("presences_badge", "presences", ["station", "badge_id", "in_at"], unique=False)
    op.create_index(
        "presences_open", "presences", ["employee_id"], unique=False, postgresql_where=sa.text("out_at IS NULL")
    )
    op.create_table(
        "qualifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("qualifications_employee_station", "qualifications", ["employee_id", "station"], unique=False)
    op.create_table(
        "station_events",
        sa.Column("terminal", sa.Text(), nullable=False),
        sa.Column("terminal_event_id", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("vin", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator_id", sa.Text(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("terminal", "terminal_event_id"),
    )
    op.create_index("station_events_station", "station_events", ["station", "occurred_at"], unique=False)
    op.create_index("station_events_vin", "station_events", ["vin", "occurred_at"], unique=False)
    op.create_table(
        "vehicle_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("vin", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("vehicle_history_vin", "vehicle_history", ["vin", "id"], unique=False)
    op.create_table(
        "routes",
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.line_id"],
        ),
        sa.ForeignKeyConstraint(
            ["model"],
            ["models.model"],
        ),
        sa.PrimaryKeyConstraint("line_id", "model", "version"),
    )
    op.create_table(
        "stations",
        sa.Column("station_id", sa.Text(), nullable=False),
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("andon_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("andon_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.line_id"],
        ),
        sa.PrimaryKeyConstraint("station_id"),
    )
    op.create_index("stations_line", "stations", ["line_id", "position"], unique=False)
    op.create_table(
        "vehicles",
        sa.Column("vin", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=True),
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("kit_serial", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("route_version", sa.Integer(), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("defects", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("open_defects", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.Text(), nullable=True),
        sa.Column("held_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_station", sa.Text(), nullable=True),
        sa.Column("last_event", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["lines.line_id"],
        ),
        sa.PrimaryKeyConstraint("vin"),
    )
    op.create_index(
        "vehicles_kit", "vehicles", ["kit_serial"], unique=True, postgresql_where=sa.text("status <> 'cancelled'")
    )
    op.create_index("vehicles_status_line", "vehicles", ["status", "line_id"], unique=False)
    op.create_table(
        "andons",
        sa.Column("andon_id", sa.Text(), nullable=False),
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("stops_line", sa.Boolean(), nullable=False),
        sa.Column("vin", sa.Text(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_by", sa.Text(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.station_id"],
        ),
        sa.PrimaryKeyConstraint("andon_id"),
    )
    op.create_index("andons_line_raised", "andons", ["line_id", "raised_at"], unique=False)
    op.create_index("andons_open", "andons", ["station"], unique=True, postgresql_where=sa.text("cleared_at IS NULL"))
    op.create_table(
        "components",
        sa.Column("part_number", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("vin", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("unit_value", sa.Float(), nullable=True),
        sa.Column("operator_id", sa.Text(), nullable=True),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminal_event_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vin"],
            ["vehicles.vin"],
        ),
        sa.PrimaryKeyConstraint("part_number", "serial"),
    )
    op.create_index("components_vin", "components", ["vin"], unique=False)


def downgrade() -> None:
    op.drop_index("components_vin", table_name="components")
    op.drop_table("components")
    op.drop_index("andons_open", table_name="andons", postgresql_where=sa.text("cleared_at IS NULL"))
    op.drop_index("andons_line_raised", table_name="andons")
    op.drop_table("andons")
    op.drop_index("vehicles_status_line", table_name="vehicles")
    op.drop_index("vehicles_kit", table_name="vehicles", postgresql_where=sa.text("status <> 'cancelled'"))
    op.drop_table("vehicles")
    op.drop_index("stations_line", table_name="stations")
    op.drop_table("stations")
    op.drop_table("routes")
    op.drop_index("vehicle_history_vin", table_name="vehicle_history")
    op.drop_table("vehicle_history")
    op.drop_index("station_events_vin", table_name="station_events")
    op.drop_index("station_events_station", table_name="station_events")
    op.drop_table("station_events")
    op.drop_index("qualifications_employee_station", table_name="qualifications")
    op.drop_table("qualifications")
    op.drop_index("presences_open", table_name="presences", postgresql_where=sa.text("out_at IS NULL"))
    op.drop_index("presences_badge", table_name="presences")
    op.drop_table("presences")
    op.drop_table("models")
    op.drop_table("lines")
    op.drop_table("kits")
    op.drop_table("kit_types")
    op.drop_table("employees")
    op.drop_index("employee_statuses_by_date", table_name="employee_statuses")
    op.drop_table("employee_statuses")
    drop_platform_tables_v1()
