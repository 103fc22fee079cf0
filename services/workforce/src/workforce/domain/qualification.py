"""Qualifications: an employee may work a station (or a skill) at a level, from a date until an expiry.

One qualification per (employee, station): a grant creates it, a renewal extends it (and may change
its level), a revocation ends it, and its expiry ends it by itself at `valid_until`. Every command takes
the time it happened (`now`: the server's clock, or a time stated for history or a late entry) and is
judged as of that time. Validity at an
instant t is `valid_from <= t < valid_until` and t before any revocation: at exactly `valid_until` it
has expired. Every level counts as qualified to work there; coverage counts the levels separately.

Expiry needs no action to take effect (every check compares instants), but it is announced once per
validity by `expire()`, which the workers call when `valid_until` has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import Conflict, InvalidInput
from .guards import STATION_OR_SKILL, require_aware, require_text


class Level(StrEnum):
    TRAINEE = "trainee"
    QUALIFIED = "qualified"
    TRAINER = "trainer"


class QualificationState(StrEnum):
    PENDING = "pending"  # valid_from is still ahead
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True, kw_only=True)
class QualificationGranted:
    employee_id: str
    station: str
    level: Level
    valid_from: datetime
    valid_until: datetime
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class QualificationRenewed:
    employee_id: str
    station: str
    level: Level
    valid_from: datetime
    valid_until: datetime
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class QualificationRevoked:
    employee_id: str
    station: str
    level: Level
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class QualificationExpired:
    employee_id: str
    station: str
    level: Level
    at: datetime  # the valid_until that passed


QualificationEvent = QualificationGranted | QualificationRenewed | QualificationRevoked | QualificationExpired


def require_station_code(station: str) -> str:
    if not isinstance(station, str) or not STATION_OR_SKILL.match(station):
        raise InvalidInput(
            "qualification.station.invalid",
            f"a qualification is for a station id or a skill code 'skill:<code>', got {station!r}",
        )
    return station


def _require_window(valid_from: datetime, valid_until: datetime, now: datetime, what: str) -> None:
    require_aware(valid_from, "valid_from")
    require_aware(valid_until, "valid_until")
    if valid_until <= valid_from:
        raise InvalidInput(
            "qualification.validity.empty",
            f"{what}: valid_until {valid_until.isoformat()} must be after valid_from {valid_from.isoformat()}",
        )
    if valid_until <= now:
        raise InvalidInput(
            "qualification.validity.past",
            f"{what}: valid_until {valid_until.isoformat()} had already passed at {now.isoformat()}, when this "
            "happened; to record history, state when it was granted or renewed",
        )


@dataclass(kw_only=True)
class Qualification:
    employee_id: str
    station: str
    level: Level
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    # The valid_until whose passing was announced (QualificationExpired), so it is announced once.
    expiry_announced_for: datetime | None = None

    # ---- reading ----------------------------------------------------------------------------------

    def is_valid_at(self, t: datetime) -> bool:
        require_aware(t, "instant")
        if self.revoked_at is not None and t >= self.revoked_at:
            return False
        return self.valid_from <= t < self.valid_until

    def is_valid_throughout(self, start: datetime, end: datetime) -> bool:
        """Valid at every instant of [start, end): a whole shift, say."""
        if self.revoked_at is not None and self.revoked_at < end:
            return False
        return self.valid_from <= start and end <= self.valid_until

    def state(self, now: datetime) -> QualificationState:
        if self.revoked_at is not None and now >= self.revoked_at:
            return QualificationState.REVOKED
        if now >= self.valid_until:
            return QualificationState.EXPIRED
        if now < self.valid_from:
            return QualificationState.PENDING
        return QualificationState.VALID

    def expiry_due(self, now: datetime) -> bool:
        """`valid_until` has passed, nothing revoked it before, and its passing was not announced yet."""
        if self.revoked_at is not None and self.revoked_at <= self.valid_until:
            return False
        return self.valid_until <= now and self.expiry_announced_for != self.valid_until

    # ---- commands ---------------------------------------------------------------------------------

    @classmethod
    def grant(
        cls,
        *,
        employee_id: str,
        station: str,
        level: Level,
        valid_from: datetime,
        valid_until: datetime,
        now: datetime,
    ) -> tuple[Qualification, list[QualificationEvent]]:
        require_station_code(station)
        _require_window(valid_from, valid_until, now, f"qualification of {employee_id} for {station}")
        q = cls(
            employee_id=employee_id, station=station, level=Level(level), valid_from=valid_from, valid_until=valid_until
        )
        return q, [q._granted(now)]

    def grant_again(
        self, *, level: Level, valid_from: datetime, valid_until: datetime, now: datetime
    ) -> list[QualificationEvent]:
        """A new grant where the previous one has ended (expired or revoked). `now` is when it happened: a
        grant dated before the recorded qualification began would rewrite its history, and is refused."""
        if now < self.valid_from:
            raise Conflict(
                "qualification.before-recorded",
                f"employee {self.employee_id} holds a qualification for {self.station} recorded from "
                f"{self.valid_from.isoformat()}; a grant at {now.isoformat()}, before it, cannot be entered",
            )
        state = self.state(now)
        if state in (QualificationState.VALID, QualificationState.PENDING):
            raise Conflict(
                "qualification.exists",
                f"employee {self.employee_id} already holds a {state} qualification for {self.station} "
                f"({self.level}, until {self.valid_until.isoformat()}); renew it instead",
            )
        _require_window(valid_from, valid_until, now, f"qualification of {self.employee_id} for {self.station}")
        events = self.expire(now)
        self.level, self.valid_from, self.valid_until = Level(level), valid_from, valid_until
        self.revoked_at = self.revoke_reason = None
        return [*events, self._granted(now)]

    def _require_not_before_published_expiry(self, now: datetime, what: str) -> None:
        """A change dated before an expiry already announced would contradict it: facts go in their order."""
        if self.expiry_announced_for is not None and self.expiry_announced_for == self.valid_until > now:
            raise Conflict(
                "qualification.before-recorded",
                f"the qualification of {self.employee_id} for {self.station} is recorded as expired at "
                f"{self.valid_until.isoformat()}; a {what} at {now.isoformat()}, before that, cannot be entered",
            )

    def renew(self, *, level: Level, valid_until: datetime, now: datetime) -> list[QualificationEvent]:
        """Extend (and maybe re-level) a qualification that was not revoked.

        While it is valid or pending the validity stays continuous (valid_from is kept); once it has
        lapsed, the renewed one is valid from now, and the lapse is announced first if it was not yet.
        """
        level = Level(level)
        self._require_not_before_published_expiry(now, "renewal")
        state = self.state(now)
        if state is QualificationState.REVOKED:
            raise Conflict(
                "qualification.revoked",
                f"the qualification of {self.employee_id} for {self.station} was revoked on "
                f"{self.revoked_at.isoformat() if self.revoked_at else '?'}; grant it again instead",
            )
        valid_from = now if state is QualificationState.EXPIRED else self.valid_from
        _require_window(valid_from, valid_until, now, f"renewal of {self.employee_id} for {self.station}")
        if (level, valid_from, valid_until) == (self.level, self.valid_from, self.valid_until):
            return []
        events = self.expire(now)
        self.level, self.valid_from, self.valid_until = level, valid_from, valid_until
        return [
            *events,
            QualificationRenewed(
                employee_id=self.employee_id,
                station=self.station,
                level=level,
                valid_from=valid_from,
                valid_until=valid_until,
                at=now,
            ),
        ]

    def revoke(self, *, reason: str, now: datetime) -> list[QualificationEvent]:
        """No longer valid from now. Revoking a revoked qualification changes nothing."""
        reason = require_text(reason, "reason of a revocation").strip()
        self._require_not_before_published_expiry(now, "revocation")
        state = self.state(now)
        if state is QualificationState.REVOKED:
            return []
        if state is QualificationState.EXPIRED:
            raise Conflict(
                "qualification.not-current",
                f"the qualification of {self.employee_id} for {self.station} already expired at "
                f"{self.valid_until.isoformat()}",
            )
        self.revoked_at, self.revoke_reason = now, reason
        return [
            QualificationRevoked(
                employee_id=self.employee_id, station=self.station, level=self.level, reason=reason, at=now
            )
        ]

    def expire(self, now: datetime) -> list[QualificationEvent]:
        """Announce the passing of `valid_until`, once; nothing when it is not due."""
        if not self.expiry_due(now):
            return []
        self.expiry_announced_for = self.valid_until
        return [
            QualificationExpired(
                employee_id=self.employee_id, station=self.station, level=self.level, at=self.valid_until
            )
        ]

    def _granted(self, now: datetime) -> QualificationGranted:
        return QualificationGranted(
            employee_id=self.employee_id,
            station=self.station,
            level=self.level,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            at=now,
        )
