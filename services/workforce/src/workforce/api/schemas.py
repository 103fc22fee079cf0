"""Request and response bodies. The shared input types (mes_shared.inputs) refuse absurd input before it
reaches the domain: control characters, instants outside the plant's years, numbers past the columns."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mes_shared.inputs import Code, Instant, Name, NonBlank, Note, PastDate
from mes_shared.inputs import PlantDate as Day
from mes_shared.inputs import StationOrSkill as StationCode
from mes_shared.inputs import TerminalEventId as TerminalEventIdBase

TerminalEventId = Annotated[
    TerminalEventIdBase, Field(description="The terminal's own id of this scan; a resend with the same id counts once")
]
OriginName = Literal["transferred", "recalled", "new_hire"]
StatusName = Literal["idle", "active", "on_leave", "left"]
LevelName = Literal["trainee", "qualified", "trainer"]
QualificationStateName = Literal["pending", "valid", "expired", "revoked"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Page(BaseModel):
    """One page of a long list: `total` matches the filter, `items` start at `offset`."""

    total: int
    limit: int
    offset: int


# ---- employees ----------------------------------------------------------------------------------


class EmployeeIn(Body):
    employee_id: Code = Field(description="HR's personnel number; registering it again with the same data is a no-op")
    badge_id: Code
    name: Name
    origin: OriginName
    status: StatusName
    status_since: PastDate


class EmployeePatch(Body):
    name: Name | None = None
    badge_id: Code | None = Field(default=None, description="A reissued badge")

    @model_validator(mode="after")
    def _something(self) -> EmployeePatch:
        if self.name is None and self.badge_id is None:
            raise ValueError("give name, badge_id or both")
        return self


class StatusChangeIn(Body):
    to_status: StatusName
    effective_date: Day | None = Field(default=None, description="Default: today in the plant's time zone")
    reason: NonBlank


class RecallIn(Body):
    recalled_on: Day | None = Field(default=None, description="Default: today in the plant's time zone")
    note: Note = ""


class EmployeeView(BaseModel):
    employee_id: str
    badge_id: str
    name: str
    origin: OriginName
    status: StatusName
    status_since: date
    created_at: datetime
    updated_at: datetime


class StatusHistoryEntry(BaseModel):
    from_status: StatusName | None
    to_status: StatusName
    origin: OriginName
    effective_date: date
    reason: str
    recorded_at: datetime
    recorded_by: str


class QualificationView(BaseModel):
    employee_id: str
    station: str
    level: LevelName
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    state: QualificationStateName


class QualificationHistoryEntry(BaseModel):
    station: str
    action: Literal["granted", "renewed", "revoked", "expired"]
    level: LevelName
    valid_from: datetime | None
    valid_until: datetime | None
    reason: str | None
    at: datetime
    actor: str


class PresenceView(BaseModel):
    employee_id: str
    badge_id: str
    station: str
    line_id: str
    shift_date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    clocked_in_at: datetime
    clocked_out_at: datetime | None
    automatic: bool
    out_reason: Literal["scanned", "moved", "shift-ended", "status-changed"] | None


class RecallView(BaseModel):
    recalled_on: date
    goal_id: str | None
    recorded_at: datetime
    recorded_by: str


class EmployeeDetail(EmployeeView):
    status_history: list[StatusHistoryEntry]
    recalls: list[RecallView]
    qualifications: list[QualificationView]
    qualification_history: list[QualificationHistoryEntry]
    presence: PresenceView | None = Field(description="The open presence, when clocked in")


class EmployeePage(Page):
    items: list[EmployeeView]


class ImportRow(BaseModel):
    line: int = Field(description="Line number in the file (the header is line 1)")
    employee_id: str | None
    outcome: Literal["created", "updated", "unchanged", "rejected"]
    reason: str | None = Field(description="Why a row was rejected, or what an unchanged row kept")


class ImportSummary(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int


class ImportResult(BaseModel):
    summary: ImportSummary
    rows: list[ImportRow]


class HeadcountCell(BaseModel):
    origin: OriginName
    status: StatusName
    count: int


class Headcount(BaseModel):
    total: int = Field(description="Everyone on record, those who left included")
    on_roll: int = Field(description="Everyone who has not left")
    by_origin: dict[str, int]
    by_status: dict[str, int]
    cells: list[HeadcountCell]


# ---- recall -------------------------------------------------------------------------------------


class RecallGoalIn(Body):
    goal_id: Code | None = Field(default=None, description="Default: generated")
    target_count: int = Field(ge=1, le=100_000, description="Idle people back at work by by_date")
    by_date: Day
    note: Note = ""


class RecallGoalView(BaseModel):
    goal_id: str
    target_count: int
    by_date: date
    set_on: date
    note: str
    set_at: datetime
    set_by: str


class RecallProgressView(BaseModel):
    goal: RecallGoalView
    today: date
    recalled: int = Field(description="Recalls dated from set_on through by_date")
    remaining: int
    days_left: int = Field(description="Calendar days from today through by_date, today included")
    required_per_day: float | None
    achieved: bool
    overdue: bool
    idle_now: int
    shortfall_in_pool: int = Field(description="How many more are needed than are idle now")


# ---- qualifications -----------------------------------------------------------------------------


_STATED = (
    "When it happened (a late entry, a training record's history); default now, never in the future. The rules "
    "are judged as of that time"
)


class GrantIn(Body):
    station: StationCode
    level: LevelName
    valid_from: Instant | None = Field(default=None, description="Default: when it was granted")
    valid_until: Instant = Field(
        description="Exclusive: at this instant the qualification has expired. It may be past already when the "
        "grant records history (granted_at before it): the qualification is then recorded as expired"
    )
    granted_at: Instant | None = Field(default=None, description=_STATED)


class RenewIn(Body):
    level: LevelName | None = Field(default=None, description="Default: the current level")
    valid_until: Instant
    renewed_at: Instant | None = Field(default=None, description=_STATED)


class RevokeIn(Body):
    reason: NonBlank
    revoked_at: Instant | None = Field(default=None, description=_STATED)


class ExpiringQualification(QualificationView):
    name: str
    badge_id: str
    employee_status: StatusName
    line_id: str | None


class ExpiringList(BaseModel):
    now: datetime
    until: datetime
    items: list[ExpiringQualification]


# ---- lines, calendars, rosters ------------------------------------------------------------------


class StationView(BaseModel):
    station_id: str
    name: str
    position: int
    active: bool


class LineView(BaseModel):
    line_id: str
    name: str
    configured_at: datetime
    stations: list[StationView]


class BreakIn(Body):
    start: time
    end: time


class ShiftIn(Body):
    code: Code
    start: time = Field(description="Local wall-clock time, HH:MM")
    end: time = Field(description="Local wall-clock time; at or before start means the shift crosses midnight")
    breaks: list[BreakIn] = Field(default_factory=list, max_length=12)


class CalendarIn(Body):
    time_zone: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        description="IANA time zone, e.g. Europe/Berlin",
    )
    valid_from: Day
    working_days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        min_length=1, max_length=7, description="ISO weekdays, 1 = Monday"
    )
    holidays: list[Day] = Field(default_factory=list, max_length=400)
    shifts: list[ShiftIn] = Field(min_length=1, max_length=12)


class BreakView(BaseModel):
    start: str
    end: str


class ShiftView(BaseModel):
    code: str
    start: str
    end: str
    crosses_midnight: bool
    breaks: list[BreakView]
    planned_minutes: int = Field(description="Span minus breaks on an ordinary day (no daylight-saving change)")


class CalendarView(BaseModel):
    line_id: str
    version: int
    time_zone: str
    valid_from: date
    working_days: list[int]
    holidays: list[date]
    shifts: list[ShiftView]
    published_at: datetime
    published_by: str


class ShiftInstanceView(BaseModel):
    shift: str
    shift_date: date
    start: datetime
    end: datetime
    breaks: list[tuple[datetime, datetime]]
    planned_minutes: float


class PlannedDay(BaseModel):
    date: date
    working_day: bool
    calendar_version: int | None
    planned_minutes: float
    shifts: list[ShiftInstanceView]


class AssignmentIn(Body):
    employee_id: Code
    station: Code


class RequirementIn(Body):
    station: Code
    headcount: int = Field(ge=0, le=1_000)


class RosterIn(Body):
    required: list[RequirementIn] = Field(default_factory=list, max_length=1_000)
    assignments: list[AssignmentIn] = Field(default_factory=list, max_length=5_000)


class AssignmentView(BaseModel):
    employee_id: str
    station: str


class RequirementView(BaseModel):
    station: str
    headcount: int


class RosterView(BaseModel):
    line_id: str
    date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    version: int
    required: list[RequirementView]
    assignments: list[AssignmentView]
    unqualified_assignments: list[AssignmentView]
    published_at: datetime
    published_by: str


class CoveragePerson(BaseModel):
    employee_id: str
    name: str
    level: LevelName | None = Field(description="Valid qualification level at `as_of`; None when not qualified")


class LevelCounts(BaseModel):
    trainee: int = 0
    qualified: int = 0
    trainer: int = 0


class StationCoverage(BaseModel):
    station: str
    name: str | None
    required: int
    rostered: int
    rostered_qualified: int
    rostered_by_level: LevelCounts
    clocked_in: int = Field(description="Employees who clocked in at the station for this shift")
    present: int = Field(description="Of them, still clocked in now")
    clocked_in_qualified: int
    clocked_in_by_level: LevelCounts
    open_positions: int = Field(description="required - rostered, when positive")
    uncovered: int = Field(description="required - qualified people clocked in, when positive")
    rostered_people: list[CoveragePerson]
    clocked_in_people: list[CoveragePerson]


class Coverage(BaseModel):
    line_id: str
    date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    as_of: datetime = Field(description="The instant qualifications are checked at (now, within the shift)")
    roster_version: int | None
    stations: list[StationCoverage]
    totals: dict[str, int]


# ---- clock-in -----------------------------------------------------------------------------------


class ClockInIn(Body):
    terminal_event_id: TerminalEventId
    badge_id: Code
    station: Code
    at: Instant = Field(description="When the badge was scanned, by the terminal's clock")
    shift: Code | None = Field(default=None, description="The shift chosen at the terminal; default: derived")


class ClockOutIn(Body):
    terminal_event_id: TerminalEventId
    badge_id: Code
    station: Code
    at: Instant


class QualificationAtStation(BaseModel):
    level: LevelName
    valid_until: datetime


class ClockResultView(BaseModel):
    result: Literal["clocked_in", "already_clocked_in", "clocked_out", "closed_automatically"]
    employee_id: str
    name: str
    badge_id: str
    station: str = Field(description="The station of the presence")
    line_id: str
    shift_date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    clocked_in_at: datetime
    clocked_out_at: datetime | None
    qualification: QualificationAtStation | None = Field(
        description="The employee's valid qualification at the station at the scan; None: not qualified there"
    )
    closed_previous: PresenceView | None = Field(description="An earlier presence this scan closed")
