"""Peak resident memory of processes, sampled from /proc while a benchmark runs."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path


def rss_mb(pid: int) -> float:
    """Resident set size of a process and its children (uvicorn workers), in MB."""
    total = 0
    for p in [pid, *children(pid)]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(FileNotFoundError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


class PeakRss:
    """Samples the named processes every 100 ms; `peaks` holds the highest RSS seen per name."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peaks = dict.fromkeys(pids, 0.0)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._take()

    async def _sample(self) -> None:
        while True:
            self._take()
            await asyncio.sleep(0.1)

    def _take(self) -> None:
        for name, pid in self.pids.items():
            self.peaks[name] = max(self.peaks[name], rss_mb(pid))
