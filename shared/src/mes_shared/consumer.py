"""Consumers: the one loop that tells a fault of the consumer's own database or broker from a poison event.

`ConsumerLoop` is every consumer's life (the shared `ConsumerRunner` below and reporting's projections alike):
Kafka clients, batches from `getmany`, offsets committed only after the batch's transaction, lag. Its rule:
- An infrastructure fault (`faults.is_infrastructure_fault`: the database or broker unreachable, starting up
  or shutting down, a deadlock, a serialization failure, a timeout) says nothing about the events. The batch's
  transaction is rolled back, nothing is dead-lettered and no offset is committed; the consumer seeks back to
  the batch's first offsets (its committed position), backs off (exponential, capped, reset only once a batch
  is applied) and reads the batch again. The outage is logged in a few lines (`faults.OutageLog`).
- Only an event that fails on its own content is retried (`with_retries`, a bounded number of times) and then
  dead-lettered, and only once the rest of its batch is done: a batch cut short by an infrastructure fault
  dead-letters nothing, and the event is judged afresh when the batch is read again.

`ConsumerRunner` applies a partition's batch in one transaction with each event in its own savepoint beside
its inbox row (consumer, event id), so a redelivery is a no-op. Retrying a content failure in a savepoint of
the same transaction is enough: such a failure comes from the event and the state it meets, which a fresh
transaction would not change; whatever a fresh transaction would cure (a lost connection, a deadlock) is an
infrastructure fault, and that aborts the whole batch, since a broken connection poisons the outer transaction.

Every runner also reads `mes.dead-letter.replay` and applies the records whose header names it: an operator's
replay of its own dead letters (`mes_shared.dead_letters`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from prometheus_client import Counter, Gauge
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared.correlation import correlation_id_var
from mes_shared.db import SessionFactory
from mes_shared.dead_letters import DeadLetters, Judged, origin_of, replay_is_for
from mes_shared.envelope import Envelope
from mes_shared.faults import Backoff, OutageLog, describe, is_infrastructure_fault
from mes_shared.kafka import (
    SERVICE_GATHER_MS,
    cancel_consuming,
    make_consumer,
    make_producer,
    start_with_timeout,
    stop_quietly,
)
from mes_shared.platform_tables import inbox
from mes_shared.topics import DEAD_LETTER_REPLAY

log = logging.getLogger(__name__)

T = TypeVar("T")
EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]

PROCESSED = Counter("mes_consumer_events_total", "Events applied by a consumer", ["consumer"])
DUPLICATES = Counter("mes_consumer_duplicates_total", "Redelivered events skipped by the inbox", ["consumer"])
LAG = Gauge("mes_consumer_lag", "Records behind the high watermark", ["consumer"])


@dataclass
class ConsumerHealth:
    lag: int = 0
    # True once the broker has told the high watermark of every assigned partition (lag is then real).
    lag_known: bool = False
    last_record_monotonic: float | None = None
    last_error: str | None = None
    running: bool = False
    # Faults of the database or broker since a batch was last applied (each one re-read after a back-off).
    failures: int = 0


@dataclass(frozen=True)
class Failed:
    """What failed on its own content every time it was tried."""

    error: str
    attempts: int


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    consumer: str,
    what: str,
    max_attempts: int,
    retry_delay_s: float,
    passthrough: tuple[type[BaseException], ...] = (),
) -> T | Failed:
    """Run `attempt` until it succeeds or has failed on its content `max_attempts` times (then `Failed`).

    An infrastructure fault is raised at once, whatever attempt it interrupts (an earlier content failure
    included): it is no verdict on the input, so the caller's batch is rolled back and read again."""
    error = ""
    for number in range(1, max_attempts + 1):
        try:
            return await attempt()
        except passthrough:
            raise
        except Exception as exc:
            if is_infrastructure_fault(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"[:4000]
            log.warning("consumer %s: %s failed attempt %d/%d: %s", consumer, what, number, max_attempts, error)
            if number < max_attempts:
                await asyncio.sleep(retry_delay_s * number)
    return Failed(error, max_attempts)


class ConsumerLoop:
    """A consumer group's loop with the one rule for faults (module doc). Subclasses say how a batch applies."""

    # How this consumer's dead letters are cured: "replay" (it reads the replay topic) or "rebuild".
    cure = "replay"

    def __init__(
        self, *, name: str, topics: tuple[str, ...], bootstrap_servers: str, batch_size: int, kafka_timeout_s: float
    ) -> None:
        self.name = name
        self._topics = (*topics, DEAD_LETTER_REPLAY.name) if self.cure == "replay" else topics
        self._bootstrap = bootstrap_servers
        self._batch_size = batch_size
        self._timeout_s = kafka_timeout_s
        self._task: asyncio.Task[None] | None = None
        self._backoff = Backoff(initial_s=0.5, cap_s=10.0)
        self._broker = OutageLog(log, f"consumer {name}'s broker")
        # Faults while applying a batch: its database, mostly (or the broker, sending a dead letter).
        self._batches = OutageLog(log, f"consumer {name}'s database")
        self.health = ConsumerHealth()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_consuming(task, timeout_s=self._timeout_s)

    def listener(self, consumer: AIOKafkaConsumer) -> ConsumerRebalanceListener | None:
        return None

    def units(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> list[list[ConsumerRecord]]:
        """How a fetch is split into transactions: by default one per partition."""
        return list(batches.values())

    async def apply(
        self, consumer: AIOKafkaConsumer, records: list[ConsumerRecord], dead_letters: DeadLetters
    ) -> dict[TopicPartition, int]:
        """Apply `records` in one transaction; return the offsets to commit. Raise to have them read again."""
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            consumer = make_consumer(
                self._bootstrap,
                group_id=self.name,
                client_id=self.name,
                max_poll_records=self._batch_size,
                gather_ms=SERVICE_GATHER_MS,
            )
            producer = make_producer(self._bootstrap, client_id=f"{self.name}-dlt")
            try:
                await start_with_timeout(consumer, self._timeout_s)
                await start_with_timeout(producer, self._timeout_s)
                consumer.subscribe(self._topics, listener=self.listener(consumer))
                dead_letters = DeadLetters(producer, consumer=self.name, timeout_s=self._timeout_s, cure=self.cure)
                self.health.running = True
                while True:
                    batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                    if batches:  # records came: the broker answers (getmany also returns nothing while it is down)
                        self._broker.recovered()
                    await self._apply_fetched(consumer, dead_letters, batches)
                    await self._update_lag(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - rebuild the clients and resume from the committed offsets
                # A timeout's cause chain ends in the CancelledError of the call it cut short: say what it was.
                reason = "no answer within the timeout" if isinstance(exc, TimeoutError) else describe(exc)
                self.health.last_error = reason
                self.health.failures += 1
                self._broker.failed(reason)
                await asyncio.sleep(self._backoff.next_delay())
            finally:
                self.health.running = False
                await stop_quietly(consumer)
                await stop_quietly(producer)

    async def _apply_fetched(
        self,
        consumer: AIOKafkaConsumer,
        dead_letters: DeadLetters,
        batches: dict[TopicPartition, list[ConsumerRecord]],
    ) -> None:
        units = self.units(batches)
        for index, records in enumerate(units):
            try:
                reached = await self.apply(consumer, records, dead_letters)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # nothing of it counted: read it (and what follows) again
                self._seek_back(consumer, units[index:])
                self.health.last_error = describe(exc)
                self.health.failures += 1
                if is_infrastructure_fault(exc):
                    self._batches.failed(exc)
                else:  # a fault of the consumer's own code, not of an event (those are judged inside apply)
                    log.error("consumer %s: batch failed, reading it again", self.name, exc_info=True)
                await asyncio.sleep(self._backoff.next_delay())
                return
            self._batches.recovered()
            self._backoff.reset()
            self.health.last_record_monotonic = time.monotonic()
            self.health.last_error = None
            self.health.failures = 0
            await self._commit(consumer, reached)

    def _seek_back(self, consumer: AIOKafkaConsumer, units: list[list[ConsumerRecord]]) -> None:
        first: dict[TopicPartition, int] = {}
        for record in (r for unit in units for r in unit):
            tp = TopicPartition(record.topic, record.partition)
            first[tp] = min(record.offset, first.get(tp, record.offset))
        assigned = consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:  # a partition revoked meanwhile is re-read by its new owner from the commit
                consumer.seek(tp, offset)

    async def _commit(self, consumer: AIOKafkaConsumer, reached: dict[TopicPartition, int]) -> None:
        offsets = {tp: offset for tp, offset in reached.items() if tp in consumer.assignment()}
        if not offsets:
            return
        try:
            await asyncio.wait_for(consumer.commit(offsets), self._timeout_s)
        except Exception as exc:  # noqa: BLE001 - a rebalance or the broker: the next owner re-reads, the inbox skips
            self._broker.failed(exc)

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


class ConsumerRunner(ConsumerLoop):
    """A service's consumer with an inbox: each event's effect and its (consumer, event id) row commit together."""

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
        super().__init__(
            name=name,
            topics=topics,
            bootstrap_servers=bootstrap_servers,
            batch_size=batch_size,
            kafka_timeout_s=kafka_timeout_s,
        )
        self._handler = handler
        self._sessions = session_factory
        self._max_attempts = max_attempts
        self._retry_delay_s = retry_delay_s
        self._event_types = event_types

    async def apply(
        self, consumer: AIOKafkaConsumer, records: list[ConsumerRecord], dead_letters: DeadLetters
    ) -> dict[TopicPartition, int]:
        poison: list[Judged] = []
        applied = duplicates = 0
        async with self._sessions() as session, session.begin():
            for record in records:
                outcome = await self._apply_one(session, record)
                if isinstance(outcome, Judged):
                    poison.append(outcome)
                elif outcome is True:
                    applied += 1
                elif outcome is False:
                    duplicates += 1
            # Sent last, inside the transaction: a fault before the commit dead-letters nothing for good
            # (the batch is read again), and a failed send rolls the batch back.
            for judged in poison:
                await dead_letters.send(judged)
        PROCESSED.labels(self.name).inc(applied)  # counted once committed: a batch read again counts once
        DUPLICATES.labels(self.name).inc(duplicates)
        last = records[-1]
        return {TopicPartition(last.topic, last.partition): last.offset + 1}

    async def _apply_one(self, session: AsyncSession, record: ConsumerRecord) -> Judged | bool | None:
        """Judged poison, applied (True), a duplicate (False) or passed over (None)."""
        if record.topic == DEAD_LETTER_REPLAY.name and not replay_is_for(record, self.name):
            return None  # another consumer's replay
        try:
            envelope = Envelope.from_bytes(record.value)
        except Exception as exc:  # noqa: BLE001 - unreadable bytes will never parse: dead-letter at once
            return Judged(record, f"unreadable envelope: {exc}", attempts=1)
        if self._event_types is not None and envelope.type not in self._event_types:
            # The handler would change nothing, so there is nothing to deduplicate: no savepoint, no inbox row.
            return None
        origin = origin_of(record)

        async def attempt() -> bool:
            async with session.begin_nested():
                claimed = await session.scalar(
                    insert(inbox)
                    .values(
                        consumer=self.name,
                        event_id=envelope.id,
                        topic=origin.topic,
                        partition=origin.partition,
                        offset=origin.offset,
                    )
                    .on_conflict_do_nothing()
                    .returning(inbox.c.event_id)
                )
                if claimed is None:
                    return False
                await self._handler(session, envelope)
                return True

        token = correlation_id_var.set(envelope.correlationid)
        try:
            result = await with_retries(
                attempt,
                consumer=self.name,
                what=f"event {envelope.id} ({envelope.type})",
                max_attempts=self._max_attempts,
                retry_delay_s=self._retry_delay_s,
            )
        finally:
            correlation_id_var.reset(token)
        return Judged(record, result.error, result.attempts) if isinstance(result, Failed) else result


async def wait_for_consumer(health: ConsumerHealth, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not health.running:
        if time.monotonic() > deadline:
            raise TimeoutError("consumer did not start")
        await asyncio.sleep(0.05)
