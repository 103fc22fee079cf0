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

What it shares with every consumer: the loop of `mes_shared.consumer.ConsumerLoop` (a fault of the database
or broker rolls the batch back, backs off and re-reads it, never dead-letters; offsets committed to Kafka
only after the database commit, for lag tooling, the database positions being authoritative) and its
`with_retries`, so only an event that fails on its own content is retried and then dead-lettered, and a
poison event never blocks. It keeps the inbox (event ids, in the projection schema). Its dead letters are
cured by a rebuild (the fixed code refolds the log in order), not replayed, so it does not read the replay
topic.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mes_shared.consumer import DUPLICATES, PROCESSED, ConsumerLoop, Failed, with_retries
from mes_shared.dead_letters import DeadLetters, Judged
from mes_shared.envelope import Envelope
from mes_shared.topics import KITS, PEOPLE, STATIONS, VEHICLES
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


@dataclass
class BatchOutcome:
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    views: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    dead: list[Judged] = field(default_factory=list)
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
    dead: list[Judged]
    ignored: list[ConsumerRecord]
    repeated: int  # the same event twice in this batch
    buffer: RowBuffer  # the rows of every folded event, merged per table and key


def prepare(records: Sequence[ConsumerRecord]) -> Prepared:
    """Decode and fold `records` (no I/O). Unreadable or contract-breaking events are set apart to be
    dead-lettered; event types reporting does not fold are skipped."""
    folded: list[tuple[ConsumerRecord, Envelope, Effects]] = []
    dead: list[Judged] = []
    ignored: list[ConsumerRecord] = []
    seen: set[Any] = set()
    repeated = 0
    buffer = RowBuffer(MERGERS)
    for record in records:
        try:
            envelope = Envelope.model_validate_json(record.value)
        except Exception as exc:  # noqa: BLE001 - unreadable bytes never parse: dead-letter at once
            dead.append(Judged(record, f"unreadable envelope: {_error(exc)}", attempts=1))
            continue
        if envelope.id in seen:
            repeated += 1
            continue
        seen.add(envelope.id)
        try:
            effects = fold(envelope, log_seq(record.partition, record.offset))
        except Exception as exc:  # noqa: BLE001 - a broken contract is deterministic: dead-letter it
            dead.append(Judged(record, f"{envelope.type} {envelope.id}: {_error(exc)}", attempts=1))
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
    """Applies batches with bounded retries of what fails on its content; isolates and dead-letters that.
    A fault of the database or broker is raised at once (`with_retries`): the caller reads the batch again."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        name: str,
        notify: bool,
        max_attempts: int = 3,
        retry_delay_s: float = 0.2,
    ) -> None:
        self._engine = engine
        self.name = name
        self._notify = notify
        self._max_attempts = max_attempts
        self._retry_delay_s = retry_delay_s

    async def process(
        self,
        records: Sequence[ConsumerRecord],
        resolve: SchemaResolver,
        dead_letters: DeadLetters,
        prepared: Prepared | None = None,
    ) -> BatchOutcome:
        batch = prepared if prepared is not None else prepare(records)
        result = await with_retries(
            lambda: self._transaction(batch, resolve, dead_letters),
            consumer=self.name,
            what=f"batch of {len(records)}",
            max_attempts=self._max_attempts,
            retry_delay_s=self._retry_delay_s,
            passthrough=(SchemaMoved, LayoutOutdated),
        )
        if not isinstance(result, Failed):
            return result
        if len(records) == 1:
            return await self._give_up(records[0], resolve, dead_letters, result)
        total = BatchOutcome()
        for record in records:  # find the event that breaks the batch; the others fold
            total.add(await self.process([record], resolve, dead_letters))
        return total

    async def _transaction(self, batch: Prepared, resolve: SchemaResolver, dead_letters: DeadLetters) -> BatchOutcome:
        async with self._engine.connect() as conn, conn.begin():
            schema = await resolve(conn)
            await store.use_schema(conn, schema)
            outcome = await write_prepared(conn, batch)
            for dead in outcome.dead:
                await dead_letters.send(dead)
            if self._notify and outcome.views:
                await notify(conn, sorted(outcome.views), subjects=outcome.subjects)
        PROCESSED.labels(self.name).inc(outcome.applied)
        DUPLICATES.labels(self.name).inc(outcome.duplicates)
        return outcome

    async def _give_up(
        self, record: ConsumerRecord, resolve: SchemaResolver, dead_letters: DeadLetters, failed: Failed
    ) -> BatchOutcome:
        dead = Judged(record, f"folding failed: {failed.error}", attempts=failed.attempts)
        tp = TopicPartition(record.topic, record.partition)
        async with self._engine.connect() as conn, conn.begin():
            schema = await resolve(conn)
            await store.use_schema(conn, schema)
            await store.lock_positions(conn, [record.topic])
            await dead_letters.send(dead)
            await store.save_positions(conn, {tp: record.offset + 1})
        return BatchOutcome(read=1, dead=[dead], reached={tp: record.offset + 1})


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


class LiveProjections(ConsumerLoop):
    """The live consumer: a consumer group over every domain topic, folding into the active schema.

    Partitions are positioned from the active schema's positions table when assigned and whenever the
    pointer moves (a rebuild swapped), so the projection is exact whatever Kafka's group offsets say.
    """

    cure = "rebuild"

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
        super().__init__(
            name=name,
            topics=TOPICS,
            bootstrap_servers=bootstrap_servers,
            batch_size=batch_size,
            kafka_timeout_s=kafka_timeout_s,
        )
        self._engine = engine
        self._folder = Folder(engine, name=name, notify=True, max_attempts=max_attempts)
        self._generation: int | None = None
        self._unpositioned = True  # positions not (re)read since the last assignment
        self._on_layout_outdated = on_layout_outdated
        self.batches = 0

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

    def listener(self, consumer: AIOKafkaConsumer) -> ConsumerRebalanceListener:
        runner = self

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
                return None

            async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
                # Positioned here if the database answers, else before the first batch is applied.
                runner._unpositioned = True
                try:
                    await runner._position(consumer, assigned)
                except Exception as exc:  # noqa: BLE001 - apply() positions them, or fails and backs off
                    runner.health.last_error = _error(exc)

        return Listener()

    def units(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> list[list[ConsumerRecord]]:
        records = [r for part in batches.values() for r in part]
        return [records] if records else []

    async def apply(
        self, consumer: AIOKafkaConsumer, records: list[ConsumerRecord], dead_letters: DeadLetters
    ) -> dict[TopicPartition, int]:
        if self._unpositioned:
            # Records fetched before the partitions were positioned from the schema: drop them and seek.
            await self._position(consumer, consumer.assignment())
            return {}
        try:
            outcome = await self._folder.process(records, self._resolve, dead_letters)
        except SchemaMoved:
            log.info("%s: the projections moved to another schema; resuming from its positions", self.name)
            await self._position(consumer, consumer.assignment())
            return {}
        except LayoutOutdated as exc:
            self.health.last_error = f"projection schema {exc} has an older layout; waiting for its rebuild"
            if self._on_layout_outdated is not None:
                self._on_layout_outdated()
            await asyncio.sleep(1.0)
            await self._position(consumer, consumer.assignment())
            return {}
        self.batches += 1
        return outcome.reached
