"""Small argument guards shared by the domain modules (the domain must be safe without the API layer)."""

from __future__ import annotations

from datetime import datetime

from .errors import InvalidInput


def require_aware(at: datetime, what: str) -> datetime:
    # Naive datetimes are ambiguous across the plant's time zone and UTC storage; reporting buckets by
    # the event's own time, so an instant without an offset would land in the wrong shift.
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("time.naive", f"{what} must be a timezone-aware datetime, got {at!r}")
    return at


def require_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("text.blank", f"{what} must be a non-empty string, got {value!r}")
    return value


def require_count(value: int, what: str, *, minimum: int) -> int:
    # bool is an int subclass; True as a quantity is always a caller bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("quantity.not-integer", f"{what} must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidInput("quantity.too-small", f"{what} must be at least {minimum}, got {value}")
    return value
