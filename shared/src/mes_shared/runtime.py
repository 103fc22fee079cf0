"""The composition root every service uses: engine, sessions, relay, consumers, broker probe.

FastAPI's lifespan starts and stops it; `run_workers=False` gives an API-only replica and
`run_forever()` a workers-only process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine

from mes_shared.consumer import ConsumerRunner, EventHandler
from mes_shared.db import SessionFactory, asyncpg_dsn, make_engine, make_session_factory
from mes_shared.faults import describe
from mes_shared.relay import OutboxRelay
from mes_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# A readiness probe's answer comes within this, whatever the database does.
READY_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Subscription:
    """A consumer the service runs: its name (the group is "<service>.<name>"), topics and handler, and the
    event types the handler acts on (None: all); the others are passed over without touching the database."""

    name: str
    topics: tuple[str, ...]
    handler: EventHandler
    event_types: frozenset[str] | None = None


@dataclass
class CheckResult:
    """One readiness check. `required`: failing it means the service cannot accept writes (not ready); the
    others (broker, consumers) only make it degraded."""

    name: str
    ok: bool
    detail: str
    required: bool = False


@dataclass
class Runtime:
    service: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: SessionFactory
    relay: OutboxRelay | None = None
    consumers: list[ConsumerRunner] = field(default_factory=list)
    _broker_checked_at: float = 0.0
    _broker_result: CheckResult | None = None

    @classmethod
    def build(cls, service: str, settings: ServiceSettings, subscriptions: tuple[Subscription, ...] = ()) -> Runtime:
        engine = make_engine(settings.database_url, pool_size=settings.database_pool_size, application_name=service)
        sessions = make_session_factory(engine)
        runtime = cls(service=service, settings=settings, engine=engine, sessions=sessions)
        if settings.run_workers:
            runtime.relay = OutboxRelay(
                service=service,
                session_factory=sessions,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                listen_dsn=asyncpg_dsn(settings.database_url),
                batch_size=settings.relay_batch_size,
                linger_s=settings.relay_linger_ms / 1000,
                send_timeout_s=settings.kafka_send_timeout_s,
            )
            runtime.consumers = [
                ConsumerRunner(
                    name=f"{settings.consumer_group_prefix or service}.{sub.name}",
                    topics=sub.topics,
                    handler=sub.handler,
                    session_factory=sessions,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    max_attempts=settings.consumer_max_attempts,
                    kafka_timeout_s=settings.kafka_send_timeout_s,
                    event_types=sub.event_types,
                )
                for sub in subscriptions
            ]
        return runtime

    async def start(self) -> None:
        if self.relay is not None:
            await self.relay.start()
        for consumer in self.consumers:
            await consumer.start()

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        if self.relay is not None:
            await self.relay.stop()
        await self.engine.dispose()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def readiness(self) -> list[CheckResult]:
        """Ready means "can accept writes": the database. The broker and the consumers are reported beside it,
        never as unready: the outbox keeps every write while the broker is away, and a lagging consumer stops
        no terminal (a read model behind answers a retryable 409)."""
        return [await self._check_database(), await self._check_broker(), *self._check_consumers()]

    async def _check_database(self) -> CheckResult:
        try:
            # The whole check, connecting included, within a probe's patience.
            async with asyncio.timeout(READY_TIMEOUT_S), self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return CheckResult("database", True, "ok", required=True)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return CheckResult("database", False, describe(exc), required=True)

    async def _check_broker(self) -> CheckResult:
        # Cached briefly: readiness probes must not hammer the broker.
        if self._broker_result is not None and time.monotonic() - self._broker_checked_at < 2.0:
            return self._broker_result
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers, request_timeout_ms=2000)
        try:
            await asyncio.wait_for(admin.start(), 3.0)
            await asyncio.wait_for(admin.list_topics(), 3.0)
            result = CheckResult("broker", True, "ok")
        except Exception as exc:  # noqa: BLE001 - any failure means degraded
            result = CheckResult("broker", False, f"degraded (writes wait in the outbox): {describe(exc)}")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(admin.close(), 3.0)
        self._broker_result, self._broker_checked_at = result, time.monotonic()
        return result

    def _check_consumers(self) -> list[CheckResult]:
        limit = self.settings.ready_max_consumer_lag
        results = []
        for consumer in self.consumers:
            health = consumer.health
            ok = health.running and health.lag <= limit
            detail = f"lag {health.lag}" if health.running else f"not running: {health.last_error or 'starting'}"
            results.append(CheckResult(f"consumer:{consumer.name}", ok, detail if ok else f"degraded: {detail}"))
        return results
