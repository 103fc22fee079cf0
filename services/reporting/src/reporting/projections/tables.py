"""Projection tables: every row is a fold of events, keyed by what the events are about.

The tables live in a PostgreSQL schema chosen at run time: they are declared in the placeholder schema
`projection`, which `schema_translate_map` maps to the active schema (or to the fresh schema a rebuild
fills). Rows carry only facts from events (UTC instants, never "now"), so a rebuild from the log gives
the same rows. Time buckets (shift, day, week...) are computed at query time from the line's calendar,
which makes late events, late calendars and calendar corrections land in the right bucket.

Merge rules per column are in `Column.info` (see `reporting.projections.merge`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, UUID

from mes_shared.platform_tables import inbox as platform_inbox
from reporting.projections.merge import Merger, Rule, first, latest, version_columns

PLACEHOLDER = "projection"
metadata = sa.MetaData(schema=PLACEHOLDER)

TS = sa.DateTime(timezone=True)
MIN, MAX = first(Rule.MIN), first(Rule.MAX)


def col(name: str, type_: Any, info: dict[str, Any] | None = None, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, type_, info=info or first(), **kw)


def change_table(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A table of one row per change of something's state (the event's id is the key), with the instant the
    change took effect and its log position: the state as of an instant is the last change at or before it
    (`reporting.service.changes.last_changes`)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        *columns,
        col("at", TS, nullable=False),
        col("seq", sa.BigInteger, nullable=False),
    )


# ---- bookkeeping ----------------------------------------------------------------------------------

# The inbox (event ids already folded) and the log positions live beside the rows they produced, so a
# rebuilt schema carries its own: after a swap the live consumer resumes from the new schema's positions.
inbox = platform_inbox.to_metadata(metadata, schema=PLACEHOLDER)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("topic", sa.Text, primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

# ---- stations domain -----------------------------------------------------------------------------

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    col("name", sa.Text, latest("definition")),
    col("stations", JSONB, latest("definition")),  # [{station_id, name, position}] in line order
    *version_columns("definition"),
)

routes = sa.Table(
    "routes",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    col("steps", JSONB),  # [{station_id, standard_seconds}]
    col("published_at", TS),
)

andons = sa.Table(
    "andons",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("andon_id", sa.Text, primary_key=True),
    col("station", sa.Text),
    col("reason", sa.Text),
    col("raised_by", sa.Text),
    col("vin", sa.Text),
    col("stops_line", sa.Boolean),
    col("raised_at", TS, MIN),
    col("cleared_at", TS, MAX),
    col("cleared_by", sa.Text),
    col("duration_seconds", sa.Float, MAX),
)
sa.Index("andons_line_raised", andons.c.line_id, andons.c.raised_at)
sa.Index("andons_open", andons.c.line_id, postgresql_where=andons.c.cleared_at.is_(None))

# ---- people domain (calendar and rosters first: they are the plan) --------------------------------

calendars = sa.Table(
    "calendars",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    col("time_zone", sa.Text),
    col("valid_from", sa.Date),
    col("working_days", JSONB),
    col("holidays", JSONB),
    col("shifts", JSONB),
    col("published_at", TS),
)

rosters = sa.Table(
    "rosters",
    metadata,
    sa.Column("line_id", sa.Text, primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("shift", sa.Text, primary_key=True),
    col("assignments", JSONB, latest("roster")),
    col("required", JSONB, latest("roster")),
    col("unqualified", JSONB, latest("roster")),
    *version_columns("roster"),
)

employees = sa.Table(
    "employees",
    metadata,
    sa.Column("employee_id", sa.Text, primary_key=True),
    col("badge_id", sa.Text, latest("identity")),
    col("name", sa.Text, latest("identity")),
    *version_columns("identity"),
    col("origin", sa.Text, latest("origin")),
    *version_columns("origin"),
    col("registered_on", sa.Date, MIN),
)

# Status facts (registered, changed, recalled): the status and origin on a date are the latest fact's by then.
employee_status = sa.Table(
    "employee_status",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    col("employee_id", sa.Text, nullable=False),
    col("status", sa.Text, nullable=False),
    col("origin", sa.Text),
    col("effective", sa.Date, nullable=False),
    col("at", TS, nullable=False),
    col("seq", sa.BigInteger, nullable=False),
)
sa.Index("employee_status_by_employee", employee_status.c.employee_id, employee_status.c.effective)

recalls = sa.Table(
    "recalls",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    col("employee_id", sa.Text, nullable=False),
    col("recalled_on", sa.Date, nullable=False),
    col("goal_id", sa.Text),
    col("at", TS, nullable=False),
)

recall_goals = sa.Table(
    "recall_goals",
    metadata,
    sa.Column("goal_id", sa.Text, primary_key=True),
    col("target_count", sa.Integer, latest("goal")),
    col("by_date", sa.Date, latest("goal")),
    col("note", sa.Text, latest("goal")),
    *version_columns("goal"),
    col("first_set_at", TS, MIN),
)

# Every grant, renewal, revocation and expiry of a qualification, one row per fact: its state as of an
# instant is its last change at or before then (a renewal made later must not hide an expiry that was near
# at that instant). `at` is when the change took effect: the event's time for a grant or renewal, the
# revocation's or expiry's own instant for an ending.
qualification_changes = change_table(
    "qualification_changes",
    col("employee_id", sa.Text, nullable=False),
    col("station", sa.Text, nullable=False),
    col("kind", sa.Text, nullable=False),  # granted, renewed, revoked, expired
    col("level", sa.Text),
    col("valid_from", TS),
    col("valid_until", TS),
)
sa.Index("qualification_changes_qualification", qualification_changes.c.employee_id, qualification_changes.c.station)

clockings = sa.Table(
    "clockings",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    col("kind", sa.Text, nullable=False),  # in / out
    col("employee_id", sa.Text, nullable=False),
    col("station", sa.Text, nullable=False),
    col("line_id", sa.Text, nullable=False),
    col("shift_date", sa.Date, nullable=False),
    col("shift", sa.Text, nullable=False),
    col("at", TS, nullable=False),
    col("automatic", sa.Boolean),
    col("reason", sa.Text),
)
sa.Index("clockings_shift", clockings.c.line_id, clockings.c.shift_date, clockings.c.shift)
sa.Index("clockings_employee", clockings.c.employee_id, clockings.c.at)

# ---- kits domain ----------------------------------------------------------------------------------

kits = sa.Table(
    "kits",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    col("kit_type", sa.Text, latest("spec")),
    col("bom_version", sa.Integer, latest("spec")),
    *version_columns("spec"),
    col("status", sa.Text, latest("status")),
    *version_columns("status"),
    col("expected_arrival", TS, latest("eta")),
    *version_columns("eta"),
    col("build_short", sa.Boolean, latest("release")),
    col("waiting_stations", JSONB, latest("release")),
    *version_columns("release"),
    col("shipment_id", sa.Text),
    col("unannounced", sa.Boolean),
    col("announced_at", TS, MIN),
    col("received_at", TS, MIN),
    col("released_at", TS, MIN),
    col("consumed_at", TS, MIN),
    col("consumed_by_vin", sa.Text),
)
sa.Index("kits_status", kits.c.status)

discrepancies = sa.Table(
    "discrepancies",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("discrepancy_id", sa.Text, primary_key=True),
    col("claim_code", sa.Text),
    col("part_number", sa.Text),
    col("quantity", sa.Integer),
    col("station", sa.Text),
    col("recorded_at", TS, MIN),
    col("status", sa.Text, latest("state")),
    col("resolution", sa.Text, latest("state")),
    col("resolved_at", TS, latest("state")),
    col("resolved_by", sa.Text, latest("state")),
    *version_columns("state"),
)
sa.Index("discrepancies_status", discrepancies.c.status, discrepancies.c.claim_code)

# Every status a kit or a discrepancy took, one row per fact, so that "kits by status" and "open
# discrepancies" can be answered as of any instant (`reporting.service.kit_states`).
kit_status_changes = change_table(
    "kit_status_changes",
    col("serial", sa.Text, nullable=False),
    col("status", sa.Text, nullable=False),
)
sa.Index("kit_status_changes_kit", kit_status_changes.c.serial, kit_status_changes.c.at)

# Every expected arrival an ASN announced or corrected: a kit's next arrival as of an instant is its
# shipment's last ETA at or before then.
shipment_eta_changes = change_table(
    "shipment_eta_changes",
    col("shipment_id", sa.Text, nullable=False),
    col("expected_arrival", TS, nullable=False),
)
sa.Index("shipment_eta_changes_shipment", shipment_eta_changes.c.shipment_id, shipment_eta_changes.c.at)

discrepancy_changes = change_table(
    "discrepancy_changes",
    col("serial", sa.Text, nullable=False),
    col("discrepancy_id", sa.Text, nullable=False),
    col("claim_code", sa.Text),
    col("status", sa.Text, nullable=False),
)
sa.Index(
    "discrepancy_changes_discrepancy",
    discrepancy_changes.c.serial,
    discrepancy_changes.c.discrepancy_id,
    discrepancy_changes.c.at,
)

bom_versions = sa.Table(
    "bom_versions",
    metadata,
    sa.Column("kit_type", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    col("model", sa.Text),
    col("variant", sa.Text),
    col("part_count", sa.Integer),  # sum of the BOM quantities: parts that come in the kit
    col("line_count", sa.Integer),
    col("published_at", TS),
)

# ---- vehicles domain ------------------------------------------------------------------------------

vehicles = sa.Table(
    "vehicles",
    metadata,
    sa.Column("vin", sa.Text, primary_key=True),
    col("line_id", sa.Text),
    col("model", sa.Text),
    col("route_version", sa.Integer),
    col("kit_serial", sa.Text),
    col("build_short", sa.Boolean),
    col("waiting_stations", JSONB),
    col("ordered_at", TS, MIN),
    col("cancelled_at", TS, MIN),  # the build order was withdrawn before the truck entered the line
    col("started_at", TS, MIN),
    col("start_station", sa.Text),
    col("completed_at", TS, MIN),
    col("end_station", sa.Text),
    col("lead_time_seconds", sa.Float),
    col("defect_count", sa.Integer),
    col("first_pass", sa.Boolean),
)
sa.Index("vehicles_completed", vehicles.c.line_id, vehicles.c.completed_at)
sa.Index(
    "vehicles_in_progress",
    vehicles.c.line_id,
    postgresql_where=sa.and_(vehicles.c.started_at.is_not(None), vehicles.c.completed_at.is_(None)),
)
sa.Index("vehicles_kit", vehicles.c.kit_serial)

# Movements and work of trucks at stations (facts, one per event).
station_events = sa.Table(
    "station_events",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    col("vin", sa.Text, nullable=False),
    col("line_id", sa.Text, nullable=False),
    col("station", sa.Text, nullable=False),
    col("kind", sa.Text, nullable=False),
    col("at", TS, nullable=False),
    col("seq", sa.BigInteger, nullable=False),
    col("from_station", sa.Text),
    col("operator_id", sa.Text),
    col("cycle_seconds", sa.Float),
    col("standard_seconds", sa.Float),
    col("rework", sa.Boolean),
)
sa.Index("station_events_vin", station_events.c.vin, station_events.c.at)
sa.Index("station_events_work", station_events.c.line_id, station_events.c.kind, station_events.c.at)

defects = sa.Table(
    "defects",
    metadata,
    sa.Column("vin", sa.Text, primary_key=True),
    sa.Column("defect_id", sa.Text, primary_key=True),
    col("line_id", sa.Text),
    col("station", sa.Text),
    col("caused_at_station", sa.Text),
    col("code", sa.Text),
    col("severity", sa.Text),
    col("from_check", sa.Boolean),
    col("found_at", TS, MIN),
    col("repaired_at", TS, MAX),
    col("repaired_station", sa.Text),
)
sa.Index("defects_found", defects.c.line_id, defects.c.found_at)

# A build-short hold and its release, one row per fact: a truck may be held at the same station more than
# once, so whether it is held at an instant is the last of its changes at or before that instant
# (`reporting.service.holds`), never one row of latest times.
hold_changes = change_table(
    "hold_changes",
    col("vin", sa.Text, nullable=False),
    col("station", sa.Text, nullable=False),
    col("line_id", sa.Text),
    col("kit_serial", sa.Text),
    col("missing_parts", JSONB),
    col("held", sa.Boolean, nullable=False),
)
sa.Index("hold_changes_truck", hold_changes.c.vin, hold_changes.c.station, hold_changes.c.at)

components = sa.Table(
    "components",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    col("vin", sa.Text, nullable=False),
    col("line_id", sa.Text, nullable=False),
    col("station", sa.Text, nullable=False),
    col("part_number", sa.Text, nullable=False),
    col("serial", sa.Text, nullable=False),
    col("source", sa.Text, nullable=False),
    col("unit_value", sa.Float),
    col("at", TS, nullable=False),
)
sa.Index("components_vin", components.c.vin)

PROJECTION_TABLES: tuple[sa.Table, ...] = (
    lines,
    routes,
    andons,
    calendars,
    rosters,
    employees,
    employee_status,
    recalls,
    recall_goals,
    qualification_changes,
    clockings,
    kits,
    discrepancies,
    kit_status_changes,
    shipment_eta_changes,
    discrepancy_changes,
    bom_versions,
    vehicles,
    station_events,
    defects,
    hold_changes,
    components,
)
BOOKKEEPING_TABLES: tuple[sa.Table, ...] = (inbox, positions)
MERGERS: dict[str, Merger] = {table.name: Merger.of(table) for table in PROJECTION_TABLES}


def _layout() -> str:
    """A fingerprint of the projection tables' DDL: a change means the tables must be rebuilt."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    parts = []
    for table in metadata.sorted_tables:
        parts.append(str(sa.schema.CreateTable(table).compile(dialect=dialect)))
        parts.extend(str(sa.schema.CreateIndex(i).compile(dialect=dialect)) for i in sorted(table.indexes, key=str))
        parts.extend(f"{c.name}:{c.info}" for c in table.columns)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


LAYOUT = _layout()
