"""Assembly-line's tables. Domain objects never see these; the repositories map between them.

Three groups: configuration (lines, stations, models, routes), the line's own state (vehicles with their
route state, the terminals' event log, fitted components, andons, vehicle history), and read models fed
by other services' events (kits and kit types from kit-receiving; employees, statuses, presences and
qualifications from workforce).
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

_ts = sa.DateTime(timezone=True)

# ---- configuration ------------------------------------------------------------------------------

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("configured_at", _ts, nullable=False),
    sa.Column("configured_by", sa.Text, nullable=False),
)

# A station id is unique in the plant (terminal tokens name stations, not lines). A station removed from
# its line stays as a row with active = false, so history still resolves.
stations = sa.Table(
    "stations",
    metadata,
    sa.Column("station_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    # Andon state, changed under this row's lock.
    sa.Column("andon_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("andon_changed_at", _ts),
    sa.Index("stations_line", "line_id", "position"),
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("variants", JSONB, nullable=False),
    sa.Column("defined_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

# A published route version never changes, so its steps are stored whole.
routes = sa.Table(
    "routes",
    metadata,
    sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), primary_key=True),
    sa.Column("model", sa.Text, sa.ForeignKey("models.model"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("steps", JSONB, nullable=False),
    # In force from then (a late entry dates it in the past); published_at is when it was entered.
    sa.Column("effective_from", _ts, nullable=False),
    sa.Column("published_at", _ts, nullable=False),
    sa.Column("published_by", sa.Text, nullable=False),
)

# ---- the line's state ---------------------------------------------------------------------------

# One row per VIN: the build order and, once started, the truck's whole route state. `steps` and
# `defects` are small JSON documents rewritten with the row (one row lock per station event); the
# columns beside them are what queries filter and sort on.
vehicles = sa.Table(
    "vehicles",
    metadata,
    sa.Column("vin", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("variant", sa.Text),
    sa.Column("line_id", sa.Text, sa.ForeignKey("lines.line_id"), nullable=False),
    sa.Column("kit_serial", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("route_version", sa.Integer, nullable=False),
    sa.Column("steps", JSONB, nullable=False),
    sa.Column("defects", JSONB, nullable=False),
    sa.Column("open_defects", sa.Integer, nullable=False),
    sa.Column("held_at", sa.Text),
    sa.Column("held_since", _ts),
    sa.Column("current_station", sa.Text),
    sa.Column("last_event", JSONB),
    sa.Column("last_event_at", _ts),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("started_at", _ts),
    sa.Column("completed_at", _ts),
    sa.Column("cancelled_at", _ts),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("vehicles_status_line", "status", "line_id"),
    # A kit is bound to one build order at a time; a cancelled order frees it.
    sa.Index("vehicles_kit", "kit_serial", unique=True, postgresql_where=sa.text("status <> 'cancelled'")),
)

# The terminals' events as accepted: the idempotency record of (terminal, terminal_event_id) and the
# truck's timeline for genealogy. A refused event leaves no row (its transaction rolled back).
station_events = sa.Table(
    "station_events",
    metadata,
    sa.Column("terminal", sa.Text, primary_key=True),
    sa.Column("terminal_event_id", sa.Text, primary_key=True),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("vin", sa.Text),
    sa.Column("occurred_at", _ts, nullable=False),
    sa.Column("received_at", _ts, nullable=False),
    sa.Column("operator_id", sa.Text),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", JSONB, nullable=False),
    sa.Index("station_events_vin", "vin", "occurred_at"),
    sa.Index("station_events_station", "station", "occurred_at"),
)

# Serialised parts fitted (genealogy). A serial is fitted to one truck only.
components = sa.Table(
    "components",
    metadata,
    sa.Column("part_number", sa.Text, primary_key=True),
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("vin", sa.Text, sa.ForeignKey("vehicles.vin"), nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("unit_value", sa.Float),
    sa.Column("operator_id", sa.Text),
    sa.Column("fitted_at", _ts, nullable=False),
    sa.Column("terminal_event_id", sa.Text, nullable=False),
    sa.Index("components_vin", "vin"),
)

andons = sa.Table(
    "andons",
    metadata,
    sa.Column("andon_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, sa.ForeignKey("stations.station_id"), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("stops_line", sa.Boolean, nullable=False),
    sa.Column("vin", sa.Text),
    sa.Column("raised_at", _ts, nullable=False),
    sa.Column("raised_by", sa.Text),
    sa.Column("cleared_at", _ts),
    sa.Column("cleared_by", sa.Text),
    sa.Column("duration_seconds", sa.Float),
    sa.Index("andons_open", "station", unique=True, postgresql_where=sa.text("cleared_at IS NULL")),
    sa.Index("andons_line_raised", "line_id", "raised_at"),
)

# What happened to a truck outside the terminals' events: build order, start, send-back, holds.
vehicle_history = sa.Table(
    "vehicle_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("vin", sa.Text, nullable=False),
    sa.Column("at", _ts, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("detail", JSONB, nullable=False),
    sa.Index("vehicle_history_vin", "vin", "id"),
)

# ---- read models: kit-receiving -----------------------------------------------------------------

kit_types = sa.Table(
    "kit_types",
    metadata,
    sa.Column("kit_type", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("variant", sa.Text, nullable=False),
    sa.Column("parts", JSONB, nullable=False),
)

kits = sa.Table(
    "kits",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("kit_type", sa.Text),
    sa.Column("bom_version", sa.Integer),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("build_short", sa.Boolean, nullable=False),
    sa.Column("waiting_stations", JSONB, nullable=False),
    sa.Column("missing_parts", JSONB, nullable=False),
    sa.Column("released_at", _ts),
    sa.Column("updated_at", _ts, nullable=False),
)

# ---- read models: workforce ---------------------------------------------------------------------

employees = sa.Table(
    "employees",
    metadata,
    sa.Column("employee_id", sa.Text, primary_key=True),
    sa.Column("badge_id", sa.Text),
    sa.Column("name", sa.Text),
)

# Status changes by effective date: the status on a day is the latest change effective by then.
employee_statuses = sa.Table(
    "employee_statuses",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Index("employee_statuses_by_date", "employee_id", "effective_date", "id"),
)

# Presences at a station: from ClockedIn.at until ClockedOut.at (open while out_at is null).
presences = sa.Table(
    "presences",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, nullable=False),
    sa.Column("badge_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("in_at", _ts, nullable=False),
    sa.Column("out_at", _ts),
    sa.Index("presences_badge", "station", "badge_id", "in_at"),
    sa.Index("presences_open", "employee_id", postgresql_where=sa.text("out_at IS NULL")),
)

# Qualification validity intervals per employee and station. A later grant or renewal supersedes the
# earlier ones from its valid_from on; revocation and expiry end them. Earlier intervals stay, so a
# terminal's backlog is judged by what was valid when its events happened.
qualifications = sa.Table(
    "qualifications",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("employee_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("valid_from", _ts, nullable=False),
    sa.Column("valid_until", _ts, nullable=False),
    sa.Column("ended_at", _ts),
    sa.Column("end_reason", sa.Text),
    sa.Index("qualifications_employee_station", "employee_id", "station"),
)
