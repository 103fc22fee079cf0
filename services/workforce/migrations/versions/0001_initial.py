"""Employees with status history, recall, qualifications, lines and stations (read model), calendars,
rosters, presences and terminal events, platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
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
        "employees",
        sa.Column("employee_id", sa.Text, primary_key=True),
        sa.Column("badge_id", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_since", sa.Date, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("employees_status_origin", "employees", ["status", "origin"])
    op.create_table(
        "employee_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("employee_status_history_employee", "employee_status_history", ["employee_id", "id"])
    op.create_table(
        "recall_goals",
        sa.Column("goal_id", sa.Text, primary_key=True),
        sa.Column("target_count", sa.Integer, nullable=False),
        sa.Column("by_date", sa.Date, nullable=False),
        sa.Column("set_on", sa.Date, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
    )
    op.create_index("recall_goals_set_at", "recall_goals", ["set_at"])
    op.create_table(
        "recalls",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
        sa.Column("recalled_on", sa.Date, nullable=False),
        sa.Column("goal_id", sa.Text, sa.ForeignKey("recall_goals.goal_id")),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("recalls_recalled_on", "recalls", ["recalled_on"])
    op.create_index("recalls_employee", "recalls", ["employee_id"])
    op.create_table(
        "qualifications",
        sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
        sa.Column("station", sa.Text, primary_key=True),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_until", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("revoke_reason", sa.Text),
        sa.Column("expiry_announced_for", TS),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_index("qualifications_valid_until", "qualifications", ["valid_until"])
    op.create_index("qualifications_station", "qualifications", ["station"])
    op.create_table(
        "qualification_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("employee_id", sa.Text, nullable=False),
        sa.Column("station", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("valid_from", TS),
        sa.Column("valid_until", TS),
        sa.Column("reason", sa.Text),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
    )
    op.create_index("qualification_history_employee", "qualification_history", ["employee_id", "id"])
    op.create_table(
        "lines",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("configured_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "stations",
        sa.Column("station_id", sa.Text, primary_key=True),
        sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("stations_line", "stations", ["line_id", "position"])
    op.create_table(
        "calendars",
        sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("working_days", JSONB, nullable=False),
        sa.Column("holidays", JSONB, nullable=False),
        sa.Column("shifts", JSONB, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
    )
    op.create_table(
        "rosters",
        sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), primary_key=True),
        sa.Column("shift_date", sa.Date, primary_key=True),
        sa.Column("shift", sa.Text, primary_key=True),
        sa.Column("shift_start", TS, nullable=False),
        sa.Column("shift_end", TS, nullable=False),
        sa.Column("required", JSONB, nullable=False),
        sa.Column("unqualified", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
    )
    op.create_table(
        "roster_assignments",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("shift_date", sa.Date, primary_key=True),
        sa.Column("shift", sa.Text, primary_key=True),
        sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
        sa.Column("station", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id", "shift_date", "shift"], ["rosters.line_id", "rosters.shift_date", "rosters.shift"]
        ),
    )
    op.create_index("roster_assignments_employee", "roster_assignments", ["employee_id", "shift_date"])
    op.create_table(
        "presences",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
        sa.Column("badge_id", sa.Text, nullable=False),
        sa.Column("station", sa.Text, nullable=False),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("shift_date", sa.Date, nullable=False),
        sa.Column("shift", sa.Text, nullable=False),
        sa.Column("shift_start", TS, nullable=False),
        sa.Column("shift_end", TS, nullable=False),
        sa.Column("clocked_in_at", TS, nullable=False),
        sa.Column("in_terminal", sa.Text, nullable=False),
        sa.Column("in_terminal_event_id", sa.Text, nullable=False),
        sa.Column("clocked_out_at", TS),
        sa.Column("out_terminal", sa.Text),
        sa.Column("out_terminal_event_id", sa.Text),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.Column("out_reason", sa.Text),
        sa.CheckConstraint("clocked_out_at IS NULL OR clocked_out_at >= clocked_in_at", name="presences_forward"),
    )
    op.create_index(
        "presences_one_open",
        "presences",
        ["employee_id"],
        unique=True,
        postgresql_where=sa.text("clocked_out_at IS NULL"),
    )
    op.create_index(
        "presences_open_by_shift_end", "presences", ["shift_end"], postgresql_where=sa.text("clocked_out_at IS NULL")
    )
    op.create_index("presences_shift", "presences", ["line_id", "shift_date", "shift"])
    op.create_index("presences_employee", "presences", ["employee_id", "clocked_in_at"])
    op.create_table(
        "terminal_events",
        sa.Column("terminal", sa.Text, primary_key=True),
        sa.Column("terminal_event_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "terminal_events",
        "presences",
        "roster_assignments",
        "rosters",
        "calendars",
        "stations",
        "lines",
        "qualification_history",
        "qualifications",
        "recalls",
        "recall_goals",
        "employee_status_history",
        "employees",
    ):
        op.drop_table(table)
    drop_platform_tables_v1()
