"""Consumer runner with an inbox: each event's effect and its (consumer, event id) row commit together.

A batch from `getmany` is applied in one transaction, each event inside its own savepoint, so a failing
event is retried alone a bounded number of times and then dead-lettered while the rest of the batch
commits. Offsets are committed only after the database commit; a crash in between redelivers, and
the inbox turns the redelivery into a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter, Gauge
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared.correlation import correlation_id_var
from mes_shared.db import SessionFactory
from mes_shared.envelope import Envelope
from mes_shared.kafka import (
    SERVICE_GATHER_MS,
    cancel_consuming,
    make_consumer,
    make_producer,
    start_with_timeout,
    stop_quietly,
)
from mes_shared.platform_tables import inbox
from mes_shared.topics import DEAD_LETTER

log = logging.getLogger(__name__)

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]

PROCESSED = Counter("mes_consumer_events_total", "Events applied by a consumer", ["consumer"])
DUPLICATES = Counter("mes_consumer_duplicates_total", "Redelivered events skipped by the inbox", ["consumer"])
DEAD_LETTERED = Counter("mes_consumer_dead_lettered_total", "Events sent to the dead-letter topic", ["consumer"])
LAG = Gauge("mes_consumer_lag", "Records behind the high watermark", ["consumer"])


@dataclass
class ConsumerHealth:
    lag: int = 0
    # True once the broker has told the high watermark of every assigned partition (lag is then real).
    lag_known: bool = False
    last_record_monotonic: float | None = None
    last_error: str | None = None
    running: bool = False


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        topics: tuple[str, ...],
        handler: EventHandler,
        session_factory: SessionFactory,
        bootstrap_servers: str,
        max_attempts: int = 3,
        batch_size: int = 500,
        kafka_timeout_s: float = 10.0,
        retry_delay_s: float = 0.05,
        event_types: frozenset[str] | None = None,
    ) -> None:
        self.name = name
        self._topics = topics
        self._handler = handler
        self._sessions = session_factory
        self._bootstrap = bootstrap_servers
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        self._timeout_s = kafka_timeout_s
        self._retry_delay_s = retry_delay_s
        self._event_types = event_types
        self._task: asyncio.Task[None] | None = None
        self.health = ConsumerHealth()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_consuming(task, timeout_s=self._timeout_s)

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            consumer = make_consumer(
                self._bootstrap,
                *self._topics,
                group_id=self.name,
                client_id=self.name,
                max_poll_records=self._batch_size,
                gather_ms=SERVICE_GATHER_MS,
            )
            dead_letters = make_producer(self._bootstrap, client_id=f"{self.name}-dlt")
            try:
                await start_with_timeout(consumer, self._timeout_s)
                await start_with_timeout(dead_letters, self._timeout_s)
                self.health.running = True
                backoff = 0.5
                while True:
                    batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                    for tp, records in batches.items():
                        await self._apply_batch(consumer, dead_letters, tp, records)
                    await self._update_lag(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - rebuild the clients and resume from committed offsets
                self.health.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("consumer %s failed, restarting in %.1fs: %s", self.name, backoff, self.health.last_error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self.health.running = False
                await stop_quietly(consumer)
                await stop_quietly(dead_letters)

    async def _apply_batch(
        self,
        consumer: AIOKafkaConsumer,
        dead_letters: AIOKafkaProducer,
        tp: TopicPartition,
        records: list[ConsumerRecord],
    ) -> None:
        try:
            async with self._sessions() as session, session.begin():
                for record in records:
                    await self._apply_one(session, dead_letters, record)
        except Exception:
            # The batch transaction itself failed (database down, say): nothing of it counted, so
            # read the batch again from its first record after the runner restarts.
            consumer.seek(tp, records[0].offset)
            raise
        self.health.last_record_monotonic = time.monotonic()
        try:
            await asyncio.wait_for(consumer.commit({tp: records[-1].offset + 1}), self._timeout_s)
        except (CommitFailedError, KafkaError, TimeoutError):
            # A rebalance took the partition; its new owner re-reads and the inbox skips what we applied.
            log.warning("consumer %s could not commit %s, relying on the inbox", self.name, tp, exc_info=True)

    async def _apply_one(self, session: AsyncSession, dead_letters: AIOKafkaProducer, record: ConsumerRecord) -> None:
        try:
            envelope = Envelope.from_bytes(record.value)
        except Exception as exc:  # noqa: BLE001 - unreadable bytes will never parse: dead-letter at once
            await self._dead_letter(dead_letters, record, f"unreadable envelope: {exc}", attempts=1)
            return
        if self._event_types is not None and envelope.type not in self._event_types:
            # The handler would change nothing, so there is nothing to deduplicate: no savepoint, no inbox row.
            return
        last_error = ""
        for attempt in range(1, self._max_attempts + 1):
            token = correlation_id_var.set(envelope.correlationid)
            try:
                async with session.begin_nested():
                    claimed = await session.scalar(
                        insert(inbox)
                        .values(
                            consumer=self.name,
                            event_id=envelope.id,
                            topic=record.topic,
                            partition=record.partition,
                            offset=record.offset,
                        )
                        .on_conflict_do_nothing()
                        .returning(inbox.c.event_id)
                    )
                    if claimed is None:
                        DUPLICATES.labels(self.name).inc()
                        return
                    await self._handler(session, envelope)
                PROCESSED.labels(self.name).inc()
                return
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered
                last_error = "".join(traceback.format_exception_only(exc)).strip()
                log.warning(
                    "consumer %s: event %s (%s) failed attempt %d/%d: %s",
                    self.name,
                    envelope.id,
                    envelope.type,
                    attempt,
                    self._max_attempts,
                    last_error,
                )
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_delay_s * attempt)
            finally:
                correlation_id_var.reset(token)
        await self._dead_letter(dead_letters, record, last_error, attempts=self._max_attempts)

    async def _dead_letter(self, producer: AIOKafkaProducer, record: ConsumerRecord, error: str, attempts: int) -> None:
        headers = [
            ("dlt_consumer", self.name.encode()),
            ("dlt_topic", record.topic.encode()),
            ("dlt_partition", str(record.partition).encode()),
            ("dlt_offset", str(record.offset).encode()),
            ("dlt_attempts", str(attempts).encode()),
            ("dlt_error", error[:4000].encode()),
        ]
        delivery = await asyncio.wait_for(
            producer.send(DEAD_LETTER.name, value=record.value, key=record.key, headers=headers),
            self._timeout_s,
        )
        await asyncio.wait_for(delivery, self._timeout_s)
        DEAD_LETTERED.labels(self.name).inc()
        log.error(
            "consumer %s dead-lettered %s[%d]@%d: %s", self.name, record.topic, record.partition, record.offset, error
        )

    async def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        lag = 0
        assigned = consumer.assignment()
        known = bool(assigned)
        for tp in assigned:
            highwater = consumer.highwater(tp)
            if highwater is None:
                known = False
                continue  # nothing fetched yet for this partition
            position = await asyncio.wait_for(consumer.position(tp), self._timeout_s)
            lag += max(0, highwater - position)
        self.health.lag = lag
        self.health.lag_known = known
        LAG.labels(self.name).set(lag)


async def wait_for_consumer(health: ConsumerHealth, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not health.running:
        if time.monotonic() > deadline:
            raise TimeoutError("consumer did not start")
        await asyncio.sleep(0.05)
