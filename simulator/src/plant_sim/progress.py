"""What the simulator is doing, as it does it: a status line rewritten in place on a terminal, or one line
per interval in a log. Refusals are printed on their own lines as they happen."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TextIO

from plant_sim.calendar import PlantCalendar
from plant_sim.driver import DriverStats, Refusal
from plant_sim.tally import Tally


class Progress:
    def __init__(
        self,
        calendar: PlantCalendar,
        *,
        every_s: float | None = None,
        stream: TextIO | None = None,
        quiet: bool = False,
    ) -> None:
        self.calendar = calendar
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s if every_s is not None else (1.0 if self.tty else 10.0)
        self.quiet = quiet
        self._last = 0.0
        self._last_sent = 0
        self._last_time = time.monotonic()
        self._dirty = False

    def say(self, text: str) -> None:
        """A message of its own (not overwritten)."""
        if self._dirty:
            self.stream.write("\n")
            self._dirty = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def refusal(self, refusal: Refusal) -> None:
        self.say(f"REFUSED {refusal.describe()}")

    def update(
        self,
        *,
        phase: str,
        sim: datetime | None,
        tally: Tally,
        stats: DriverStats,
        day: tuple[int, int] | None = None,
        speed: float | None = None,
        behind_s: float = 0.0,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < self.every_s):
            return
        elapsed = max(1e-6, now - self._last_time)
        rate = (stats.sent - self._last_sent) / elapsed
        self._last, self._last_time, self._last_sent = now, now, stats.sent
        parts = [phase]
        if sim is not None:
            local = sim.astimezone(self.calendar.zone)
            shift = self.calendar.shift_at(sim)
            parts.append(f"{local:%a %Y-%m-%d %H:%M}" + (f" shift {shift.code}" if shift else " off shift"))
        if day is not None:
            parts.append(f"day {day[0]}/{day[1]}")
        if speed is not None:
            parts.append(f"x{speed:g}")
        quarantined = tally.kits_by_status().get("quarantined", 0)
        parts += [
            f"trucks in {tally.started} out {tally.completed} WIP {tally.wip}",
            f"kits on hand {tally.kits_on_hand} ({quarantined} quarantined)",
            f"people active {tally.people_active}",
            f"{rate:.0f} req/s",
            f"refused {stats.refused} skipped {stats.skipped} retries {stats.lag_retries}",
        ]
        if behind_s >= 60:
            parts.append(f"behind by {behind_s / 60:.0f} sim-min")
        line = " | ".join(parts)
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self._dirty = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._dirty:
            self.stream.write("\n")
            self.stream.flush()
            self._dirty = False
