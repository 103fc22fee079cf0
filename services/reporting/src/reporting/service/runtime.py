"""Reporting's composition root: the platform runtime (engine, readiness) plus the live projection consumer,
the change hub behind the live streams, and rebuilds started from the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import cast

from mes_shared.consumer import ConsumerRunner
from mes_shared.db import asyncpg_dsn
from mes_shared.runtime import CheckResult, Runtime
from mes_shared.settings import ServiceSettings
from reporting.projections import store
from reporting.projections.rebuild import MIN_BATCH, Rebuilder, RebuildRunning, RebuildStatus
from reporting.projections.runner import LiveProjections
from reporting.projections.tables import LAYOUT
from reporting.service.live import ChangeHub, close_streams_on_exit
from reporting.settings import SERVICE, Settings

log = logging.getLogger(__name__)

RETRY_WHILE_LOCKED_S = 5.0
RETRY_AFTER_FAILURE_S = 60.0


@dataclass
class ReportingRuntime(Runtime):
    hub: ChangeHub | None = None
    projections: LiveProjections | None = None
    rebuild_task: asyncio.Task[RebuildStatus] | None = None
    rebuild: Rebuilder | None = None
    # When the last rebuild of this replica ended (an automatic one is retried after a pause).
    _rebuild_ended_at: float = field(default=-1e9)

    @classmethod
    def create(cls, settings: ServiceSettings) -> ReportingRuntime:
        config = cast(Settings, settings)
        runtime = cast(ReportingRuntime, cls.build(SERVICE, settings))
        runtime.relay = None  # reporting publishes no events: its targets are its own data
        runtime.hub = ChangeHub(asyncpg_dsn(settings.database_url))
        if settings.run_workers:
            runtime.projections = LiveProjections(
                runtime.engine,
                name=f"{settings.consumer_group_prefix or SERVICE}.projections",
                bootstrap_servers=settings.kafka_bootstrap_servers,
                batch_size=config.projection_batch_size,
                max_attempts=settings.consumer_max_attempts,
                kafka_timeout_s=settings.kafka_send_timeout_s,
                on_layout_outdated=runtime._layout_outdated,
            )
            # Duck-typed like a ConsumerRunner: name, health, start(), stop(); readiness reports its lag.
            runtime.consumers = [cast(ConsumerRunner, runtime.projections)]
        return runtime

    @property
    def config(self) -> Settings:
        return cast(Settings, self.settings)

    async def start(self) -> None:
        pointer = await store.ensure_active(self.engine)
        assert self.hub is not None
        await self.hub.start()
        close_streams_on_exit(self.hub)
        await super().start()
        if pointer.layout != LAYOUT:
            log.warning("projection schema %s has layout %s, the code has %s", pointer.schema, pointer.layout, LAYOUT)
            self._layout_outdated()

    async def stop(self) -> None:
        if self.rebuild_task is not None and not self.rebuild_task.done():
            self.rebuild_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.rebuild_task
        if self.hub is not None:
            await self.hub.stop()
        await super().stop()

    def _layout_outdated(self) -> None:
        if not self.config.auto_rebuild_on_layout_change or not self.settings.run_workers:
            return
        task = self.rebuild_task
        if task is not None and not task.done():
            return
        if task is not None and not task.cancelled() and (error := task.exception()) is not None:
            # Another replica's rebuild holds the lock: look again soon. A failing rebuild: not in a loop.
            pause = RETRY_WHILE_LOCKED_S if isinstance(error, RebuildRunning) else RETRY_AFTER_FAILURE_S
            if time.monotonic() - self._rebuild_ended_at < pause:
                return
        log.warning("rebuilding the projections into the code's layout %s", LAYOUT)
        self.start_rebuild("layout-change")

    def start_rebuild(self, requested_by: str) -> asyncio.Task[RebuildStatus]:
        """Run a rebuild in this process (refused while one runs here; the database lock covers replicas)."""
        if self.rebuild_task is not None and not self.rebuild_task.done():
            raise RebuildRunning("a rebuild is already running in this replica")
        self.rebuild = Rebuilder(
            self.engine,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            requested_by=requested_by,
            batch_size=max(self.config.projection_batch_size, MIN_BATCH),
            swap_attempts=self.config.rebuild_swap_attempts,
            kafka_timeout_s=self.settings.kafka_send_timeout_s,
        )
        task = asyncio.create_task(self._rebuild(self.rebuild), name="reporting-rebuild")
        task.add_done_callback(self._rebuild_done)
        self.rebuild_task = task
        return task

    def _rebuild_done(self, task: asyncio.Task[RebuildStatus]) -> None:
        self._rebuild_ended_at = time.monotonic()
        if not task.cancelled():
            task.exception()  # logged in _rebuild; retrieved here so asyncio does not complain

    async def _rebuild(self, rebuilder: Rebuilder) -> RebuildStatus:
        try:
            return await rebuilder.run()
        except RebuildRunning:
            log.info("a rebuild is already running in another process")
            raise
        except Exception:
            log.exception("rebuild failed")
            raise

    async def readiness(self) -> list[CheckResult]:
        """The platform's checks (the database decides readiness; the projection runner's lag is reported as its
        consumer's), plus the live-stream listener: without it the dashboards stop moving, but reports and
        targets are still answered and written, so it makes the service degraded, never unready."""
        checks = await super().readiness()
        hub_ok = self.hub is not None and self.hub.listening.is_set()
        detail = "listening" if hub_ok else f"degraded: not listening: {self.hub.last_error if self.hub else 'absent'}"
        checks.append(CheckResult("live-stream", hub_ok, detail))
        return checks


def runtime_factory(settings: ServiceSettings) -> Runtime:
    return ReportingRuntime.create(settings)
