"""May this badge sign off work at this station at this instant? Judged from workforce's facts.

The terminal scans a badge; the badge is the one the employee clocked in with at that station. The
operator must be clocked in there at the event's own time (a backlog replayed later is judged as of when
it happened), active, and qualified there at that moment: a grant is valid from `valid_from` (inclusive)
until `valid_until` (exclusive), and a revocation or expiry ends it early. As workforce's contract says,
every level (trainee, qualified, trainer) counts as qualified to work and sign off; the level says how.

When workforce's facts have not reached us yet (a clock-in made a moment ago), the answer is a 409 the
terminal can retry, never a silent accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .errors import Conflict


@dataclass(frozen=True, slots=True)
class ClockIn:
    employee_id: str
    badge_id: str
    station: str
    in_at: datetime
    out_at: datetime | None


@dataclass(frozen=True, slots=True)
class Qualification:
    level: str
    valid_from: datetime
    valid_until: datetime
    ended_at: datetime | None = None  # revoked, expired or superseded by a later grant before valid_until
    end_reason: str | None = None  # "revoked" | "expired" | "superseded"

    @property
    def effective_until(self) -> datetime:
        return min(self.valid_until, self.ended_at) if self.ended_at else self.valid_until

    def valid_at(self, at: datetime) -> bool:
        return self.valid_from <= at < self.effective_until


@dataclass(frozen=True, slots=True)
class OperatorFacts:
    """What the read model knows about one badge at one station and instant."""

    clock_in: ClockIn | None
    qualifications: tuple[Qualification, ...] = ()
    status: str | None = None  # the employee's status effective on the event's date; None: not reported
    status_since: date | None = None


def authorize_sign_off(*, badge: str, station: str, at: datetime, facts: OperatorFacts) -> str:
    """The employee id behind `badge`, or a Conflict naming the rule that refuses the sign-off."""
    clock = facts.clock_in
    if clock is None:
        raise Conflict(
            "operator.not-clocked-in",
            f"badge {badge} is not clocked in at {station} at {at.isoformat()} as far as workforce has reported; "
            "if the operator clocked in just now, retry in a moment",
            badge=badge,
            retryable=True,
        )
    employee = clock.employee_id
    if facts.status is not None and facts.status != "active":
        raise Conflict(
            "operator.not-active",
            f"employee {employee} (badge {badge}) is {facts.status}"
            + (f" since {facts.status_since.isoformat()}" if facts.status_since else "")
            + "; only an active employee signs off work",
            employee_id=employee,
        )
    if any(q.valid_at(at) for q in facts.qualifications):
        return employee
    raise Conflict(
        "operator.not-qualified",
        f"employee {employee} (badge {badge}) is not qualified at {station} at {at.isoformat()}: "
        + _why_not(facts.qualifications, at),
        employee_id=employee,
    )


def _why_not(all_: tuple[Qualification, ...], at: datetime) -> str:
    if not all_:
        return "no qualification for this station has been granted"
    upcoming = [q for q in all_ if q.valid_from > at]
    past = [q for q in all_ if q.effective_until <= at]
    if past:
        last = max(past, key=lambda q: q.effective_until)
        how = last.end_reason if last.ended_at and last.ended_at < last.valid_until else "expired"
        text = f"the qualification {how} at {last.effective_until.isoformat()}"
        if upcoming:
            text += f"; the next is valid from {min(q.valid_from for q in upcoming).isoformat()}"
        return text
    return f"the qualification is valid only from {min(q.valid_from for q in upcoming).isoformat()}"
