"""Peak resident memory and CPU time of processes, read from /proc while a benchmark runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
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


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its descendants, live or reaped (postgres backends, uvicorn workers)."""
    total = 0
    for p in [pid, *children(pid)]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(t) for t in fields[11:15])  # utime stime cutime cstime
    return total / _TICK


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything (the "cpu" line of /proc/stat, less idle and iowait)."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


class CpuShare:
    """Cores each named process used between enter and exit, beside the whole machine's (other loads on
    a shared machine show as the difference)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.cores: dict[str, float] = {}

    def __enter__(self) -> CpuShare:
        self._start = time.monotonic(), machine_busy_seconds(), {n: cpu_seconds(p) for n, p in self.pids.items()}
        return self

    def __exit__(self, *_: object) -> None:
        began, busy, used = self._start
        wall = time.monotonic() - began
        self.cores = {n: (cpu_seconds(p) - used[n]) / wall for n, p in self.pids.items()}
        self.cores["machine"] = (machine_busy_seconds() - busy) / wall
        self.cores["other"] = self.cores["machine"] - sum(v for n, v in self.cores.items() if n != "machine")
