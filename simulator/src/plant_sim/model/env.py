"""The discrete-event core: a clock, an agenda of internal events, named random streams, and the actions out.

Internal events run in (time, scheduling order); an event may schedule later ones and emit actions at the
current time, so the actions come out in time order. Each concern draws from its own random stream
(`rng("kits")`, ...), so the whole run is a function of the seed, and a change in one concern does not
reshuffle the others.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from plant_sim.actions import Action, Kind


class Env:
    def __init__(self, start: datetime, seed: int) -> None:
        self.now = start
        self.seed = seed
        self._agenda: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._seq = itertools.count(1)
        self._out: list[Action] = []
        self._streams: dict[str, random.Random] = {}

    def rng(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = random.Random(f"{self.seed}/{name}")
        return stream

    def at(self, when: datetime, fn: Callable[[], None]) -> None:
        """Run `fn` at `when` (not before now)."""
        if when < self.now:
            raise ValueError(f"cannot schedule at {when.isoformat()}, before now ({self.now.isoformat()})")
        heapq.heappush(self._agenda, (when, next(self._order), fn))

    def emit(
        self,
        kind: Kind,
        key: str,
        data: dict[str, Any],
        *,
        requires: Iterable[int | None] = (),
        lag_rules: Iterable[str] = (),
    ) -> int:
        """An action at the current time; returns its sequence number (for later `requires`)."""
        seq = next(self._seq)
        needed = tuple(sorted({r for r in requires if r is not None}))
        self._out.append(Action(seq, self.now, kind, key, data, needed, frozenset(lag_rules)))
        return seq

    def next_time(self) -> datetime | None:
        return self._agenda[0][0] if self._agenda else None

    def run_until(self, until: datetime) -> list[Action]:
        """Run every internal event due by `until`; return the actions they emitted, in order."""
        while self._agenda and self._agenda[0][0] <= until:
            when, _, fn = heapq.heappop(self._agenda)
            self.now = when
            fn()
        return self.take()

    def take(self) -> list[Action]:
        out, self._out = self._out, []
        return out
