"""Replay: rebuild every projection from the start of the topics into a fresh schema, then swap it in.

1. Under a session advisory lock (one rebuild at a time, across replicas), create schema
   `reporting_p<generation>` with empty tables, and capture the end offsets of every partition.
2. Fold every record from offset 0 up to those end offsets with the same code as the live consumer
   (`fold_batch`), one transaction per batch; the rebuild's positions and inbox live in its schema.
   The live views keep serving from the active schema all along.
3. Catch up with the live consumer: read the positions the live schema has reached and fold up to them;
   then, holding the pointer row FOR UPDATE (which waits for the live batch in flight and holds the next
   one), check again and swap the pointer when the rebuild is at or past the live positions in every
   partition. The live consumer notices the new generation at its next batch and resumes from the new
   schema's positions, so nothing is skipped or counted twice. After `swap_attempts` tries the swap
   happens anyway; the live consumer then folds the remaining gap into the new schema.
4. Drop the schemas older than the one just replaced (kept for a look back), and tell the live streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mes_shared.dead_letters import DeadLetters
from mes_shared.kafka import make_consumer, make_producer, start_with_timeout, stop_quietly, topic_partitions
from reporting.adapters.tables import rebuilds
from reporting.projections import store
from reporting.projections.decode import prepare
from reporting.projections.fold import ALL_VIEWS
from reporting.projections.runner import TOPICS, BatchOutcome, Folder, notify

log = logging.getLogger(__name__)

# Records per batch (one transaction) at least: on a plant-year 10,000 took a fifth less CPU than 5,000
# (fewer transactions, more rows merged in memory before the upserts) for ~30 MB more peak RSS.
MIN_BATCH = 10_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Folding allocates millions of short-lived dicts: with the default thresholds the cyclic garbage
    collector runs every few hundred events and costs a quarter of a rebuild's time. Nothing a fold builds
    is cyclic, so collect far less often while the rebuild runs."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


@dataclass
class RebuildStatus:
    id: int
    schema: str
    status: str = "running"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    end_offsets: dict[str, int] = field(default_factory=dict)
    records_read: int = 0
    events_applied: int = 0
    dead_lettered: int = 0
    detail: str | None = None

    @property
    def seconds(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()


def _key(tp: TopicPartition) -> str:
    return f"{tp.topic}/{tp.partition}"


class Rebuilder:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bootstrap_servers: str,
        requested_by: str,
        batch_size: int = MIN_BATCH,
        swap_attempts: int = 20,
        kafka_timeout_s: float = 10.0,
        stall_timeout_s: float = 60.0,
        on_progress: Callable[[RebuildStatus], None] | None = None,
    ) -> None:
        self._engine = engine
        self._bootstrap = bootstrap_servers
        self._requested_by = requested_by
        self._batch_size = batch_size
        self._swap_attempts = swap_attempts
        self._timeout_s = kafka_timeout_s
        self._stall_timeout_s = stall_timeout_s
        self._on_progress = on_progress
        self.status: RebuildStatus | None = None
        # Set once the rebuild has its id and schema, or has failed to get them (see `error`).
        self.prepared = asyncio.Event()
        self.error: BaseException | None = None
        self._reached: dict[TopicPartition, int] = {}  # folded and committed
        self._fetched: dict[TopicPartition, int] = {}  # read from Kafka (ahead by the batch in flight)

    async def run(self) -> RebuildStatus:
        with fewer_collections():
            return await self._run()

    async def _run(self) -> RebuildStatus:
        try:
            async with self._engine.connect() as lock_conn:
                locked = await lock_conn.scalar(sa.select(sa.func.pg_try_advisory_lock(store.REBUILD_LOCK)))
                await lock_conn.commit()
                if not locked:
                    raise RebuildRunning("a rebuild is already running")
                try:
                    return await self._run_locked()
                finally:
                    await lock_conn.execute(sa.select(sa.func.pg_advisory_unlock(store.REBUILD_LOCK)))
                    await lock_conn.commit()
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.prepared.set()

    async def _run_locked(self) -> RebuildStatus:
        await store.ensure_active(self._engine)
        partitions = await topic_partitions(self._bootstrap, *TOPICS, timeout_s=self._timeout_s)
        consumer = make_consumer(
            self._bootstrap, group_id=None, client_id="reporting-rebuild", max_poll_records=self._batch_size
        )
        dead_letters = make_producer(self._bootstrap, client_id="reporting-rebuild-dlt")
        status: RebuildStatus | None = None
        try:
            await start_with_timeout(consumer, self._timeout_s)
            await start_with_timeout(dead_letters, self._timeout_s)
            ends = await asyncio.wait_for(consumer.end_offsets(partitions), self._timeout_s)
            async with self._engine.begin() as conn:
                generation = await store.next_generation(conn)
                schema = store.schema_for(generation)
                status = RebuildStatus(generation, schema, end_offsets={_key(tp): ends[tp] for tp in partitions})
                self.status = status
                await store.drop_schema(conn, schema)
                await store.create_schema(conn, schema)
                await conn.execute(
                    sa.insert(rebuilds).values(
                        id=generation,
                        schema_name=schema,
                        status="running",
                        requested_by=self._requested_by,
                        started_at=status.started_at,
                        end_offsets=status.end_offsets,
                    )
                )
            self.prepared.set()
            log.info("rebuild %d into %s: %d records to fold", generation, schema, sum(ends.values()))
            consumer.assign(partitions)
            for tp in partitions:
                consumer.seek(tp, 0)
            name = f"reporting.rebuild-{generation}"
            folder = Folder(self._engine, name=name, notify=False)
            dead = DeadLetters(dead_letters, consumer=name, timeout_s=self._timeout_s, cure="rebuild")
            await self._fold_until(consumer, dead, folder, status, dict(ends))
            await self._catch_up_and_swap(consumer, dead, folder, status)
            status.status, status.finished_at = "swapped", datetime.now(UTC)
            rate = status.events_applied / max(status.seconds, 1e-9)
            status.detail = f"swapped in after {status.seconds:.1f}s; {rate:.0f} events/s"
            await self._record(status)
            try:
                await self._drop_old(status.id)
            except Exception:
                log.warning("rebuild %d could not drop older schemas yet", status.id, exc_info=True)
            log.info("rebuild %d swapped in: %s", status.id, status.detail)
            return status
        except BaseException as exc:
            if status is not None:
                status.status, status.finished_at = "failed", datetime.now(UTC)
                status.detail = f"{type(exc).__name__}: {exc}"[:2000]
                with contextlib.suppress(Exception):
                    await self._record(status)
                    async with self._engine.begin() as conn:
                        pointer = await store.read_pointer(conn)
                        if pointer is None or pointer.schema != status.schema:
                            await store.drop_schema(conn, status.schema)
            raise
        finally:
            await stop_quietly(consumer)
            await stop_quietly(dead_letters)

    async def _fold_until(
        self,
        consumer: AIOKafkaConsumer,
        dead_letters: DeadLetters,
        folder: Folder,
        status: RebuildStatus,
        targets: dict[TopicPartition, int],
    ) -> None:
        schema = status.schema

        async def fixed(_: AsyncConnection) -> str:
            return schema

        last_progress = time.monotonic()
        last_report = 0.0
        # Pipelined: while one batch's transaction waits for the database, the next batch is fetched and
        # folded in memory. Transactions still run one after the other, in log order.
        writing: asyncio.Task[BatchOutcome] | None = None
        try:
            while any(self._fetched.get(tp, 0) < offset for tp, offset in targets.items()):
                batches = await consumer.getmany(timeout_ms=200, max_records=self._batch_size)
                records = [r for part in batches.values() for r in part]
                if not records:
                    if time.monotonic() - last_progress > self._stall_timeout_s:
                        behind = {_key(tp): o for tp, o in targets.items() if self._fetched.get(tp, 0) < o}
                        raise TimeoutError(
                            f"the rebuild made no progress for {self._stall_timeout_s:.0f}s; behind: {behind}"
                        )
                    continue
                last_progress = time.monotonic()
                for record in records:
                    tp = TopicPartition(record.topic, record.partition)
                    self._fetched[tp] = max(record.offset + 1, self._fetched.get(tp, 0))
                prepared = prepare(records)
                if writing is not None:
                    self._account(await writing, status)
                writing = asyncio.create_task(folder.process(records, fixed, dead_letters, prepared))
                if time.monotonic() - last_report > 1.0:
                    last_report = time.monotonic()
                    await self._record(status)
            if writing is not None:
                self._account(await writing, status)
                writing = None
        finally:
            if writing is not None and not writing.done():
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writing

    def _account(self, outcome: BatchOutcome, status: RebuildStatus) -> None:
        for tp, offset in outcome.reached.items():
            self._reached[tp] = max(offset, self._reached.get(tp, 0))
        status.records_read += outcome.read
        status.events_applied += outcome.applied
        status.dead_lettered += len(outcome.dead)

    async def _catch_up_and_swap(
        self, consumer: AIOKafkaConsumer, dead_letters: DeadLetters, folder: Folder, status: RebuildStatus
    ) -> None:
        for attempt in range(1, self._swap_attempts + 1):
            async with self._engine.connect() as conn:
                pointer = await store.read_pointer(conn)
                assert pointer is not None
                live = await store.read_positions(conn, pointer.schema)
            await self._fold_until(consumer, dead_letters, folder, status, live)
            async with self._engine.begin() as conn:
                pointer = await store.read_pointer(conn, lock="update")
                assert pointer is not None
                live = await store.read_positions(conn, pointer.schema)
                behind = {tp: o for tp, o in live.items() if self._reached.get(tp, 0) < o}
                if behind and attempt < self._swap_attempts:
                    continue  # the live consumer moved on meanwhile: fold that too, then try again
                if behind:
                    log.warning(
                        "rebuild %d swaps %d records behind the live schema",
                        status.id,
                        sum(o - self._reached.get(tp, 0) for tp, o in behind.items()),
                    )
                await store.swap(conn, generation=status.id, schema=status.schema)
                await notify(conn, sorted(ALL_VIEWS), generation=status.id)
                return

    async def _record(self, status: RebuildStatus) -> None:
        if self._on_progress is not None:
            self._on_progress(status)
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(rebuilds)
                .where(rebuilds.c.id == status.id)
                .values(
                    status=status.status,
                    finished_at=status.finished_at,
                    records_read=status.records_read,
                    events_applied=status.events_applied,
                    detail=status.detail,
                )
            )

    async def _drop_old(self, generation: int) -> None:
        """Keep the schema just replaced (a look back), drop every older one."""
        async with self._engine.begin() as conn:
            await conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            for schema in await store.projection_schemas(conn):
                if int(schema[len(store.SCHEMA_PREFIX) :]) < generation - 1:
                    await store.drop_schema(conn, schema)
