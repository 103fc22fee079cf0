"""Workforce's composition root: the shared runtime (engine, relay, consumers) plus the sweeper that
closes forgotten clock-outs and announces expired qualifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from mes_shared.events.stations import LineConfigured
from mes_shared.runtime import CheckResult, Runtime, Subscription
from mes_shared.settings import ServiceSettings
from mes_shared.topics import STATIONS
from workforce.service.consumers import on_stations_event
from workforce.service.sweeps import Sweeper
from workforce.settings import SERVICE, Settings

SUBSCRIPTIONS = (
    Subscription("stations", (STATIONS.name,), on_stations_event, event_types=frozenset({LineConfigured.event_type})),
)


@dataclass
class WorkforceRuntime(Runtime):
    sweeper: Sweeper | None = None

    async def start(self) -> None:
        await super().start()
        if self.sweeper is not None:
            await self.sweeper.start()

    async def stop(self) -> None:
        if self.sweeper is not None:
            await self.sweeper.stop()
        await super().stop()

    async def readiness(self) -> list[CheckResult]:
        checks = await super().readiness()
        if self.sweeper is not None:
            ok = self.sweeper.running
            detail = "running" if ok else "stopped"
            if self.sweeper.last_error:
                detail += f", last error: {self.sweeper.last_error}"
            checks.append(CheckResult("sweeper", ok, detail))
        return checks


def build_runtime(settings: ServiceSettings) -> WorkforceRuntime:
    assert isinstance(settings, Settings)
    runtime = cast(WorkforceRuntime, WorkforceRuntime.build(SERVICE, settings, SUBSCRIPTIONS))
    if settings.run_workers:
        runtime.sweeper = Sweeper(
            sessions=runtime.sessions,
            grace=timedelta(minutes=settings.clock_out_grace_minutes),
            interval_s=settings.sweep_interval_s,
            batch=settings.sweep_batch_size,
            source=f"/mes/{SERVICE}",
        )
    return runtime
