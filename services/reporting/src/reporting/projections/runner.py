"""Folding Kafka records into a projection schema: one transaction per fetched batch.

Why not `mes_shared.consumer.ConsumerRunner`: reporting needs two things it does not offer.
1. Positions per schema. The offsets a projection has reached are stored in its own schema, in the same
   transaction as its rows (and its inbox). A rebuilt schema thus carries its own positions, and after a
   swap the live consumer simply resumes from the new schema's positions; with Kafka group offsets (or an
   inbox keyed by consumer-group name) the live consumer would skip or double-count the events between
   the rebuild's end and the swap.
2. Throughput. ConsumerRunner applies each event in its own savepoint with its own inbox insert, a few
   round trips per event; a rebuild must fold well over 10,000 events/s. Here a whole batch is decoded
   and folded in memory (pure), deduplicated with one inbox insert, merged per table and key, and written
   with one upsert per table.

What it keeps of the platform's rules: the inbox (event ids, in the projection schema), offsets committed
to Kafka only after the database commit (for lag tooling; the database positions are authoritative),
bounded retries, and dead letters for events that cannot be folded, so a poison event never blocks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mes_shared.consumer import DEAD_LETTERED, DUPLICATES, LAG, PROCESSED, ConsumerHealth
from mes_shared.envelope import Envelope
from mes_shared.kafka import (
    SERVICE_GATHER_MS,
    cancel_consuming,
    make_consumer,
    make_producer,
    start_with_timeout,
    stop_quietly,
)
from mes_shared.topics import DEAD_LETTER, KITS, PEOPLE, STATIONS, VEHICLES
from reporting.projections import store, writer
from reporting.projections.fold import Effects, fold, log_seq
from reporting.projections.merge import RowBuffer
from reporting.projections.tables import LAYOUT, MERGERS

log = logging.getLogger(__name__)

TOPICS: tuple[str, ...] = (KITS.name, PEOPLE.name, STATIONS.name, VEHICLES.name)
# The inbox's consumer name is the same for the live consumer and a rebuild: the inbox is the schema's.
INBOX_CONSUMER = "reporting.projections"
NOTIFY_CHANNEL = "reporting_changes"
# A change names at most this many subjects, in at most this many bytes of JSON: PostgreSQL refuses a
# NOTIFY payload of 8000 bytes, and a wall screen needs only "this station" or "re-read everything".
MAX_SUBJECTS = 200
SUBJECTS_BYTES = 6000


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord
    error: str


@dataclass
class BatchOutcome:
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    views: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    dead: list[DeadLetter] = field(default_factory=list)
    reached: dict[TopicPartition, int] = field(default_factory=dict)

    def add(self, other: BatchOutcome) -> None:
        self.read += other.read
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.views |= other.views
        self.subjects |= other.subjects
        self.dead.extend(other.dead)
        for tp, offset in other.reached.items():
            self.reached[tp] = max(offset, self.reached.get(tp, 0))


def subjects_of(envelope: Envelope) -> list[str]:
    """What a fact touched, for the live stream: its aggregate (VIN, station, line, kit serial, employee)
    and the station it happened at, when that is another."""
    station = envelope.data.get("station")
    if isinstance(station, str) and station != envelope.subject:
        return [envelope.subject, station]
    return [envelope.subject]


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:4000]


@dataclass
class Prepared:
    """A batch decoded and folded in memory: pure work, done before (and beside) the batch's transaction."""

    records: Sequence[ConsumerRecord]
    folded: list[tuple[ConsumerRecord, Envelope, Effects]]
    dead: list[DeadLetter]
    ignored: list[ConsumerRecord]
    repeated: int  # the same event twice in this batch
    buffer: RowBuffer  # the rows of every folded event, merged per table and key


