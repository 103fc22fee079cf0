"""How far a terminal's own clock may be from the server's: a little ahead, and as old as the line allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assembly_line.domain import MAX_CLOCK_SKEW, MAX_EVENT_AGE, InvalidInput, require_plausible_time
from assembly_line.settings import Settings

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def refused_rule(at: datetime, **kw: timedelta) -> str:
    with pytest.raises(InvalidInput) as refused:
        require_plausible_time(at, NOW, **kw)
    return refused.value.rule


def test_a_little_skew_and_a_backlog_are_taken() -> None:
    for at in (NOW + MAX_CLOCK_SKEW, NOW - timedelta(hours=8), NOW - MAX_EVENT_AGE):
        assert require_plausible_time(at, NOW) == at


def test_the_future_and_a_broken_clock_are_refused() -> None:
    assert refused_rule(NOW + MAX_CLOCK_SKEW + timedelta(seconds=1)) == "station-event.in-future"
    assert refused_rule(NOW - MAX_EVENT_AGE - timedelta(seconds=1)) == "station-event.too-old"
    assert refused_rule(datetime(2026, 11, 26, 10, 0)) == "time.naive"


def test_a_replay_of_the_past_year_is_taken_when_the_line_allows_it() -> None:
    year_ago = NOW - timedelta(days=365)
    assert refused_rule(year_ago) == "station-event.too-old"
    assert require_plausible_time(year_ago, NOW, max_age=timedelta(days=400)) == year_ago
    assert refused_rule(year_ago, max_age=timedelta(days=364)) == "station-event.too-old"


def test_the_setting_in_days(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {
        "database_url": "postgresql+asyncpg://u:p@h/db",
        "kafka_bootstrap_servers": "h:1",
        "auth_secret": "unit-yVq6j6RG1Gp8g_8OFPOZqCvQzDBsj0MrWQVhs9ndp5t1",
    }
    monkeypatch.delenv("ASSEMBLY_LINE_MAX_EVENT_AGE_DAYS", raising=False)
    assert Settings(**base).max_event_age == MAX_EVENT_AGE
    monkeypatch.setenv("ASSEMBLY_LINE_MAX_EVENT_AGE_DAYS", "400")
    assert Settings(**base).max_event_age == timedelta(days=400)
    monkeypatch.setenv("ASSEMBLY_LINE_MAX_EVENT_AGE_DAYS", "401")
    with pytest.raises(ValueError, match="max_event_age_days"):
        Settings(**base)
