"""The outbox relay on the real broker and database: crash recovery, broker outage, order per key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from mes_shared import outbox
from mes_shared.db import SessionFactory, asyncpg_dsn
from mes_shared.envelope import Envelope
from mes_shared.platform_tables import outbox as outbox_table
from mes_shared.relay import OutboxRelay
from mes_shared.testing import KafkaTap

pytestmark = pytest.mark.integration


def relay_for(sessions: SessionFactory, bootstrap: str, **kw: object) -> OutboxRelay:
    kw.setdefault("listen_dsn", None)
    return OutboxRelay(service="tests", session_factory=sessions, bootstrap_servers=bootstrap, **kw)


async def pending(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return await outbox.pending_count(session)


async def drain(relay: OutboxRelay) -> int:
    total = 0
    while published := await relay.publish_once():
        total += published
    return total


async def test_events_committed_while_no_relay_runs_are_published_once_when_it_starts(
    bootstrap: str, sessions: SessionFactory, probe_topic: str, make_probe: Callable[..., Envelope]
) -> None:
    await drain(relay_for(sessions, bootstrap))
    tap = KafkaTap(bootstrap, probe_topic)
    await tap.start()
    try:
        event = make_probe("KIT-A", 1)
        async with sessions() as session, session.begin():
            await outbox.append(session, [event])
        # The relay "died" after the commit and before publishing: the event waits in the outbox.
        assert await pending(sessions) == 1
        relay = relay_for(sessions, bootstrap)
        await relay.start()
        try:
            [received] = await tap.wait_for("KIT-A", 1)
        finally:
            await relay.stop()
        assert received.id == event.id
        assert await pending(sessions) == 0
        assert len(tap.envelopes("KIT-A")) == 1
    finally:
        await tap.stop()


async def test_a_crash_between_publish_and_mark_resends_and_nothing_is_lost(
    bootstrap: str, sessions: SessionFactory, probe_topic: str, make_probe: Callable[..., Envelope]
) -> None:
    tap = KafkaTap(bootstrap, probe_topic)
    await tap.start()
    try:
        event = make_probe("KIT-B", 1)
        async with sessions() as session, session.begin():
            await outbox.append(session, [event])
        relay = relay_for(sessions, bootstrap)
        assert await drain(relay) >= 1
        # Simulate the mark never committing: the row looks unpublished again.
        async with sessions() as session, session.begin():
            await session.execute(
                sa.update(outbox_table).where(outbox_table.c.event_id == event.id).values(published_at=None)
            )
        assert await drain(relay) == 1
        copies = await tap.wait_for("KIT-B", 2)
        # At least once: the same event id twice, which every consumer's inbox deduplicates.
        assert {c.id for c in copies} == {event.id}
    finally:
        await tap.stop()


async def test_a_broker_outage_only_delays_publication(
    bootstrap: str, sessions: SessionFactory, probe_topic: str, make_probe: Callable[..., Envelope]
) -> None:
    await drain(relay_for(sessions, bootstrap))
    event = make_probe("KIT-C", 1)
    async with sessions() as session, session.begin():
        await outbox.append(session, [event])
    unreachable = relay_for(sessions, "127.0.0.1:1", send_timeout_s=1.0)
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, the row must stay pending
        await unreachable.publish_once()
    await unreachable.stop()
    assert await pending(sessions) == 1
    tap = KafkaTap(bootstrap, probe_topic)
    await tap.start()
    try:
        assert await drain(relay_for(sessions, bootstrap)) == 1
        [received] = await tap.wait_for("KIT-C", 1)
        assert received.id == event.id
    finally:
        await tap.stop()


async def test_relay_keeps_the_order_of_each_key(
    bootstrap: str, sessions: SessionFactory, probe_topic: str, make_probe: Callable[..., Envelope]
) -> None:
    await drain(relay_for(sessions, bootstrap))
    tap = KafkaTap(bootstrap, probe_topic)
    await tap.start()
    try:
        keys = [f"KIT-O{n}" for n in range(4)]
        for chunk in range(10):
            async with sessions() as session, session.begin():
                await outbox.append(session, [make_probe(k, chunk * 10 + i) for i in range(10) for k in keys])
        assert await drain(relay_for(sessions, bootstrap, batch_size=37)) == 400
        for key in keys:
            received = await tap.wait_for(key, 100)
            assert [e.data["seq"] for e in received] == list(range(100))
    finally:
        await tap.stop()


async def test_commits_close_behind_each_other_are_published_together(
    bootstrap: str,
    engine: AsyncEngine,
    sessions: SessionFactory,
    probe_topic: str,
    make_probe: Callable[..., Envelope],
) -> None:
    await drain(relay_for(sessions, bootstrap))
    tap = KafkaTap(bootstrap, probe_topic)
    await tap.start()
    listen_dsn = asyncpg_dsn(engine.url.render_as_string(hide_password=False))
    relay = relay_for(sessions, bootstrap, listen_dsn=listen_dsn, linger_s=0.3)
    await relay.start()
    try:
        events = [make_probe("KIT-L", seq) for seq in range(5)]
        # Five terminals' commits, 30 ms apart: each wakes the relay.
        for event in events:
            async with sessions() as session, session.begin():
                await outbox.append(session, [event])
            await asyncio.sleep(0.03)
        received = await tap.wait_for("KIT-L", 5)
        assert [e.id for e in received] == [e.id for e in events]
    finally:
        await relay.stop()
        await tap.stop()
    async with sessions() as session:
        batches = await session.scalar(
            sa.select(sa.func.count(sa.distinct(outbox_table.c.published_at))).where(
                outbox_table.c.event_id.in_([e.id for e in events])
            )
        )
    # One publish (two if the first commit fell at the end of a linger), not one per commit.
    assert batches is not None and batches <= 2