def prepare(records: Sequence[ConsumerRecord]) -> Prepared:
    """Decode and fold `records` (no I/O). Unreadable or contract-breaking events are set apart to be
    dead-lettered; event types reporting does not fold are skipped."""
    folded: list[tuple[ConsumerRecord, Envelope, Effects]] = []
    dead: list[DeadLetter] = []
    ignored: list[ConsumerRecord] = []
    seen: set[Any] = set()
    repeated = 0
    buffer = RowBuffer(MERGERS)
    for record in records:
        try:
            envelope = Envelope.model_validate_json(record.value)
        except Exception as exc:  # noqa: BLE001 - unreadable bytes never parse: dead-letter at once
            dead.append(DeadLetter(record, f"unreadable envelope: {_error(exc)}"))
            continue
        if envelope.id in seen:
            repeated += 1
            continue
        seen.add(envelope.id)
        try:
            effects = fold(envelope, log_seq(record.partition, record.offset))
        except Exception as exc:  # noqa: BLE001 - a broken contract is deterministic: dead-letter it
            dead.append(DeadLetter(record, f"{envelope.type} {envelope.id}: {_error(exc)}"))
            continue
        if effects is None:
            ignored.append(record)
            continue
        folded.append((record, envelope, effects))
        buffer.extend(effects.rows)
    return Prepared(records, folded, dead, ignored, repeated, buffer)


async def write_prepared(conn: AsyncConnection, batch: Prepared) -> BatchOutcome:
    """Write a prepared batch into the schema `conn` is translated to, inside the caller's transaction:
    events below the schema's positions or already in its inbox are left out (redeliveries, republished
    events), then the inbox rows, one upsert per table and the new positions."""
    records = batch.records
    outcome = BatchOutcome(read=len(records), duplicates=batch.repeated, ignored=len(batch.ignored))
    held = await store.lock_positions(conn, sorted({r.topic for r in records}))
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        outcome.reached[tp] = max(record.offset + 1, outcome.reached.get(tp, 0))

    def fresh_offset(record: ConsumerRecord) -> bool:
        return record.offset >= held.get(TopicPartition(record.topic, record.partition), 0)

    outcome.dead = [d for d in batch.dead if fresh_offset(d.record)]
    candidates = [item for item in batch.folded if fresh_offset(item[0])]
    schema = writer.schema_of(conn)
    seen_before = (
        await writer.already_folded(conn, schema, INBOX_CONSUMER, [env.id for _, env, _ in candidates])
        if candidates
        else set()
    )
    fresh = [item for item in candidates if item[1].id not in seen_before]
    outcome.duplicates += len(batch.folded) - len(fresh)
    buffer = batch.buffer
    if len(fresh) != len(batch.folded):  # rare: merge again without the duplicates
        buffer = RowBuffer(MERGERS)
        for _, _, effects in fresh:
            buffer.extend(effects.rows)
    if fresh:
        await writer.execute_many(
            conn,
            writer.inbox_insert_for(schema),
            [
                {
                    "consumer": INBOX_CONSUMER,
                    "event_id": env.id,
                    "topic": rec.topic,
                    "partition": rec.partition,
                    "offset": rec.offset,
                }
                for rec, env, _ in fresh
            ],
        )
        for merger, rows in buffer.tables():
            await writer.execute_many(conn, writer.upsert_for(merger, schema), rows)
    for _, envelope, effects in fresh:
        outcome.views |= effects.views
        outcome.subjects.update(subjects_of(envelope))
    outcome.applied = len(fresh)
    await store.save_positions(conn, outcome.reached)
    return outcome


