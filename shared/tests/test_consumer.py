"""The consumer runner on the real broker and database: inbox, bounded retries, dead letters, order, and
a fault of its own database never taken for a poison event (nothing dead-lettered, no offset committed, the
event applied once the database is back)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import sqlalchemy as sa
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from shared_consumers import applied_rows, at_least, publish, recorder, running
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mes_shared.consumer import ConsumerRunner
from mes_shared.db import SessionFactory
from mes_shared.envelope import Envelope
from mes_shared.platform_tables import inbox
from mes_shared.testing import KafkaTap, eventually, require_env
from mes_shared.topics import DEAD_LETTER

pytestmark = pytest.mark.integration


async def test_the_same_event_twice_is_applied_once(
    bootstrap: str,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
) -> None:
    topic, name = await scratch_topic(3), f"test-inbox-{uuid.uuid4().hex[:8]}"
    first, second = make_probe("K-1", 1), make_probe("K-1", 2)
    # The relay may re-send after a crash, so the same bytes can arrive twice, even far apart.
    await publish(
        bootstrap,
        topic,
        [("K-1", first.to_bytes()), ("K-1", first.to_bytes()), ("K-1", second.to_bytes()), ("K-1", first.to_bytes())],
    )
    runner = ConsumerRunner(
        name=name,
        topics=(topic,),
        handler=recorder(applied_table, name),
        session_factory=sessions,
        bootstrap_servers=bootstrap,
    )
    async with running(runner):
        rows = await eventually(lambda: at_least(sessions, applied_table, name, 2), what="two applied events")
        await eventually(lambda: _lag_zero(runner), what="consumer caught up")
    rows = await applied_rows(sessions, applied_table, name)
    assert [(r.event_id, r.seq) for r in rows] == [(first.id, 1), (second.id, 2)]

    # A restarted consumer resumes from its committed offsets and applies nothing again.
    await publish(bootstrap, topic, [("K-1", second.to_bytes())])
    async with running(
        ConsumerRunner(
            name=name,
            topics=(topic,),
            handler=recorder(applied_table, name),
            session_factory=sessions,
            bootstrap_servers=bootstrap,
        )
    ) as again:
        await eventually(lambda: _lag_zero(again), what="restarted consumer caught up")
    assert len(await applied_rows(sessions, applied_table, name)) == 2


async def test_a_poison_event_is_dead_lettered_and_the_partition_moves_on(
    bootstrap: str,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
) -> None:
    topic, name = await scratch_topic(1), f"test-dlt-{uuid.uuid4().hex[:8]}"
    dead_letters = KafkaTap(bootstrap, DEAD_LETTER.name)
    await dead_letters.start()
    try:
        poison, good = make_probe("K-2", 1, poison=True), make_probe("K-2", 2)
        await publish(bootstrap, topic, [("K-2", poison.to_bytes()), ("K-2", b"{not json"), ("K-2", good.to_bytes())])
        runner = ConsumerRunner(
            name=name,
            topics=(topic,),
            handler=recorder(applied_table, name),
            session_factory=sessions,
            bootstrap_servers=bootstrap,
            max_attempts=3,
            retry_delay_s=0.01,
        )
        async with running(runner):
            rows = await eventually(lambda: at_least(sessions, applied_table, name, 1), what="the good event")
            mine = await eventually(lambda: _dead_for(dead_letters, name, 2), what="two dead letters")
        assert [r.seq for r in rows] == [2]
        headers = [dict(r.headers) for r in mine]
        assert mine[0].value == poison.to_bytes() and mine[0].key == b"K-2"
        assert headers[0]["dlt_attempts"] == b"3" and b"it is poison" in headers[0]["dlt_error"]
        assert headers[0]["dlt_topic"] == topic.encode() and headers[0]["dlt_offset"] == b"0"
        assert headers[0]["dlt_event_id"] == str(poison.id).encode()
        assert headers[0]["dlt_event_type"] == poison.type.encode()
        assert mine[1].value == b"{not json" and b"unreadable envelope" in headers[1]["dlt_error"]
        assert headers[1]["dlt_attempts"] == b"1"
    finally:
        await dead_letters.stop()


async def test_events_of_one_key_are_applied_in_order(
    bootstrap: str,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
) -> None:
    topic, name = await scratch_topic(3), f"test-order-{uuid.uuid4().hex[:8]}"
    keys = [f"KIT-{n}" for n in range(5)]
    await publish(bootstrap, topic, [(k, make_probe(k, seq).to_bytes()) for seq in range(60) for k in keys])
    runner = ConsumerRunner(
        name=name,
        topics=(topic,),
        handler=recorder(applied_table, name),
        session_factory=sessions,
        bootstrap_servers=bootstrap,
        batch_size=7,
    )
    async with running(runner):
        await eventually(lambda: at_least(sessions, applied_table, name, 300), what="300 applied events")
    rows = await applied_rows(sessions, applied_table, name)
    for key in keys:
        assert [r.seq for r in rows if r.subject == key] == list(range(60))


async def test_events_of_other_types_are_passed_over_without_an_inbox_row(
    bootstrap: str,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
) -> None:
    topic, name = await scratch_topic(1), f"test-types-{uuid.uuid4().hex[:8]}"
    probes = [make_probe("K-3", seq) for seq in range(3)]
    await publish(bootstrap, topic, [("K-3", p.to_bytes()) for p in probes])

    def runner(name: str, event_types: frozenset[str]) -> ConsumerRunner:
        return ConsumerRunner(
            name=name,
            topics=(topic,),
            handler=recorder(applied_table, name),
            session_factory=sessions,
            bootstrap_servers=bootstrap,
            event_types=event_types,
        )

    async with running(runner(name, frozenset({"mes.test.other.v1"}))) as other_types:
        await eventually(lambda: _lag_zero(other_types), what="consumer passed over the probes")
    assert await applied_rows(sessions, applied_table, name) == []
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(inbox.c.consumer == name)) == 0

    # Their offsets were committed: the same group following probes now starts after them.
    async with running(runner(name, frozenset({probes[0].type}))) as again:
        await eventually(lambda: _lag_zero_once_assigned(again), what="restarted consumer caught up")
    assert await applied_rows(sessions, applied_table, name) == []

    # A group that follows the probes' type applies every one of them.
    fresh = f"{name}-b"
    async with running(runner(fresh, frozenset({probes[0].type}))):
        rows = await eventually(lambda: at_least(sessions, applied_table, fresh, 3), what="three applied probes")
    assert [r.seq for r in rows] == [0, 1, 2]


DATABASE = "mes_shared_test"  # the shared tests' database (conftest)


@pytest.fixture
async def dead_letters(bootstrap: str) -> AsyncIterator[KafkaTap]:
    tap = KafkaTap(bootstrap, DEAD_LETTER.name)
    await tap.start()
    yield tap
    await tap.stop()


def dead_for(tap: KafkaTap, name: str) -> list:
    return [r for r in tap.records if dict(r.headers).get("dlt_consumer") == name.encode()]


async def committed(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(tp)
    return found.offset if found is not None else None


async def refuse_connections(refuse: bool) -> None:
    """`ALTER DATABASE ... ALLOW_CONNECTIONS false` and end every session in it, as an outage would."""
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


async def test_a_database_refusing_connections_delays_an_event_and_never_dead_letters_it(
    bootstrap: str,
    engine: AsyncEngine,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
    dead_letters: KafkaTap,
) -> None:
    topic, name = await scratch_topic(1), f"test-dbdown-{uuid.uuid4().hex[:8]}"
    tp = TopicPartition(topic, 0)
    first, second = make_probe("K-D", 1), make_probe("K-D", 2)
    await publish(bootstrap, topic, [("K-D", first.to_bytes())])
    runner = ConsumerRunner(
        name=name,
        topics=(topic,),
        handler=recorder(applied_table, name),
        session_factory=sessions,
        bootstrap_servers=bootstrap,
        retry_delay_s=0.01,
    )
    async with running(runner):
        await eventually(lambda: at_least(sessions, applied_table, name, 1), what="the first event")
        await eventually(lambda: _committed_is(bootstrap, name, tp, 1), what="the first offset committed")
        try:
            await refuse_connections(True)
            await publish(bootstrap, topic, [("K-D", second.to_bytes())])

            async def met_the_refusal() -> bool:
                error = runner.health.last_error or ""
                return "accepting connections" in error or bool(dead_for(dead_letters, name))

            await eventually(met_the_refusal, what="the consumer to meet the refusing database")
            # Longer than its retries of a poison event take (3 attempts 0.01 s apart): still not dead-lettered.
            assert dead_for(dead_letters, name) == []
            assert await committed(bootstrap, name, tp) == 1
        finally:
            await refuse_connections(False)
            await engine.dispose()  # the pool's connections were ended
        rows = await eventually(lambda: at_least(sessions, applied_table, name, 2), what="the delayed event")
        await eventually(lambda: _committed_is(bootstrap, name, tp, 2), what="its offset committed")
    assert [(r.event_id, r.seq) for r in rows] == [(first.id, 1), (second.id, 2)]
    assert dead_for(dead_letters, name) == []


async def test_a_connection_lost_after_a_content_failure_re_reads_the_batch_and_dead_letters_nothing(
    bootstrap: str,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
    dead_letters: KafkaTap,
) -> None:
    topic, name = await scratch_topic(1), f"test-midbatch-{uuid.uuid4().hex[:8]}"
    probes = [make_probe("K-M", seq) for seq in range(3)]
    calls = 0

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal calls
        if envelope.data["seq"] == 1:
            calls += 1
            if calls == 1:
                raise ValueError("looks like poison on the first try")
            if calls == 2:  # its retry loses the connection: the outer transaction is gone with it
                await session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        await session.execute(
            sa.insert(applied_table).values(
                consumer=name, event_id=envelope.id, subject=envelope.subject, seq=envelope.data["seq"]
            )
        )

    await publish(bootstrap, topic, [("K-M", p.to_bytes()) for p in probes])
    runner = ConsumerRunner(
        name=name,
        topics=(topic,),
        handler=handle,
        session_factory=sessions,
        bootstrap_servers=bootstrap,
        retry_delay_s=0.01,
    )
    async with running(runner):
        await eventually(lambda: at_least(sessions, applied_table, name, 3), what="all three events")
        await eventually(lambda: _lag_zero(runner), what="consumer caught up")
    rows = await applied_rows(sessions, applied_table, name)
    assert [r.seq for r in rows] == [0, 1, 2]
    assert calls == 3  # the batch was read again and the event judged afresh
    assert dead_for(dead_letters, name) == []
    assert await committed(bootstrap, name, TopicPartition(topic, 0)) == 3


async def _committed_is(bootstrap: str, group: str, tp: TopicPartition, offset: int) -> bool:
    return await committed(bootstrap, group, tp) == offset


async def _lag_zero(runner: ConsumerRunner) -> bool:
    return runner.health.running and runner.health.lag == 0 and runner.health.last_record_monotonic is not None


async def _lag_zero_once_assigned(runner: ConsumerRunner) -> bool:
    return runner.health.running and runner.health.lag_known and runner.health.lag == 0


async def _dead_for(tap: KafkaTap, name: str, n: int) -> list | None:
    mine = [r for r in tap.records if dict(r.headers).get("dlt_consumer") == name.encode()]
    return mine if len(mine) >= n else None
