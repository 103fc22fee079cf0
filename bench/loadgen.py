"""A closed-loop HTTP load generator for the benchmarks: N concurrent clients on loopback, each sending
its next request as soon as the previous one is answered, bounded in count and time.

Each client is a coroutine factory that yields request specs, so a client can keep per-terminal order
(a terminal posts its events in order) while many terminals run at once.

A 503 (the service's database away for a moment) is not an answer: the request is sent again after the
answer's Retry-After, as a terminal does, a bounded number of times; the resends are counted apart and the
latency is the terminal's, from the first send to the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mes_shared.problems import retry_after_s

# A 503 is resent this many times at most, each after its Retry-After (at most MAX_RETRY_AFTER_S).
MAX_RESENDS = 10
MAX_RETRY_AFTER_S = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    resends: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status < 400)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


ClientScript = Callable[[int], AsyncIterator[Request]]


async def send(session: aiohttp.ClientSession, request: Request, result: Run, **options: Any) -> tuple[int, bytes]:
    """The request's final status and body: a 503 is sent again after its Retry-After (bounded), counted in
    `resends`."""
    for attempt in range(MAX_RESENDS + 1):
        async with session.request(
            request.method, request.url, headers=request.headers, json=request.json, **options
        ) as response:
            body = await response.read()
            if response.status != 503 or attempt == MAX_RESENDS:
                return response.status, body
            wait = retry_after_s(response.headers.get("Retry-After"), default_s=1.0, cap_s=MAX_RETRY_AFTER_S)
        result.resends += 1
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")


async def run(script: ClientScript, *, clients: int, max_seconds: float, warmup_requests: int = 0) -> Run:
    """Run `clients` copies of `script` until each is exhausted or `max_seconds` passed."""
    result = Run()
    deadline = time.perf_counter() + max_seconds
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def client(index: int) -> None:
            sent = 0
            async for request in script(index):
                if time.perf_counter() > deadline:
                    return
                began = time.perf_counter()
                try:
                    status, _ = await send(session, request, result)
                except (aiohttp.ClientError, TimeoutError):
                    result.errors += 1
                    continue
                sent += 1
                if sent > warmup_requests:
                    result.latencies_ms.append((time.perf_counter() - began) * 1000)
                    result.statuses[status] = result.statuses.get(status, 0) + 1

        result.started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        result.finished = time.perf_counter()
    return result


def describe(name: str, r: Run) -> str:
    bad = {s: n for s, n in sorted(r.statuses.items()) if s >= 400}
    return (
        f"{name:<34} {r.per_second:9.0f} req/s   p50 {r.percentile(50):7.2f} ms   p99 {r.percentile(99):7.2f} ms"
        f"   n={r.ok}" + (f"   refused={bad}" if bad else "") + (f"   errors={r.errors}" if r.errors else "")
    )
