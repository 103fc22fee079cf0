"""Runs the model's actions against the APIs: in order per key, concurrently across keys, each after the
actions it requires, and counts what the APIs did with them.

An action starts once the previous action on its key has finished and every action it `requires` was
accepted (one of them refused: it is skipped, since it could only be refused too). Its request is sent
with the run's id for it, so a resend is harmless. A 409/404/422 whose rule says an upstream fact has not
reached this service yet (a clock-in on its way from workforce to assembly-line, a kit release on its way
from kit-receiving) is sent again with backoff until a deadline: that is the protocol the services
document (`retryable`), not a refusal. Anything else refused is logged with the problem's detail and
counted: a refusal is a bug in the simulator or in a service.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plant_sim.actions import Action
from plant_sim.api import Answer, Api, ServiceUnavailable
from plant_sim.ids import RunIds
from plant_sim.requests import Call, MissingRef, Refs, call_for
from plant_sim.tally import Tally

CONCURRENT_CONFLICT = "/problems/concurrent-conflict"


@dataclass(frozen=True, slots=True)
class Refusal:
    action: Action
    status: int
    rule: str | None
    detail: str

    def describe(self) -> str:
        where = f"#{self.action.seq} {self.action.label} at {self.action.at.isoformat()} ({self.action.key})"
        return f"{where}: HTTP {self.status} {self.rule or ''} {self.detail}".strip()


@dataclass
class DriverStats:
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    skipped: int = 0
    lag_retries: int = 0
    lag_by_rule: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    refusals: deque[Refusal] = field(default_factory=lambda: deque(maxlen=50))
    seconds_by_service: Counter[str] = field(default_factory=Counter)
    requests_by_service: Counter[str] = field(default_factory=Counter)

    def mean_ms_by_service(self) -> dict[str, float]:
        return {s: round(1000 * self.seconds_by_service[s] / n, 1) for s, n in sorted(self.requests_by_service.items())}


class Driver:
    def __init__(
        self,
        api: Api,
        ids: RunIds,
        tally: Tally,
        *,
        concurrency: int = 16,
        lag_deadline_s: float = 300.0,
        backdated_kits: bool = True,
        max_pending: int = 20_000,
        on_refusal: Callable[[Refusal], None] | None = None,
    ) -> None:
        self.api = api
        self.ids = ids
        self.tally = tally
        self.refs = Refs()
        self.stats = DriverStats()
        self.backdated_kits = backdated_kits
        self._lag_deadline_s = lag_deadline_s
        self._http = asyncio.Semaphore(concurrency)
        self._room = asyncio.Semaphore(max_pending)
        self._pending: dict[int, asyncio.Future[bool]] = {}
        self._pending_at: dict[int, datetime] = {}  # in submission (time) order
        self._failed: set[int] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._on_refusal = on_refusal

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def oldest_pending(self) -> datetime | None:
        """The simulated time of the oldest action not finished yet."""
        return next(iter(self._pending_at.values()), None)

    async def submit(self, action: Action) -> None:
        """Queue an action (waits when too many are in flight: back-pressure on the clock)."""
        await self._room.acquire()
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[action.seq] = done
        self._pending_at[action.seq] = action.at
        previous = self._tails.get(action.key)
        task = asyncio.create_task(self._run(action, previous, done), name=f"action-{action.seq}")
        self._tails[action.key] = task
        task.add_done_callback(lambda finished, key=action.key: self._forget_tail(key, finished))

    def _forget_tail(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tails.get(key) is task:
            del self._tails[key]

    async def drain(self) -> None:
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)

    async def _accepted(self, seq: int) -> bool:
        waiting = self._pending.get(seq)
        if waiting is not None:
            return await asyncio.shield(waiting)
        return seq not in self._failed

    async def _run(self, action: Action, previous: asyncio.Task[None] | None, done: asyncio.Future[bool]) -> None:
        accepted = False
        try:
            if previous is not None:
                await asyncio.wait([previous])
            for seq in action.requires:
                if not await self._accepted(seq):
                    self.stats.skipped += 1
                    self.tally.skip(action)
                    return
            accepted = await self._execute(action)
        except ServiceUnavailable as exc:
            self.stats.failed += 1
            self._refused(action, Refusal(action, 0, "service-unavailable", str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bug here must count (and show), not vanish with its task
            self.stats.failed += 1
            self._refused(action, Refusal(action, 0, "simulator.error", f"{type(exc).__name__}: {exc}"))
        finally:
            if not accepted:
                self._failed.add(action.seq)
            del self._pending[action.seq]
            del self._pending_at[action.seq]
            done.set_result(accepted)
            self._room.release()

    def _refused(self, action: Action, refusal: Refusal) -> None:
        self.stats.refused += 1
        self.stats.refusals.append(refusal)
        self.tally.refuse(action)
        if self._on_refusal is not None:
            self._on_refusal(refusal)

    async def _execute(self, action: Action) -> bool:
        try:
            call = call_for(action, self.ids, self.refs, backdated_kits=self.backdated_kits)
        except MissingRef as exc:
            self._refused(action, Refusal(action, 0, "simulator.missing-reference", str(exc)))
            return False
        deadline = time.monotonic() + self._lag_deadline_s
        delay = 0.05
        while True:
            answer = await self._send(call, action)
            if answer.ok:
                self.stats.accepted += 1
                self.refs.learn(action, answer.body)
                self.tally.accept(action, answer.body)
                return True
            problem = answer.problem
            if self._lagging(action, answer.status, problem) and time.monotonic() < deadline:
                self.stats.lag_retries += 1
                self.stats.lag_by_rule[str(problem.get("rule") or problem.get("type"))] += 1
                self.tally.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            detail = str(problem.get("detail") or answer.body)[:500]
            self._refused(action, Refusal(action, answer.status, problem.get("rule"), detail))
            return False

    async def _send(self, call: Call, action: Action) -> Answer:
        async with self._http:
            self.stats.sent += 1
            began = time.monotonic()
            try:
                return await self.api.send(call, correlation_id=self.ids.request_id(action.seq))
            finally:
                self.stats.requests_by_service[call.service] += 1
                self.stats.seconds_by_service[call.service] += time.monotonic() - began

    @staticmethod
    def _lagging(action: Action, status: int, problem: dict[str, Any]) -> bool:
        if status == 409 and problem.get("type") == CONCURRENT_CONFLICT:
            return True
        if status not in (404, 409, 422):
            return False
        return bool(problem.get("retryable")) or problem.get("rule") in action.lag_rules
