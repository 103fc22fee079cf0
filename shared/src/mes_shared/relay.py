"""The outbox relay: publishes committed outbox rows in order, then marks them sent.

One relay publishes at a time (a transaction-scoped advisory lock), so rows go out in id order and
per-key order holds even with several replicas. A crash between publish and mark re-sends; consumers
deduplicate by event id. Kafka being down only delays: rows wait, the relay backs off and rebuilds its
producer, which is how a wedged producer is cured.

Under a steady stream of small commits (terminals posting one event each) the relay lingers a moment before
each batch that is not full, so one publish carries many commits: every step after it (the broker's request,
each consumer's fetch, offset commit and transaction) is paid per batch, not per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

import asyncpg
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from mes_shared.db import SessionFactory
from mes_shared.faults import Backoff, OutageLog, describe, is_infrastructure_fault
from mes_shared.kafka import make_producer, start_with_timeout, stop_quietly
from mes_shared.outbox import NOTIFY_CHANNEL
from mes_shared.platform_tables import outbox

log = logging.getLogger(__name__)

PUBLISHED = Counter("mes_outbox_published_total", "Outbox events published to Kafka", ["service"])
FAILURES = Counter("mes_outbox_publish_failures_total", "Failed outbox publish attempts", ["service"])
LAST_PUBLISH = Gauge("mes_outbox_last_publish_timestamp", "Unix time of the last publish", ["service"])

_LOCK_KEY = 0x6D65735F6F7574  # "mes_out": one relay at a time per database


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        session_factory: SessionFactory,
        bootstrap_servers: str,
        listen_dsn: str | None,
        batch_size: int = 500,
        send_timeout_s: float = 10.0,
        idle_poll_s: float = 1.0,
        linger_s: float = 0.0,
        max_backoff_s: float = 10.0,
        keep_published: timedelta = timedelta(days=7),
    ) -> None:
        self._service = service
        self._sessions = session_factory
        self._bootstrap = bootstrap_servers
        self._listen_dsn = listen_dsn
        self._batch_size = batch_size
        self._send_timeout_s = send_timeout_s
        self._idle_poll_s = idle_poll_s
        self._linger_s = linger_s
        self._max_backoff_s = max_backoff_s
        self._keep_published = keep_published
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._listener: asyncpg.Connection | None = None
        self.last_error: str | None = None
        self.last_success_monotonic: float | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-outbox-relay")

    async def stop(self) -> None:
        """Finish the batch in flight (so a clean shutdown re-sends nothing), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self._send_timeout_s * 2)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._close_listener()
        await stop_quietly(self._producer)
        self._producer = None

    def nudge(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = Backoff(initial_s=0.2, cap_s=self._max_backoff_s)
        outage = OutageLog(log, f"outbox relay of {self._service}: its database or the broker")
        last_purge = 0.0
        while not self._stopping:
            try:
                await self._ensure_listener()
                # Cleared before reading: a commit that the read misses still wakes the wait below.
                self._wake.clear()
                published = await self.publish_once()
                outage.recovered()
                backoff.reset()
                if time.monotonic() - last_purge > 3600:
                    await self._purge_published()
                    last_purge = time.monotonic()
                if published >= self._batch_size or self._stopping:
                    continue  # drain the backlog before sleeping
                if not published:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle_poll_s)
                await asyncio.sleep(self._linger_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the relay must outlive any single failure
                FAILURES.labels(self._service).inc()
                self.last_error = describe(exc)
                if is_infrastructure_fault(exc):
                    outage.failed(exc)
                else:
                    log.error("outbox relay failed; retrying", exc_info=True)
                await self._drop_producer()
                if self._stopping:
                    return
                await asyncio.sleep(backoff.next_delay())

    async def publish_once(self) -> int:
        """Publish one batch of pending rows; return how many were published."""
        async with self._sessions() as session, session.begin():
            locked = await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(_LOCK_KEY)))
            if not locked:
                return 0
            rows = (
                await session.execute(
                    sa.select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload, outbox.c.event_type)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                )
            ).all()
            if not rows:
                return 0
            producer = await self._get_producer()
            deliveries = [
                await asyncio.wait_for(
                    producer.send(
                        row.topic,
                        value=row.payload,
                        key=row.key.encode(),
                        headers=[("ce_type", row.event_type.encode())],
                    ),
                    self._send_timeout_s,
                )
                for row in rows
            ]
            await asyncio.wait_for(asyncio.gather(*deliveries), self._send_timeout_s)
            await session.execute(
                sa.update(outbox).where(outbox.c.id.in_([row.id for row in rows])).values(published_at=sa.func.now())
            )
        PUBLISHED.labels(self._service).inc(len(rows))
        LAST_PUBLISH.labels(self._service).set_to_current_time()
        self.last_error = None
        self.last_success_monotonic = time.monotonic()
        return len(rows)

    async def _get_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self._bootstrap, client_id=f"{self._service}-relay")
            try:
                await start_with_timeout(producer, self._send_timeout_s)
            except BaseException:
                await stop_quietly(producer)
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        await stop_quietly(producer)

    async def _purge_published(self) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(sa.delete(outbox).where(outbox.c.published_at < sa.func.now() - self._keep_published))

    async def _ensure_listener(self) -> None:
        if self._listen_dsn is None or (self._listener is not None and not self._listener.is_closed()):
            return
        self._listener = await asyncpg.connect(self._listen_dsn, timeout=10)
        await self._listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.close(), 5)
