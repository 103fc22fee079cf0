"""Presence at work: from a clock-in badge scan at a station until its clock-out.

An employee has at most one open presence. A clock-in elsewhere (another station or another shift)
closes the open one at the scan (`moved`). A presence nobody closes is closed automatically at its
shift's end plus the grace period (`shift-ended`), at exactly that instant whenever the workers notice,
so the outcome never depends on when a sweep runs. A presence also ends when the employee stops being
active (`status-changed`). Scans that contradict what is recorded (a clock-in before the open one, a
clock-out before its clock-in) are refused rather than rewriting history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from .calendar import ShiftInstance
from .employee import EmployeeStatus
from .errors import Conflict
from .guards import require_aware


class ClockOutReason(StrEnum):
    SCANNED = "scanned"
    MOVED = "moved"
    SHIFT_ENDED = "shift-ended"
    STATUS_CHANGED = "status-changed"


class ClockResult(StrEnum):
    CLOCKED_IN = "clocked_in"
    ALREADY_CLOCKED_IN = "already_clocked_in"  # a second scan at the same station for the same shift
    CLOCKED_OUT = "clocked_out"
    CLOSED_AUTOMATICALLY = "closed_automatically"  # the scan came after shift end + grace


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockedIn:
    employee_id: str
    badge_id: str
    station: str
    line_id: str
    shift_date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    at: datetime
    terminal_event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockedOut:
    employee_id: str
    badge_id: str
    station: str
    line_id: str
    shift_date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    at: datetime
    automatic: bool
    terminal_event_id: str | None
    reason: ClockOutReason


PresenceEvent = ClockedIn | ClockedOut


@dataclass(kw_only=True)
class Presence:
    employee_id: str
    badge_id: str
    station: str
    line_id: str
    shift_date: date
    shift: str
    shift_start: datetime
    shift_end: datetime
    clocked_in_at: datetime
    in_terminal_event_id: str
    clocked_out_at: datetime | None = None
    out_terminal_event_id: str | None = None
    automatic: bool = False
    out_reason: ClockOutReason | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.clocked_out_at is None

    def auto_close_at(self, grace: timedelta) -> datetime:
        return self.shift_end + grace

    def forgotten(self, now: datetime, grace: timedelta) -> bool:
        """Still open when its shift ended more than `grace` ago: due for an automatic clock-out."""
        return self.is_open and self.auto_close_at(grace) <= now

    def close(self, at: datetime, *, reason: ClockOutReason, terminal_event_id: str | None) -> ClockedOut:
        require_aware(at, "clock-out time")
        assert self.is_open, "a closed presence cannot be closed again"
        automatic = reason in (ClockOutReason.SHIFT_ENDED, ClockOutReason.STATUS_CHANGED)
        self.clocked_out_at, self.out_terminal_event_id = at, terminal_event_id
        self.automatic, self.out_reason = automatic, reason
        return ClockedOut(
            employee_id=self.employee_id,
            badge_id=self.badge_id,
            station=self.station,
            line_id=self.line_id,
            shift_date=self.shift_date,
            shift=self.shift,
            shift_start=self.shift_start,
            shift_end=self.shift_end,
            at=at,
            automatic=automatic,
            terminal_event_id=terminal_event_id,
            reason=reason,
        )

    def close_forgotten(self, grace: timedelta) -> ClockedOut:
        return self.close(self.auto_close_at(grace), reason=ClockOutReason.SHIFT_ENDED, terminal_event_id=None)

    def end_for_status_change(self, now: datetime, grace: timedelta) -> ClockedOut:
        if self.forgotten(now, grace):
            return self.close_forgotten(grace)
        return self.close(max(now, self.clocked_in_at), reason=ClockOutReason.STATUS_CHANGED, terminal_event_id=None)


@dataclass(frozen=True, slots=True)
class ClockDecision:
    result: ClockResult
    presence: Presence  # the presence the scan is about (new, existing or closed)
    events: tuple[PresenceEvent, ...]
    closed: Presence | None = None  # an earlier presence this scan closed (moved or forgotten)


def require_active_then(
    employee_id: str, badge_id: str, status: EmployeeStatus | None, status_since: date | None
) -> None:
    """Only an active employee may clock in; the status is the one in effect at the scan's time."""
    if status is not None and status is not EmployeeStatus.ACTIVE:
        since = f" since {status_since.isoformat()}" if status_since else ""
        raise Conflict(
            "clock-in.employee-not-active",
            f"employee {employee_id} (badge {badge_id}) was {status}{since} when the scan happened: only an active "
            "employee may clock in",
            employee_status=status.value,
        )