async def fold_batch(conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> BatchOutcome:
    """Fold `records` into the schema `conn` is translated to, inside the caller's transaction."""
    return await write_prepared(conn, prepare(records))


class SchemaMoved(Exception):
    """The pointer names another schema than the one this consumer positioned itself for."""


class LayoutOutdated(Exception):
    """The active schema's tables are of an older layout than this code's: wait for the rebuild."""


SchemaResolver = Callable[[AsyncConnection], Awaitable[str]]


class Folder:
    """Applies batches with bounded retries; isolates and dead-letters what cannot be folded."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        name: str,
        notify: bool,
        max_attempts: int = 3,
        retry_delay_s: float = 0.2,
        kafka_timeout_s: float = 10.0,
    ) -> None:
        self._engine = engine
        self.name = name
        self._notify = notify
        self._max_attempts = max_attempts
        self._retry_delay_s = retry_delay_s
        self._timeout_s = kafka_timeout_s

    async def process(
        self,
        records: Sequence[ConsumerRecord],
        resolve: SchemaResolver,
        dead_letters: AIOKafkaProducer,
        prepared: Prepared | None = None,
    ) -> BatchOutcome:
        batch = prepared if prepared is not None else prepare(records)
        last: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._transaction(batch, resolve, dead_letters)
            except (SchemaMoved, LayoutOutdated, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - retried, then isolated
                last = exc
                log.warning("%s: batch of %d failed (attempt %d): %s", self.name, len(records), attempt, _error(exc))
                await asyncio.sleep(self._retry_delay_s * attempt)
        assert last is not None
        await self._database_reachable()  # a database outage is not the events' fault: raise, retry later
        if len(records) == 1:
            return await self._give_up(records[0], resolve, dead_letters, last)
        total = BatchOutcome()
        for record in records:  # find the event that breaks the batch; the others fold
            total.add(await self.process([record], resolve, dead_letters))
        return total

    async def _transaction(
        self, batch: Prepared, resolve: SchemaResolver, dead_letters: AIOKafkaProducer
    ) -> BatchOutcome:
        async with self._engine.connect() as conn, conn.begin():
            schema = await resolve(conn)
            await store.use_schema(conn, schema)
            outcome = await write_prepared(conn, batch)
            for dead in outcome.dead:
                await self._dead_letter(dead_letters, dead)
            if self._notify and outcome.views:
                await notify(conn, sorted(outcome.views), subjects=outcome.subjects)
        PROCESSED.labels(self.name).inc(outcome.applied)
        DUPLICATES.labels(self.name).inc(outcome.duplicates)
        return outcome

    async def _give_up(
        self, record: ConsumerRecord, resolve: SchemaResolver, dead_letters: AIOKafkaProducer, exc: Exception
    ) -> BatchOutcome:
        dead = DeadLetter(record, f"folding failed {self._max_attempts} times: {_error(exc)}")
        tp = TopicPartition(record.topic, record.partition)
        async with self._engine.connect() as conn, conn.begin():
            schema = await resolve(conn)
            await store.use_schema(conn, schema)
            await store.lock_positions(conn, [record.topic])
            await self._dead_letter(dead_letters, dead)
            await store.save_positions(conn, {tp: record.offset + 1})
        return BatchOutcome(read=1, dead=[dead], reached={tp: record.offset + 1})

    async def _database_reachable(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def _dead_letter(self, producer: AIOKafkaProducer, dead: DeadLetter) -> None:
        record = dead.record
        headers = [
            ("dlt_consumer", self.name.encode()),
            ("dlt_topic", record.topic.encode()),
            ("dlt_partition", str(record.partition).encode()),
            ("dlt_offset", str(record.offset).encode()),
            ("dlt_attempts", str(self._max_attempts).encode()),
            ("dlt_error", dead.error.encode()),
        ]
        delivery = await asyncio.wait_for(
            producer.send(DEAD_LETTER.name, value=record.value, key=record.key, headers=headers), self._timeout_s
        )
        await asyncio.wait_for(delivery, self._timeout_s)
        DEAD_LETTERED.labels(self.name).inc()
        log.error(
            "%s dead-lettered %s[%d]@%d: %s", self.name, record.topic, record.partition, record.offset, dead.error
        )


def cap_subjects(subjects: Iterable[str]) -> tuple[list[str], bool]:
    """The subjects to name (sorted, within MAX_SUBJECTS and SUBJECTS_BYTES), and whether some were left out."""
    named: list[str] = []
    size = 0
    for subject in sorted(set(subjects)):
        size += len(json.dumps(subject)) + 1  # ASCII-escaped: characters are bytes
        if len(named) == MAX_SUBJECTS or size > SUBJECTS_BYTES:
            return named, True
        named.append(subject)
    return named, False


def notice(views: list[str], generation: int | None, subjects: Collection[str] | None) -> str:
    """The NOTIFY payload. `subjects` None means not known (a target change, a rebuild's swap): `more`."""
    named, more = ([], True) if subjects is None else cap_subjects(subjects)
    return json.dumps({"views": views, "generation": generation, "subjects": named, "more": more})


async def notify(
    conn: AsyncConnection, views: list[str], generation: int | None = None, subjects: Collection[str] | None = None
) -> None:
    """Tell every replica's live streams, at commit, which views changed and what the facts touched."""
    await conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, notice(views, generation, subjects))))


async def update_lag(consumer: AIOKafkaConsumer, health: ConsumerHealth, name: str, timeout_s: float) -> None:
    lag = 0
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = await asyncio.wait_for(consumer.position(tp), timeout_s)
        lag += max(0, highwater - position)
    health.lag = lag
    LAG.labels(name).set(lag)


