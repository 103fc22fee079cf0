"""Fixtures for the shared plumbing's integration tests: a scratch database and scratch topics."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy.ext.asyncio import AsyncEngine

# The helpers beside this file have names no other tests use (shared_*), so they import as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mes_shared.db import SessionFactory, make_engine, make_session_factory
from mes_shared.envelope import Envelope, EventData
from mes_shared.platform_tables import platform_metadata
from mes_shared.testing import recreate_database, require_env
from mes_shared.topics import CATALOGUE, UNLIMITED_RETENTION, ensure_topics


class ProbeEvent(EventData):
    """An event type that exists only in these tests."""

    event_type: ClassVar[str] = "mes.test.probe.v1"
    topic: ClassVar[str] = "mes.test.probe"
    seq: int
    poison: bool = False


applied = sa.Table(
    "applied",
    sa.MetaData(),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("consumer", sa.Text, nullable=False),
    sa.Column("event_id", sa.Uuid, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
)


@pytest.fixture(scope="session")
async def bootstrap() -> str:
    servers = require_env("MES_KAFKA_BOOTSTRAP")
    await ensure_topics(servers, CATALOGUE)
    return servers


@pytest.fixture(scope="session")
async def engine() -> AsyncIterator[AsyncEngine]:
    url = await recreate_database(require_env("MES_PG_URL"), "mes_shared_test")
    eng = make_engine(url, pool_size=5)
    async with eng.begin() as conn:
        await conn.run_sync(platform_metadata.create_all)
        await conn.run_sync(applied.metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
async def scratch_topic(bootstrap: str) -> Callable[[int], Awaitable[str]]:
    async def create(partitions: int = 3) -> str:
        name = f"mes.test.{uuid.uuid4().hex[:12]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=UNLIMITED_RETENTION)])
        finally:
            await admin.close()
        return name

    return create


def probe(subject: str, seq: int, *, poison: bool = False) -> Envelope:
    return Envelope.wrap(ProbeEvent(seq=seq, poison=poison), source="/mes/tests", subject=subject)


@pytest.fixture
def make_probe() -> Callable[..., Envelope]:
    return probe


@pytest.fixture
def applied_table() -> sa.Table:
    return applied


@pytest.fixture
async def probe_topic(scratch_topic: Callable[..., Awaitable[str]], monkeypatch: pytest.MonkeyPatch) -> str:
    """Route the test's probe events to a topic of their own."""
    name = await scratch_topic(3)
    monkeypatch.setattr(ProbeEvent, "topic", name)
    return name
