"""The Employee aggregate: who a person is (badge, name), where they came from, and their dated status.

Status moves only along the transitions below; each change has an effective date no earlier than the
current status's and never in the future, so the history reads as a timeline. `left` is final: a person
who comes back is registered again under a new employee id. `idle -> active` is always a recall, so
that the recall programme counts every one of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .errors import Conflict, InvalidInput
from .guards import require_code, require_text


class Origin(StrEnum):
    TRANSFERRED = "transferred"  # came over from the previous operator
    RECALLED = "recalled"  # called back from idle time
    NEW_HIRE = "new_hire"


class EmployeeStatus(StrEnum):
    IDLE = "idle"
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    LEFT = "left"


# Allowed status changes outside a recall (idle -> active goes through `recall`).
TRANSITIONS: dict[EmployeeStatus, frozenset[EmployeeStatus]] = {
    EmployeeStatus.IDLE: frozenset({EmployeeStatus.LEFT}),
    EmployeeStatus.ACTIVE: frozenset({EmployeeStatus.IDLE, EmployeeStatus.ON_LEAVE, EmployeeStatus.LEFT}),
    EmployeeStatus.ON_LEAVE: frozenset({EmployeeStatus.ACTIVE, EmployeeStatus.IDLE, EmployeeStatus.LEFT}),
    EmployeeStatus.LEFT: frozenset(),
}

NAME_MAX = 200


# ---- domain events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EmployeeRegistered:
    employee_id: str
    badge_id: str
    name: str
    origin: Origin
    status: EmployeeStatus
    status_since: date


@dataclass(frozen=True, slots=True, kw_only=True)
class EmployeeUpdated:
    employee_id: str
    badge_id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged:
    employee_id: str
    origin: Origin  # after the change
    from_status: EmployeeStatus
    to_status: EmployeeStatus
    effective_date: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Recalled:
    employee_id: str
    recalled_on: date
    goal_id: str | None


EmployeeEvent = EmployeeRegistered | EmployeeUpdated | StatusChanged | Recalled


# ---- the aggregate ------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Employee:
    employee_id: str
    badge_id: str
    name: str
    origin: Origin
    status: EmployeeStatus
    status_since: date

    @classmethod
    def register(
        cls,
        *,
        employee_id: str,
        badge_id: str,
        name: str,
        origin: Origin,
        status: EmployeeStatus,
        status_since: date,
        today: date,
    ) -> tuple[Employee, list[EmployeeEvent]]:
        require_code(employee_id, "employee id")
        require_code(badge_id, f"badge id of employee {employee_id}")
        require_text(name, f"name of employee {employee_id}", max_length=NAME_MAX)
        origin, status = Origin(origin), EmployeeStatus(status)
        if status_since > today:
            raise InvalidInput(
                "employee.status-since.future",
                f"status_since {status_since} of employee {employee_id} is in the future (today is {today})",
            )
        employee = cls(
            employee_id=employee_id,
            badge_id=badge_id,
            name=name.strip(),
            origin=origin,
            status=status,
            status_since=status_since,
        )
        event = EmployeeRegistered(
            employee_id=employee_id,
            badge_id=badge_id,
            name=employee.name,
            origin=origin,
            status=status,
            status_since=status_since,
        )
        return employee, [event]

    def copy(self) -> Employee:
        return dataclasses.replace(self)

    @property
    def is_active(self) -> bool:
        return self.status is EmployeeStatus.ACTIVE

    def update_identity(self, *, name: str | None = None, badge_id: str | None = None) -> list[EmployeeEvent]:
        """A corrected name, or a reissued badge. Unchanged values change nothing."""
        what = f"name of employee {self.employee_id}"
        new_name = self.name if name is None else require_text(name, what, max_length=NAME_MAX).strip()
        new_badge = self.badge_id if badge_id is None else require_code(badge_id, f"badge id of {self.employee_id}")
        if (new_name, new_badge) == (self.name, self.badge_id):
            return []
        self.require_not_left("changed")
        self.name, self.badge_id = new_name, new_badge
        return [EmployeeUpdated(employee_id=self.employee_id, badge_id=new_badge, name=new_name)]

    def require_not_left(self, what: str) -> None:
        if self.status is EmployeeStatus.LEFT:
            raise Conflict(
                "employee.left",
                f"employee {self.employee_id} left on {self.status_since} and cannot be {what}",
            )

    def change_status(self, to: EmployeeStatus, *, effective: date, reason: str, today: date) -> list[EmployeeEvent]:
        """Move to `to` from `effective` on. The same status again changes nothing."""
        to = EmployeeStatus(to)
        if to is self.status:
            return []
        reason = require_text(reason, "reason of a status change").strip()
        self._require_date(effective, today, "status change")
        if self.status is EmployeeStatus.LEFT:
            raise Conflict(
                "employee.status.left-is-final",
                f"employee {self.employee_id} left on {self.status_since}; a person who comes back is "
                "registered again under a new employee id",
            )
        if self.status is EmployeeStatus.IDLE and to is EmployeeStatus.ACTIVE:
            raise Conflict(
                "employee.status.recall-required",
                f"employee {self.employee_id} is idle: bringing them back to work is a recall "
                f"(POST /employees/{self.employee_id}/recall), so the recall programme counts it",
            )
        if to not in TRANSITIONS[self.status]:
            raise Conflict(
                "employee.status.transition",
                f"employee {self.employee_id} cannot go from {self.status} to {to}; from {self.status} the "
                f"allowed statuses are: {', '.join(sorted(TRANSITIONS[self.status])) or 'none'}",
            )
        return [self._move(to, effective, reason)]

    def recall(self, *, on: date, goal_id: str | None, today: date, note: str = "") -> list[EmployeeEvent]:
        """Call an idle employee back to work: active from `on`; a transferred person is now `recalled`."""
        if self.status is not EmployeeStatus.IDLE:
            raise Conflict(
                "employee.recall.not-idle",
                f"only an idle employee can be recalled; {self.employee_id} is {self.status} since {self.status_since}",
            )
        self._require_date(on, today, "recall")
        if self.origin is Origin.TRANSFERRED:
            self.origin = Origin.RECALLED
        reason = "recalled from idle" + (f" under recall goal {goal_id}" if goal_id else "")
        if note.strip():
            reason += f": {note.strip()}"
        recalled = Recalled(employee_id=self.employee_id, recalled_on=on, goal_id=goal_id)
        return [recalled, self._move(EmployeeStatus.ACTIVE, on, reason)]

    def _require_date(self, effective: date, today: date, what: str) -> None:
        if effective > today:
            raise InvalidInput(
                "employee.status.future-date",
                f"the {what} of employee {self.employee_id} is dated {effective}, after today ({today})",
            )
        if effective < self.status_since:
            raise InvalidInput(
                "employee.status.before-current",
                f"the {what} of employee {self.employee_id} is dated {effective}, before the current status "
                f"({self.status} since {self.status_since})",
            )

    def _move(self, to: EmployeeStatus, effective: date, reason: str) -> StatusChanged:
        event = StatusChanged(
            employee_id=self.employee_id,
            origin=self.origin,
            from_status=self.status,
            to_status=to,
            effective_date=effective,
            reason=reason,
        )
        self.status, self.status_since = to, effective
        return event


# ---- reconciling a registration that arrives again (HR re-imports) -----------------------------


class Reconciled(StrEnum):
    UNCHANGED = "unchanged"
    UPDATED = "updated"


@dataclass(frozen=True, slots=True)
class Reconciliation:
    outcome: Reconciled
    employee: Employee  # the employee after the change (a copy; the original is untouched)
    events: tuple[EmployeeEvent, ...]
    note: str = ""


def reconcile(
    current: Employee,
    *,
    badge_id: str,
    name: str,
    origin: Origin,
    status: EmployeeStatus,
    status_since: date,
    today: date,
    reason: str,
) -> Reconciliation:
    """What an HR record for a known employee changes. Raises (and changes nothing) when it cannot apply.

    Origin never changes by a registration. A status dated before the recorded one is stale (the plant
    moved on since HR's file was written) and is kept as recorded; a newer one is a status change. The
    same file imported twice therefore changes nothing.
    """
    origin, status = Origin(origin), EmployeeStatus(status)
    if origin is not current.origin:
        raise Conflict(
            "employee.origin.immutable",
            f"employee {current.employee_id} is recorded with origin {current.origin}, not {origin}; "
            "an origin never changes by a registration",
        )
    employee = current.copy()
    events: list[EmployeeEvent] = employee.update_identity(name=name, badge_id=badge_id)
    note = ""
    if status is not employee.status:
        if status_since < employee.status_since:
            note = (
                f"kept the recorded status {employee.status} since {employee.status_since}: "
                f"{status} since {status_since} is older"
            )
        else:
            events += employee.change_status(status, effective=status_since, reason=reason, today=today)
    elif status_since != employee.status_since:
        note = f"kept the recorded date: {employee.status} since {employee.status_since}, not {status_since}"
    outcome = Reconciled.UPDATED if events else Reconciled.UNCHANGED
    return Reconciliation(outcome, employee if events else current, tuple(events), note)