class LiveProjections:
    """The live consumer: a consumer group over every domain topic, folding into the active schema.

    Partitions are positioned from the active schema's positions table when assigned and whenever the
    pointer moves (a rebuild swapped), so the projection is exact whatever Kafka's group offsets say.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        name: str,
        bootstrap_servers: str,
        batch_size: int,
        max_attempts: int,
        kafka_timeout_s: float = 10.0,
        on_layout_outdated: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.health = ConsumerHealth()
        self._engine = engine
        self._bootstrap = bootstrap_servers
        self._batch_size = batch_size
        self._timeout_s = kafka_timeout_s
        self._folder = Folder(
            engine, name=name, notify=True, max_attempts=max_attempts, kafka_timeout_s=kafka_timeout_s
        )
        self._generation: int | None = None
        self._unpositioned = True  # positions not (re)read since the last assignment
        self._task: asyncio.Task[None] | None = None
        self._on_layout_outdated = on_layout_outdated
        self.batches = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"projections-{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_consuming(task, timeout_s=self._timeout_s)

    async def _position(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition]) -> None:
        async with self._engine.connect() as conn:
            pointer = await store.read_pointer(conn)
            if pointer is None:
                raise RuntimeError("no projection schema is active yet")
            reached = await store.read_positions(conn, pointer.schema)
        self._generation = pointer.generation
        for tp in partitions:
            consumer.seek(tp, reached.get(tp, 0))
        self._unpositioned = False

    async def _resolve(self, conn: AsyncConnection) -> str:
        pointer = await store.read_pointer(conn, lock="share")
        if pointer is None or pointer.generation != self._generation:
            raise SchemaMoved()
        if pointer.layout != LAYOUT:
            raise LayoutOutdated(pointer.schema)
        return pointer.schema

    async def _run(self) -> None:
        backoff = 0.5
        runner = self

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            def __init__(self, consumer: AIOKafkaConsumer) -> None:
                self.consumer = consumer

            async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
                return None

            async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
                runner._unpositioned = True
                try:
                    await runner._position(self.consumer, assigned)
                except Exception:
                    log.warning("%s: could not position assigned partitions yet", runner.name, exc_info=True)

        while True:
            consumer = make_consumer(
                self._bootstrap,
                group_id=self.name,
                client_id=self.name,
                max_poll_records=self._batch_size,
                gather_ms=SERVICE_GATHER_MS,
            )
            dead_letters = make_producer(self._bootstrap, client_id=f"{self.name}-dlt")
            try:
                await start_with_timeout(consumer, self._timeout_s)
                await start_with_timeout(dead_letters, self._timeout_s)
                consumer.subscribe(TOPICS, listener=Listener(consumer))
                self.health.running = True
                backoff = 0.5
                while True:
                    batches = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                    records = [r for part in batches.values() for r in part]
                    if records:
                        await self._apply(consumer, dead_letters, records)
                    await update_lag(consumer, self.health, self.name, self._timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - rebuild the clients and resume from the schema's positions
                self.health.last_error = _error(exc)
                log.warning("%s failed, restarting in %.1fs: %s", self.name, backoff, self.health.last_error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self.health.running = False
                await stop_quietly(consumer)
                await stop_quietly(dead_letters)

    async def _apply(self, consumer: AIOKafkaConsumer, dead_letters: AIOKafkaProducer, records: list[Any]) -> None:
        if self._unpositioned:
            # Records fetched before the partitions were positioned from the schema: drop them and seek.
            await self._position(consumer, consumer.assignment())
            return
        try:
            outcome = await self._folder.process(records, self._resolve, dead_letters)
        except SchemaMoved:
            log.info("%s: the projections moved to another schema; resuming from its positions", self.name)
            await self._position(consumer, consumer.assignment())
            return
        except LayoutOutdated as exc:
            self.health.last_error = f"projection schema {exc} has an older layout; waiting for its rebuild"
            if self._on_layout_outdated is not None:
                self._on_layout_outdated()
            await asyncio.sleep(1.0)
            await self._position(consumer, consumer.assignment())
            return
        self.batches += 1
        self.health.last_record_monotonic = time.monotonic()
        self.health.last_error = None
        offsets = {tp: n for tp, n in outcome.reached.items() if tp in consumer.assignment()}
        try:
            await asyncio.wait_for(consumer.commit(offsets), self._timeout_s)
        except (KafkaError, TimeoutError):
            log.debug("%s: group offsets not committed (the schema's positions are authoritative)", self.name)
