"""Test helpers for every service: fresh migrated databases, tokens, and reading events back from Kafka.

Tests wait for a condition with a deadline; they never sleep a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from mes_shared.envelope import Envelope
from mes_shared.kafka import make_consumer, start_with_timeout, stop_quietly, topic_partitions

T = TypeVar("T")


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the tests with `./mes test` (it starts PostgreSQL and Kafka)")
    return value


async def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create `name`; return its asyncpg SQLAlchemy URL."""
    conn = await asyncpg.connect(f"{admin_url}/postgres", timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{admin_url.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def migrate(service_dir: Path, database_url: str) -> None:
    """Run the service's Alembic migrations to head, as `./mes up` does (in a thread: Alembic runs its own loop)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(service_dir / "alembic.ini"))
    config.attributes["database_url"] = database_url
    await asyncio.to_thread(command.upgrade, config, "head")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 20.0, what: str = "condition"
) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


class KafkaTap:
    """Reads every record appended to some topics after the tap started (no consumer group)."""

    def __init__(self, bootstrap_servers: str, *topics: str) -> None:
        self._bootstrap = bootstrap_servers
        self._topics = topics
        self.records: list[ConsumerRecord] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        partitions = await topic_partitions(self._bootstrap, *self._topics)
        consumer = make_consumer(self._bootstrap, group_id=None, client_id="test-tap")
        await start_with_timeout(consumer, 15)
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)  # resolve the end offset now, before the test acts
        self._consumer = consumer
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                self.records.extend(records)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await stop_quietly(self._consumer)

    def envelopes(self, subject: str | None = None, topic: str | None = None) -> list[Envelope]:
        found = []
        for record in self.records:
            if topic is not None and record.topic != topic:
                continue
            envelope = Envelope.from_bytes(record.value)
            if subject is None or envelope.subject == subject:
                found.append(envelope)
        return found

    async def wait_for(
        self, subject: str, count: int, *, timeout_s: float = 20.0, topic: str | None = None
    ) -> list[Envelope]:
        async def enough() -> list[Envelope] | None:
            found = self.envelopes(subject, topic)
            return found if len(found) >= count else None

        return await eventually(enough, timeout_s=timeout_s, what=f"{count} events for {subject}")


@contextlib.asynccontextmanager
async def serving(app: Any, **config: Any) -> AsyncIterator[str]:
    """`app` behind a real uvicorn server on a free loopback port (uvicorn's own options in `config`); yields its
    base URL once it accepts connections, and stops it on the way out."""
    import uvicorn  # only the tests that serve an app need it

    options = {"host": "127.0.0.1", "port": 0, "lifespan": "off", "log_level": "warning"} | config
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raise the start-up error
        return server.started

    try:
        await eventually(started, timeout_s=30, what="the server to start")
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
