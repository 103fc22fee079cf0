"""Workforce's tables. Domain objects never see these; the repositories map between them.

`lines` and `stations` are a read model of assembly-line's `mes.line.configured.v1` events; everything
else is workforce's own state, changed only by command handlers and the sweeps.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

_ts = sa.DateTime(timezone=True)

employees = sa.Table(
    "employees",
    metadata,
    sa.Column("employee_id", sa.Text, primary_key=True),
    sa.Column("badge_id", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_since", sa.Date, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("employees_status_origin", "status", "origin"),
)

employee_status_history = sa.Table(
    "employee_status_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("from_status", sa.Text),  # None: the registration
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_at", _ts, nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Index("employee_status_history_employee", "employee_id", "id"),
)

recall_goals = sa.Table(
    "recall_goals",
    metadata,
    sa.Column("goal_id", sa.Text, primary_key=True),
    sa.Column("target_count", sa.Integer, nullable=False),
    sa.Column("by_date", sa.Date, nullable=False),
    sa.Column("set_on", sa.Date, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("set_at", _ts, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Index("recall_goals_set_at", "set_at"),
)

recalls = sa.Table(
    "recalls",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("recalled_on", sa.Date, nullable=False),
    sa.Column("goal_id", sa.Text, sa.ForeignKey("recall_goals.goal_id")),
    sa.Column("recorded_at", _ts, nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Index("recalls_recalled_on", "recalled_on"),
    sa.Index("recalls_employee", "employee_id"),
)

qualifications = sa.Table(
    "qualifications",
    metadata,
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
    sa.Column("station", sa.Text, primary_key=True),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("valid_from", _ts, nullable=False),
    sa.Column("valid_until", _ts, nullable=False),
    sa.Column("revoked_at", _ts),
    sa.Column("revoke_reason", sa.Text),
    sa.Column("expiry_announced_for", _ts),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.Index("qualifications_valid_until", "valid_until"),
    sa.Index("qualifications_station", "station"),
)

qualification_history = sa.Table(
    "qualification_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("valid_from", _ts),
    sa.Column("valid_until", _ts),
    sa.Column("reason", sa.Text),
    sa.Column("at", _ts, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Index("qualification_history_employee", "employee_id", "id"),
)

# ---- read model of assembly-line's lines and stations --------------------------------------------

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("configured_at", _ts, nullable=False),  # the event's own time: older events never win
    sa.Column("updated_at", _ts, nullable=False),
)

stations = sa.Table(
    "stations",
    metadata,
    sa.Column("station_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    # A station a later configuration of its line no longer lists stays known but inactive.
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("stations_line", "line_id", "position"),
)

# ---- calendars and rosters -----------------------------------------------------------------------

calendars = sa.Table(
    "calendars",
    metadata,
    sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("working_days", JSONB, nullable=False),
    sa.Column("holidays", JSONB, nullable=False),
    sa.Column("shifts", JSONB, nullable=False),
    sa.Column("published_at", _ts, nullable=False),
    sa.Column("published_by", sa.Text, nullable=False),
)

rosters = sa.Table(
    "rosters",
    metadata,
    sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), primary_key=True),
    sa.Column("shift_date", sa.Date, primary_key=True),
    sa.Column("shift", sa.Text, primary_key=True),
    sa.Column("shift_start", _ts, nullable=False),
    sa.Column("shift_end", _ts, nullable=False),
    sa.Column("required", JSONB, nullable=False),
    sa.Column("unqualified", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("published_at", _ts, nullable=False),
    sa.Column("published_by", sa.Text, nullable=False),
)

roster_assignments = sa.Table(
    "roster_assignments",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("shift_date", sa.Date, primary_key=True),
    sa.Column("shift", sa.Text, primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), primary_key=True),
    sa.Column("station", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(
        ["line_id", "shift_date", "shift"], ["rosters.line_id", "rosters.shift_date", "rosters.shift"]
    ),
    sa.Index("roster_assignments_employee", "employee_id", "shift_date"),
)

# ---- clock-in ------------------------------------------------------------------------------------

presences = sa.Table(
    "presences",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, sa.ForeignKey("employees.employee_id"), nullable=False),
    sa.Column("badge_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("shift_date", sa.Date, nullable=False),
    sa.Column("shift", sa.Text, nullable=False),
    sa.Column("shift_start", _ts, nullable=False),
    sa.Column("shift_end", _ts, nullable=False),
    sa.Column("clocked_in_at", _ts, nullable=False),
    sa.Column("in_terminal", sa.Text, nullable=False),
    sa.Column("in_terminal_event_id", sa.Text, nullable=False),
    sa.Column("clocked_out_at", _ts),
    sa.Column("out_terminal", sa.Text),
    sa.Column("out_terminal_event_id", sa.Text),
    sa.Column("automatic", sa.Boolean, nullable=False),
    sa.Column("out_reason", sa.Text),
    sa.CheckConstraint("clocked_out_at IS NULL OR clocked_out_at >= clocked_in_at", name="presences_forward"),
)
# At most one open presence per employee, whatever races the terminals run.
sa.Index(
    "presences_one_open",
    presences.c.employee_id,
    unique=True,
    postgresql_where=presences.c.clocked_out_at.is_(None),
)
sa.Index("presences_open_by_shift_end", presences.c.shift_end, postgresql_where=presences.c.clocked_out_at.is_(None))
sa.Index("presences_shift", presences.c.line_id, presences.c.shift_date, presences.c.shift)
sa.Index("presences_employee", presences.c.employee_id, presences.c.clocked_in_at)

# Every terminal scan that was applied, under the terminal's own event id: a resend counts once even
# when it comes with another Idempotency-Key.
terminal_events = sa.Table(
    "terminal_events",
    metadata,
    sa.Column("terminal", sa.Text, primary_key=True),
    sa.Column("terminal_event_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", JSONB, nullable=False),
    sa.Column("recorded_at", _ts, nullable=False),
)
