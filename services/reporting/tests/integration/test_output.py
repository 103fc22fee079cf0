"""Output versus target through Kafka and PostgreSQL: completions from assembly-line's contract, the
calendar from workforce's, the plan from the planner; figures computed by hand.

The line works Mon-Fri, one shift 06:00-14:30 Europe/Berlin with a 30-minute break at 10:00 (480 planned
minutes a day). November 2026 has 21 working days and is fixed at 210 trucks: 10 a day, one per 48 planned
minutes. The reference instant is Thursday 26 November 2026, 10:00 in Berlin (09:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from reporting_support import Api, Bus, calendar, completed

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)


def local(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=BERLIN)


async def test_output_against_target_by_shift_day_week_month_and_year(
    bus: Bus, planner: Api, manager: Api, new_line
) -> None:
    line = new_line()
    await bus.publish(calendar(line))
    r = await planner.put(f"/targets/{line}/2026", {"annual": 2000, "monthly": {"11": 210}})
    assert r.status_code == 200, r.text
    november = r.json()["months"][10]
    assert november == {
        "month": 11,
        "target": 210.0,
        "fixed": True,
        "working_days": 21,
        "planned_hours": 168.0,
        "takt_minutes": 48.0,
    }

    twice = completed(line, local(26, 9, 30))
    await bus.publish(
        completed(line, local(25, 23, 59, 59)),  # Wednesday, one second before midnight
        completed(line, local(26, 0, 0, 1)),  # Thursday, one second after midnight
        completed(line, local(26, 7)),
        completed(line, local(26, 8)),
        completed(line, local(26, 9)),
        twice,
        twice,  # delivered twice: counts once
        completed(line, local(23, 12)),  # Monday of the same week
        completed(line, local(13, 12)),  # earlier in November
        completed(line, local(26, 11)),  # after the reference instant: not yet happened
    )

    view = await manager.json("/output", line=line, at=AT.isoformat())
    periods = {p["period"]: p for p in view["periods"]}
    assert periods["shift"]["label"] == "2026-11-26 A" and periods["shift"]["running"] is True
    assert periods["shift"]["actual"] == 4  # 07:00, 08:00, 09:00, 09:30
    assert periods["shift"]["target"] == 10.0
    assert periods["shift"]["target_to_now"] == 5.0  # 240 planned minutes of 480
    assert periods["shift"]["gap"] == -1.0
    assert periods["day"]["label"] == "2026-11-26"
    assert periods["day"]["actual"] == 5  # and the one at 00:00:01
    assert periods["week"]["label"] == "2026-W48"
    assert periods["week"]["actual"] == 7  # Monday, Wednesday 23:59:59, Thursday's five
    assert periods["week"]["target"] == 50.0
    assert periods["week"]["target_to_now"] == 35.0  # Mon-Wed 30 + 5
    assert periods["month"]["actual"] == 8
    assert periods["month"]["target"] == 210.0
    assert periods["month"]["target_to_now"] == 185.0  # 18 full working days before the 26th + 5
    assert periods["year"]["actual"] == 8

    yesterday = await manager.json("/output", line=line, at=local(25, 23, 59, 59).isoformat())
    assert {p["period"]: p["actual"] for p in yesterday["periods"]}["day"] == 1

    year = view["year"]
    assert year["annual_target"] == 2000 and year["actual"] == 8
    assert year["forecast"]["days_observed"] == 10
    assert year["required_daily_rate"] > 0


async def test_required_rate_and_forecast(bus: Bus, planner: Api, manager: Api, new_line) -> None:
    """Ten working days of 9, 11, 9, 11... before the reference day: run rate 10, s = 1.0541."""
    line = new_line()
    await bus.publish(calendar(line))
    assert (await planner.put(f"/targets/{line}/2026", {"annual": 2000, "monthly": {"11": 210}})).status_code == 200
    days = [13, 16, 17, 18, 19, 20, 23, 24, 25, 26]
    events = []
    for i, day in enumerate(days):
        for n in range(9 if i % 2 == 0 else 11):
            events.append(completed(line, local(day, 7, n)))
    await bus.publish(*events)
    # Friday 27 November, 06:00: the day's shift has not started.
    view = await manager.json("/output", line=line, at=local(27, 6).isoformat())
    year = view["year"]
    assert year["actual"] == 100
    forecast = year["forecast"]
    assert forecast["run_rate"] == 10.0
    assert forecast["std_dev"] == pytest.approx(1.05, abs=0.01)
    # 27 Nov + 30 Nov = 2 November days, December: 23 weekdays -> 25 working days left.
    assert forecast["remaining_working_days"] == 25.0
    assert forecast["year_end"] == 350.0
    half = 1.96 * 1.0540925533894598 * (25 + 25**2 / 10) ** 0.5
    assert forecast["low"] == pytest.approx(350 - half, abs=0.01)
    assert forecast["high"] == pytest.approx(350 + half, abs=0.01)
    assert year["required_daily_rate"] == pytest.approx((2000 - 100) / 25, abs=0.01)
    assert year["on_track"] is False


async def test_a_calendar_published_after_the_trucks_buckets_them_by_its_time_zone(
    bus: Bus, manager: Api, new_line
) -> None:
    """Buckets are computed when a view is read: facts folded before their calendar land right anyway."""
    line = new_line()
    late_evening = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # Thursday 00:30 in Berlin
    await bus.publish(completed(line, late_evening), completed(line, datetime(2026, 11, 25, 12, tzinfo=UTC)))
    at = datetime(2026, 11, 26, 9, tzinfo=UTC).isoformat()
    before = await manager.json("/output", line=line, at=at)
    assert before["time_zone"] == "UTC"  # the plant's default zone while the line has no calendar
    assert {p["period"]: p["actual"] for p in before["periods"]}["day"] == 0  # both on the 25th in UTC
    await bus.publish(calendar(line))
    after = await manager.json("/output", line=line, at=at)
    assert after["time_zone"] == "Europe/Berlin"
    assert {p["period"]: p["actual"] for p in after["periods"]}["day"] == 1  # 00:30 on the 26th in Berlin
