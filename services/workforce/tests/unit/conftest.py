"""Fixed instants and small builders for the workforce domain tests (no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest

from workforce.domain import BreakWindow, Calendar, ShiftPattern

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday
TODAY = date(2026, 3, 2)


@pytest.fixture
def t0() -> datetime:
    return T0


def _two_shifts(line_id: str = "L1", time_zone: str = "UTC", **overrides: object) -> Calendar:
    """Monday to Friday, early 06:00-14:00 and late 14:00-22:00, each with a 30-minute break."""
    fields: dict[str, object] = {
        "line_id": line_id,
        "time_zone": time_zone,
        "valid_from": date(2026, 1, 1),
        "working_days": [1, 2, 3, 4, 5],
        "holidays": [date(2026, 4, 3)],
        "shifts": [
            ShiftPattern("E", time(6), time(14), (BreakWindow(time(10), time(10, 30)),)),
            ShiftPattern("L", time(14), time(22), (BreakWindow(time(18), time(18, 30)),)),
        ],
    }
    fields.update(overrides)
    return Calendar.define(**fields)  # type: ignore[arg-type]


@pytest.fixture
def two_shifts() -> Callable[..., Calendar]:
    """Builds a calendar: Monday to Friday, early 06:00-14:00 and late 14:00-22:00 (UTC), 30-minute breaks;
    keyword arguments replace any field."""
    return _two_shifts
