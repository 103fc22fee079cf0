"""Reporting's projection runner under a database outage, on the real broker and database: the event waits
(nothing dead-lettered, the schema's positions untouched), the runner backs off quietly instead of retrying
and rebuilding its Kafka clients in a storm, and the event is folded once the database is back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from reporting_support import SERVICE_DIR, TEST_GROUP, calendar, unique
from sqlalchemy.ext.asyncio import AsyncEngine

from mes_shared.db import make_engine
from mes_shared.envelope import Envelope
from mes_shared.testing import KafkaTap, eventually, migrate, recreate_database, require_env
from mes_shared.topics import DEAD_LETTER
from reporting.projections import store, writer
from reporting.projections.runner import INBOX_CONSUMER, LiveProjections

pytestmark = pytest.mark.integration

DATABASE = "reporting_faults_test"


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    url = await recreate_database(require_env("MES_PG_URL"), DATABASE)
    await migrate(SERVICE_DIR, url)
    eng = make_engine(url, pool_size=3)
    await store.ensure_active(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
async def dead_letters(bootstrap: str) -> AsyncIterator[KafkaTap]:
    tap = KafkaTap(bootstrap, DEAD_LETTER.name)
    await tap.start()
    yield tap
    await tap.stop()


async def refuse_connections(refuse: bool) -> None:
    conn = await asyncpg.connect(f"{require_env('MES_PG_URL')}/postgres", timeout=10)
    try:
        await conn.execute(f'ALTER DATABASE "{DATABASE}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                DATABASE,
            )
    finally:
        await conn.close()


async def test_a_database_outage_delays_the_projection_quietly_and_loses_nothing(
    engine: AsyncEngine,
    bootstrap: str,
    producer: AIOKafkaProducer,
    dead_letters: KafkaTap,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"{TEST_GROUP}.faults-{uuid.uuid4().hex[:6]}"
    runner = LiveProjections(engine, name=name, bootstrap_servers=bootstrap, batch_size=500, max_attempts=3)
    event = calendar(unique("T-L"))
    await runner.start()
    try:

        async def caught_up() -> bool:
            health = runner.health
            return health.running and health.lag == 0 and runner.batches > 0

        await eventually(caught_up, timeout_s=300, what="the runner to fold the topics' history")
        try:
            await refuse_connections(True)
            sent = await producer.send_and_wait(event.topic, event.to_bytes(), key=event.subject.encode())
            tp = TopicPartition(sent.topic, sent.partition)
            caplog.clear()

            async def retried_a_few_times() -> bool:
                return runner.health.failures >= 3 or bool(mine(dead_letters, event))

            # Longer than the old runner took to dead-letter it (three quick attempts) or to restart three times.
            await eventually(retried_a_few_times, what="the runner to meet the refusing database three times")
            assert mine(dead_letters, event) == []
            ours = ("mes_", "reporting")
            loud = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(ours)]
            assert len(loud) <= 1, [r.getMessage() for r in loud]  # "... unavailable: ...", then quiet
        finally:
            await refuse_connections(False)
            await engine.dispose()

        async def folded() -> bool:
            async with engine.connect() as conn:
                pointer = await store.read_pointer(conn)
                assert pointer is not None
                reached = await store.read_positions(conn, pointer.schema)
                done = await writer.already_folded(conn, pointer.schema, INBOX_CONSUMER, [event.id])
            return reached.get(tp, 0) > sent.offset and done == {event.id}

        await eventually(folded, what="the event folded once the database is back")
    finally:
        await runner.stop()
    assert mine(dead_letters, event) == []
    assert any("recovered" in r.getMessage() for r in caplog.records)


def mine(tap: KafkaTap, event: Envelope) -> list:
    """The dead letters of this test's event (catching up, the runner dead-letters the log's older poison)."""
    return [r for r in tap.records if r.value == event.to_bytes()]
