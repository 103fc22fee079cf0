"""Argument guards shared by the domain modules, so the domain is safe without the API layer in front."""

from __future__ import annotations

import re
from datetime import datetime

from mes_shared.inputs import TEXT_MAX_LENGTH, control_character

from .errors import InvalidInput

# Ids people type or scan: employee ids, badge ids, station and line ids, shift codes.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A skill not tied to one station: "skill:forklift".
SKILL_PREFIX = "skill:"
STATION_OR_SKILL = re.compile(r"^(skill:)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def require_aware(at: datetime, what: str) -> datetime:
    # A naive time is ambiguous between the plant's zone and UTC, and would land in the wrong shift.
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("time.naive", f"{what} must be a timezone-aware datetime, got {at!r}")
    return at


def require_code(value: str, what: str) -> str:
    if not isinstance(value, str) or not CODE.match(value):
        raise InvalidInput(
            "code.invalid",
            f"{what} must be 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit, got {value!r}",
        )
    return value


def require_text(value: str, what: str, *, max_length: int = TEXT_MAX_LENGTH) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("text.blank", f"{what} must not be blank")
    if len(value) > max_length:
        raise InvalidInput("text.too-long", f"{what} must be at most {max_length} characters")
    found = control_character(value)
    if found is not None:
        raise InvalidInput("text.control-characters", f"{what} must not contain control characters (found {found})")
    return value


def is_skill(code: str) -> bool:
    return code.startswith(SKILL_PREFIX)
