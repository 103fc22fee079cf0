"""The recall programme: a goal (how many idle people back at work by which date) and progress against it.

Progress counts the recalls dated from the day the goal was set through its date; a recall after the
date no longer helps that goal. The required rate spreads what remains over the calendar days left,
today included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from .errors import InvalidInput
from .guards import require_code

MAX_TARGET = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RecallGoal:
    goal_id: str
    target_count: int
    by_date: date
    set_on: date
    note: str

    @classmethod
    def set(cls, *, goal_id: str, target_count: int, by_date: date, note: str, today: date) -> RecallGoal:
        require_code(goal_id, "recall goal id")
        if isinstance(target_count, bool) or not isinstance(target_count, int) or not 1 <= target_count <= MAX_TARGET:
            raise InvalidInput(
                "recall.goal.target", f"target_count must be a whole number from 1 to {MAX_TARGET}, got {target_count}"
            )
        if by_date < today:
            raise InvalidInput("recall.goal.by-date-past", f"by_date {by_date} is before today ({today})")
        return cls(goal_id=goal_id, target_count=target_count, by_date=by_date, set_on=today, note=note.strip())

    def covers(self, recalled_on: date) -> bool:
        return self.set_on <= recalled_on <= self.by_date


@dataclass(frozen=True, slots=True, kw_only=True)
class RecallProgress:
    goal: RecallGoal
    recalled: int
    remaining: int
    days_left: int  # calendar days from today through by_date, today included; 0 once it has passed
    required_per_day: float | None  # None when nothing remains or no day is left
    achieved: bool
    overdue: bool  # the date has passed and the target was not reached
    idle_now: int  # people still idle: the pool the remaining recalls come from
    shortfall_in_pool: int  # how many more are needed than are idle


def progress(goal: RecallGoal, *, recalled: int, idle_now: int, today: date) -> RecallProgress:
    remaining = max(0, goal.target_count - recalled)
    days_left = max(0, (goal.by_date - today).days + 1)
    required = math.ceil(remaining / days_left * 100) / 100 if remaining and days_left else None
    return RecallProgress(
        goal=goal,
        recalled=recalled,
        remaining=remaining,
        days_left=days_left,
        required_per_day=required,
        achieved=remaining == 0,
        overdue=remaining > 0 and days_left == 0,
        idle_now=idle_now,
        shortfall_in_pool=max(0, remaining - idle_now),
    )
