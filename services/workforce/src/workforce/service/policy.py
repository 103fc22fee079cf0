"""The plant's settings as the handlers need them, and the service's clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from workforce.domain import UnqualifiedPolicy
from workforce.settings import Settings

# Terminals keep their own clocks: a little skew is normal, a scan from the future is not.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Policy:
    plant_zone: ZoneInfo
    roster_unqualified: UnqualifiedPolicy
    early: timedelta
    grace: timedelta
    terminal_max_delay: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            plant_zone=ZoneInfo(settings.plant_time_zone),
            roster_unqualified=UnqualifiedPolicy(settings.roster_unqualified),
            early=timedelta(minutes=settings.clock_in_early_minutes),
            grace=timedelta(minutes=settings.clock_out_grace_minutes),
            terminal_max_delay=timedelta(minutes=settings.terminal_max_delay_minutes),
        )

    def today(self, now: datetime) -> date:
        """The plant's date at `now`."""
        return now.astimezone(self.plant_zone).date()

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of `day` in the plant, as a UTC instant."""
        return datetime.combine(day, datetime.min.time(), tzinfo=self.plant_zone).astimezone(UTC)
