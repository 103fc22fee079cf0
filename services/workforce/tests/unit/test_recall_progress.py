"""Recall goals and progress against them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from workforce.domain import InvalidInput, RecallGoal, progress

TODAY = date(2026, 3, 2)


def goal(target: int = 100, by: date = date(2026, 3, 31)) -> RecallGoal:
    return RecallGoal.set(goal_id="RG-1", target_count=target, by_date=by, note=" ramp-up ", today=TODAY)


def test_a_goal_is_set_today_for_a_date_ahead() -> None:
    g = goal()
    assert (g.set_on, g.note) == (TODAY, "ramp-up")
    assert g.covers(TODAY) and g.covers(date(2026, 3, 31))
    assert not g.covers(TODAY - timedelta(days=1)) and not g.covers(date(2026, 4, 1))


@pytest.mark.parametrize(
    ("target", "by", "rule"),
    [
        (0, date(2026, 3, 31), "recall.goal.target"),
        (True, date(2026, 3, 31), "recall.goal.target"),
        (10, TODAY - timedelta(days=1), "recall.goal.by-date-past"),
    ],
)
def test_bad_goals(target: int, by: date, rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        RecallGoal.set(goal_id="RG-1", target_count=target, by_date=by, note="", today=TODAY)
    assert refused.value.rule == rule


def test_progress_spreads_what_remains_over_the_days_left_today_included() -> None:
    p = progress(goal(), recalled=40, idle_now=70, today=date(2026, 3, 22))
    assert (p.remaining, p.days_left) == (60, 10)
    assert p.required_per_day == 6.0
    assert not p.achieved and not p.overdue
    assert p.shortfall_in_pool == 0


def test_the_required_rate_rounds_up_to_a_hundredth() -> None:
    assert progress(goal(), recalled=0, idle_now=200, today=date(2026, 3, 29)).required_per_day == 33.34


def test_achieved_and_overdue() -> None:
    assert progress(goal(), recalled=100, idle_now=5, today=TODAY).achieved
    done = progress(goal(), recalled=120, idle_now=5, today=TODAY)
    assert (done.remaining, done.required_per_day) == (0, None)
    late = progress(goal(), recalled=90, idle_now=5, today=date(2026, 4, 1))
    assert (late.overdue, late.days_left, late.required_per_day, late.shortfall_in_pool) == (True, 0, None, 5)


def test_the_last_day_counts() -> None:
    p = progress(goal(), recalled=99, idle_now=1, today=date(2026, 3, 31))
    assert (p.days_left, p.required_per_day, p.overdue) == (1, 1.0, False)
