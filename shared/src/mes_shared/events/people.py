"""Contracts of the people domain (topic `mes.people`), published by workforce.

Employee facts are keyed by employee id so each person's history stays in order. Assembly-line folds
clock-in and qualification events into the read model that decides whether an operator may sign off
work at a station at a given instant, so those events carry every fact that decision needs:

- An employee holds at most one qualification per station (or skill): the key is (employee_id, station).
  Granted and Renewed carry the whole validity and replace what was known; Revoked and Expired end it.
  It is valid at instant t when valid_from <= t < valid_until and t is before any revocation. Every level
  (trainee, qualified, trainer) counts as qualified to work and sign off there; the level says how.
- An employee is at work at a station from ClockedIn.at until the ClockedOut.at of the same employee
  (at most one presence is open per employee). Clocking in elsewhere first closes the open presence.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mes_shared.envelope import EventData
from mes_shared.topics import PEOPLE

Origin = Literal["transferred", "recalled", "new_hire"]
EmployeeStatus = Literal["idle", "active", "on_leave", "left"]
QualificationLevel = Literal["trainee", "qualified", "trainer"]
# Why a presence ended: a clock-out scan, a clock-in at another station or for another shift, the shift's
# end plus the grace period passed without a clock-out, or the employee stopped being active.
ClockOutReason = Literal["scanned", "moved", "shift-ended", "status-changed"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _PeopleEvent(EventData):
    topic: ClassVar[str] = PEOPLE.name
    producer: ClassVar[str] = "workforce"
    key: ClassVar[str] = "employee id"


class EmployeeRegistered(_PeopleEvent):
    """A person joined the plant's records (HR import or form), with where they came from."""

    event_type: ClassVar[str] = "mes.employee.registered.v1"
    employee_id: str
    badge_id: str
    name: str
    origin: Origin
    status: EmployeeStatus
    status_since: date


class EmployeeUpdated(_PeopleEvent):
    """Name or badge changed (a lost badge is reissued under a new id)."""

    event_type: ClassVar[str] = "mes.employee.updated.v1"
    employee_id: str
    badge_id: str
    name: str


class EmployeeStatusChanged(_PeopleEvent):
    """Status changed on a date: only an `active` employee may clock in or sign off work.

    `origin` is the employee's origin after the change (a recall turns `transferred` into `recalled`).
    """

    event_type: ClassVar[str] = "mes.employee.status-changed.v1"
    employee_id: str
    origin: Origin
    from_status: EmployeeStatus
    to_status: EmployeeStatus
    effective_date: date
    reason: str


class EmployeeRecalled(_PeopleEvent):
    """An idle employee was called back to work under the recall programme (status becomes active)."""

    event_type: ClassVar[str] = "mes.employee.recalled.v1"
    employee_id: str
    recalled_on: date
    goal_id: str | None


class RecallGoalSet(_PeopleEvent):
    """How many idle people should be back at work by which date."""

    key: ClassVar[str] = "'recall'"
    event_type: ClassVar[str] = "mes.recall.goal-set.v1"
    goal_id: str
    target_count: int = Field(ge=1)
    by_date: date
    note: str


class _QualificationEvent(_PeopleEvent):
    employee_id: str
    # A station id, or a skill code `skill:<code>` for work not tied to one station.
    station: str
    level: QualificationLevel


class QualificationGranted(_QualificationEvent):
    """Valid from `valid_from` (inclusive) until `valid_until` (exclusive): at valid_until it has expired."""

    event_type: ClassVar[str] = "mes.qualification.granted.v1"
    valid_from: datetime
    valid_until: datetime


class QualificationRenewed(_QualificationEvent):
    event_type: ClassVar[str] = "mes.qualification.renewed.v1"
    valid_from: datetime
    valid_until: datetime


class QualificationRevoked(_QualificationEvent):
    """No longer valid from `revoked_at`."""

    event_type: ClassVar[str] = "mes.qualification.revoked.v1"
    revoked_at: datetime
    reason: str


class QualificationExpired(_QualificationEvent):
    """Published by workforce itself when `expired_at` (the grant's valid_until) passes."""

    event_type: ClassVar[str] = "mes.qualification.expired.v1"
    expired_at: datetime


class BreakWindow(_Part):
    start: time
    end: time


class ShiftDefinition(_Part):
    """Local wall-clock times in the calendar's time zone; `end` before `start` crosses midnight."""

    code: str
    start: time
    end: time
    breaks: list[BreakWindow]


class CalendarPublished(_PeopleEvent):
    """The plant calendar of a line: the source of planned working time for every target and KPI.

    A working day is a weekday in `working_days` (ISO 1 = Monday) that is not in `holidays`; planned
    time is each shift's span minus its breaks. A new version replaces the previous one from
    `valid_from` on.
    """

    key: ClassVar[str] = "line id"
    event_type: ClassVar[str] = "mes.calendar.published.v1"
    line_id: str
    version: int = Field(ge=1)
    time_zone: str
    valid_from: date
    working_days: list[int]
    holidays: list[date]
    shifts: list[ShiftDefinition]


class StationAssignment(_Part):
    employee_id: str
    station: str


class StationRequirement(_Part):
    station: str
    headcount: int = Field(ge=0)


class RosterPublished(_PeopleEvent):
    """Who works which station on a date and shift, and how many each station needs."""

    key: ClassVar[str] = "line id"
    event_type: ClassVar[str] = "mes.roster.published.v1"
    line_id: str
    date: date
    shift: str
    assignments: list[StationAssignment]
    required: list[StationRequirement]
    unqualified_assignments: list[StationAssignment]


class ClockedIn(_PeopleEvent):
    """Badge scanned at a station terminal: the employee is at work at that station from `at`."""

    event_type: ClassVar[str] = "mes.employee.clocked-in.v1"
    employee_id: str
    badge_id: str
    station: str
    line_id: str
    shift_date: date
    shift: str
    at: datetime
    terminal_event_id: str
    # The shift's window (UTC instants); unless clocked out before, the presence ends at shift_end plus
    # workforce's grace period (a ClockedOut with automatic=true follows).
    shift_start: datetime | None = None
    shift_end: datetime | None = None


class ClockedOut(_PeopleEvent):
    """At work until `at`; `automatic` when workforce closed a forgotten clock-out at shift end + grace.

    An automatic clock-out is at exactly shift_end + grace (reason `shift-ended`), or at the moment the
    employee stopped being active (reason `status-changed`); it carries no terminal_event_id.
    """

    event_type: ClassVar[str] = "mes.employee.clocked-out.v1"
    employee_id: str
    badge_id: str
    station: str
    line_id: str
    shift_date: date
    shift: str
    at: datetime
    automatic: bool
    terminal_event_id: str | None
    shift_start: datetime | None = None
    shift_end: datetime | None = None
    reason: ClockOutReason | None = None
