"""Dead letters an operator can work with, on the real broker and database: `python -m mes_shared.dead_letters`
lists, shows and replays an entry to exactly the consumer it failed in; a second replay changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from aiokafka import TopicPartition
from prometheus_client import REGISTRY
from shared_consumers import applied_rows, at_least, publish, running
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared import dead_letters
from mes_shared.consumer import ConsumerRunner
from mes_shared.db import SessionFactory
from mes_shared.envelope import Envelope
from mes_shared.kafka import make_consumer, start_with_timeout, stop_quietly
from mes_shared.testing import eventually

pytestmark = pytest.mark.integration


async def cli(capsys: pytest.CaptureFixture[str], bootstrap: str, *args: str) -> tuple[int, str]:
    """Run the operator's command (in a thread: it runs its own event loop) and return its exit code and output."""
    capsys.readouterr()
    code = await asyncio.to_thread(dead_letters.main, ["--bootstrap", bootstrap, *args])
    return code, capsys.readouterr().out


def metric(name: str, consumer: str) -> float:
    return REGISTRY.get_sample_value(name, {"consumer": consumer}) or 0.0


async def end_offset(bootstrap: str, topic: str) -> int:
    consumer = make_consumer(bootstrap, group_id=None, client_id="test-ends")
    await start_with_timeout(consumer, 10)
    try:
        return (await consumer.end_offsets([TopicPartition(topic, 0)]))[TopicPartition(topic, 0)]
    finally:
        await stop_quietly(consumer)


async def test_an_operator_lists_shows_and_replays_a_dead_letter_to_its_own_consumer_only(
    bootstrap: str,
    sessions: SessionFactory,
    scratch_topic: Callable[..., Awaitable[str]],
    make_probe: Callable[..., Envelope],
    applied_table: sa.Table,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic, tag = await scratch_topic(1), uuid.uuid4().hex[:8]
    failing, other = f"test-replay-{tag}", f"test-replay-other-{tag}"
    fixed = False  # the failing consumer's code is "fixed" before the replay

    def recorder(name: str, *, refuses_poison: bool) -> Callable[[AsyncSession, Envelope], Awaitable[None]]:
        async def handle(session: AsyncSession, envelope: Envelope) -> None:
            if refuses_poison and envelope.data["poison"] and not fixed:
                raise ValueError("this consumer cannot read it yet")
            await session.execute(
                sa.insert(applied_table).values(
                    consumer=name, event_id=envelope.id, subject=envelope.subject, seq=envelope.data["seq"]
                )
            )

        return handle

    def runner(name: str, *, refuses_poison: bool) -> ConsumerRunner:
        return ConsumerRunner(
            name=name,
            topics=(topic,),
            handler=recorder(name, refuses_poison=refuses_poison),
            session_factory=sessions,
            bootstrap_servers=bootstrap,
            retry_delay_s=0.01,
        )

    poison, good = make_probe("K-R", 1, poison=True), make_probe("K-R", 2)
    await publish(bootstrap, topic, [("K-R", poison.to_bytes()), ("K-R", good.to_bytes())])
    async with running(runner(failing, refuses_poison=True)) as first, running(runner(other, refuses_poison=False)):
        await eventually(lambda: at_least(sessions, applied_table, other, 2), what="the other consumer's two")
        await eventually(lambda: at_least(sessions, applied_table, failing, 1), what="the good event")
        await eventually(lambda: _caught_up(first), what="the failing consumer caught up")

        code, out = await cli(capsys, bootstrap, "list", "--consumer", failing)
        assert code == 0
        [line] = out.splitlines()
        entry_id, _, consumer, origin, event_id, event_type, attempts, replayed, error = line.split("\t")
        assert (consumer, origin, event_id, event_type) == (failing, f"{topic}[0]@0", str(poison.id), poison.type)
        assert (attempts, replayed) == ("attempts=3", "-")
        assert "cannot read it yet" in error

        code, out = await cli(capsys, bootstrap, "show", entry_id)
        assert code == 0
        assert f"consumer:   {failing}" in out and "ValueError: this consumer cannot read it yet" in out
        assert f'"id": "{poison.id}"' in out and "replayed:   never" in out

        fixed = True
        domain_end = await end_offset(bootstrap, topic)
        duplicates_elsewhere = metric("mes_consumer_duplicates_total", other)
        code, out = await cli(capsys, bootstrap, "replay", entry_id)
        assert code == 0 and f"replayed {entry_id} to {failing}" in out
        rows = await eventually(lambda: at_least(sessions, applied_table, failing, 2), what="the replayed event")
        assert sorted(r.seq for r in rows) == [1, 2]

        # A second replay is harmless: the inbox absorbs it.
        code, _ = await cli(capsys, bootstrap, "replay", entry_id)
        assert code == 0
        await eventually(
            lambda: _true(metric("mes_consumer_duplicates_total", failing) >= 1), what="the second replay absorbed"
        )
        await eventually(lambda: _caught_up(first), what="the failing consumer caught up again")

        # Only the consumer it failed in took it: the other consumer saw no replay (not even a duplicate), and
        # nothing was appended to the domain topic.
        assert metric("mes_consumer_duplicates_total", other) == duplicates_elsewhere
        assert len(await applied_rows(sessions, applied_table, other)) == 2
        assert await end_offset(bootstrap, topic) == domain_end
    assert [r.seq for r in await applied_rows(sessions, applied_table, failing)] == [2, 1]

    # Replayed entries are marked, and left out of those pending.
    code, out = await cli(capsys, bootstrap, "list", "--consumer", failing)
    assert code == 0 and "\treplayed 2x, last " in out
    code, out = await cli(capsys, bootstrap, "list", "--consumer", failing, "--pending")
    assert code == 0 and out == ""


async def test_replaying_everything_of_one_consumer_and_unknown_ids(
    bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = await cli(capsys, bootstrap, "replay", "--consumer", f"nobody-{uuid.uuid4().hex[:8]}")
    assert code == 0 and out == ""
    code, _ = await cli(capsys, bootstrap, "show", "9:999999999")
    assert code == 1


async def _caught_up(runner: ConsumerRunner) -> bool:
    return runner.health.running and runner.health.lag_known and runner.health.lag == 0


async def _true(value: bool) -> bool:
    return value
