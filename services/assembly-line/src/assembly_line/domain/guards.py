"""Argument guards the domain applies itself, so it is safe without the API layer in front of it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .errors import InvalidInput

# 17 characters, digits and capitals without I, O and Q (they read as 1 and 0). The ISO 3779 check
# digit is not checked: many non-North-American VINs do not use it.
VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
_VIN = re.compile(VIN_PATTERN)

# Terminals keep their own clocks: a little skew is normal, a fact from the future is not.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# A terminal's backlog is hours old at most; a month-old time is a broken clock, not a backlog (the default of
# ASSEMBLY_LINE_MAX_EVENT_AGE_DAYS: a replay of a plant's past, such as the simulator's, may need more).
MAX_EVENT_AGE = timedelta(days=30)


def require_vin(vin: str) -> str:
    if not isinstance(vin, str) or not _VIN.match(vin):
        raise InvalidInput(
            "vin.invalid", f"VIN {vin!r} is not 17 characters of A-Z and 0-9 (never I, O or Q)", vin=str(vin)
        )
    return vin


def require_aware(at: datetime, what: str) -> datetime:
    # Reporting buckets by the event's own time; an instant without an offset would land in the wrong shift.
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("time.naive", f"{what} must be a timezone-aware time, got {at!r}")
    return at


def require_plausible_time(
    at: datetime, now: datetime, what: str = "occurred_at", *, max_age: timedelta = MAX_EVENT_AGE
) -> datetime:
    """A terminal's time: not more than the allowed skew ahead of `now`, not more than `max_age` old."""
    require_aware(at, what)
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput(
            "station-event.in-future",
            f"{what} {at.isoformat()} is more than {int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes ahead of "
            f"the server's clock ({now.isoformat()}); check the terminal's clock",
            server_time=now.isoformat(),
        )
    if at < now - max_age:
        raise InvalidInput(
            "station-event.too-old",
            f"{what} {at.isoformat()} is more than {max_age.days} days old; check the terminal's clock",
            server_time=now.isoformat(),
        )
    return at


def require_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("text.blank", f"{what} must be a non-empty text, got {value!r}")
    return value