def clock_in(
    *,
    employee_id: str,
    badge_id: str,
    status: EmployeeStatus | None,
    station: str,
    shift: ShiftInstance,
    at: datetime,
    terminal_event_id: str,
    open_presence: Presence | None,
    last_clock_out: datetime | None,
    grace: timedelta,
    status_since: date | None = None,
) -> ClockDecision:
    """`status`: the employee's status in effect when the scan happened (None: none recorded that early),
    so a late scan by someone active then is taken even if they have left since."""
    require_aware(at, "clock-in time")
    require_active_then(employee_id, badge_id, status, status_since)
    events: list[PresenceEvent] = []
    closed: Presence | None = None
    if open_presence is not None and open_presence.forgotten(at, grace):
        events.append(open_presence.close_forgotten(grace))
        closed, last_clock_out, open_presence = open_presence, open_presence.clocked_out_at, None
    if open_presence is not None:
        if open_presence.station == station and (open_presence.shift_date, open_presence.shift) == shift.key:
            return ClockDecision(ClockResult.ALREADY_CLOCKED_IN, open_presence, ())
        if at < open_presence.clocked_in_at:
            raise Conflict(
                "clock-in.before-open-clock-in",
                f"employee {employee_id} is clocked in at {open_presence.station} since "
                f"{open_presence.clocked_in_at.isoformat()}, after this scan ({at.isoformat()})",
            )
        events.append(open_presence.close(at, reason=ClockOutReason.MOVED, terminal_event_id=terminal_event_id))
        closed = open_presence
    elif last_clock_out is not None and at < last_clock_out:
        raise Conflict(
            "clock-in.overlaps-recorded-presence",
            f"employee {employee_id} was recorded at work until {last_clock_out.isoformat()}, after this scan "
            f"({at.isoformat()})",
        )
    presence = Presence(
        employee_id=employee_id,
        badge_id=badge_id,
        station=station,
        line_id=shift.line_id,
        shift_date=shift.shift_date,
        shift=shift.code,
        shift_start=shift.start,
        shift_end=shift.end,
        clocked_in_at=at,
        in_terminal_event_id=terminal_event_id,
    )
    events.append(
        ClockedIn(
            employee_id=employee_id,
            badge_id=badge_id,
            station=station,
            line_id=shift.line_id,
            shift_date=shift.shift_date,
            shift=shift.code,
            shift_start=shift.start,
            shift_end=shift.end,
            at=at,
            terminal_event_id=terminal_event_id,
        )
    )
    return ClockDecision(ClockResult.CLOCKED_IN, presence, tuple(events), closed)


def clock_out(
    *,
    employee_id: str,
    open_presence: Presence | None,
    last_closed: Presence | None,
    at: datetime,
    terminal_event_id: str,
    grace: timedelta,
) -> ClockDecision:
    require_aware(at, "clock-out time")
    if open_presence is None:
        if (
            last_closed is not None
            and last_closed.out_reason is ClockOutReason.SHIFT_ENDED
            and at >= last_closed.clocked_in_at
        ):
            # The workers already closed it at shift end + grace; the late scan changes nothing.
            return ClockDecision(ClockResult.CLOSED_AUTOMATICALLY, last_closed, ())
        raise Conflict("clock-out.not-clocked-in", f"employee {employee_id} is not clocked in")
    if at < open_presence.clocked_in_at:
        raise Conflict(
            "clock-out.before-clock-in",
            f"employee {employee_id} clocked in at {open_presence.clocked_in_at.isoformat()}, after this clock-out "
            f"scan ({at.isoformat()})",
        )
    if open_presence.forgotten(at, grace):
        event = open_presence.close_forgotten(grace)
        return ClockDecision(ClockResult.CLOSED_AUTOMATICALLY, open_presence, (event,))
    event = open_presence.close(at, reason=ClockOutReason.SCANNED, terminal_event_id=terminal_event_id)
    return ClockDecision(ClockResult.CLOCKED_OUT, open_presence, (event,))
