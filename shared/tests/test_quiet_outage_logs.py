"""An outage is logged in a few lines, not thousands: the consumer and the relay say when it starts, remind
now and then, and say when it ends; the Kafka client's own lines are capped (`kafka.QuietClientLogs`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared import kafka, outbox
from mes_shared.consumer import ConsumerRunner
from mes_shared.db import SessionFactory
from mes_shared.envelope import Envelope
from mes_shared.kafka import QuietClientLogs
from mes_shared.observability import configure_logging
from mes_shared.platform_tables import outbox as outbox_table
from mes_shared.relay import OutboxRelay
from mes_shared.testing import eventually

NOBODY_LISTENS = "127.0.0.1:1"  # connection refused at once: a real broker outage


@pytest.fixture
def service_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict]]]:
    """Yields a reader of the JSON lines the service's logging (`configure_logging`, called by the test: pytest
    resets the root logger's handlers between a test's set-up and its run) writes to stdout."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield lambda: [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        root.handlers[:], root.level = saved


def test_a_flood_of_kafka_client_errors_is_capped_and_counted(
    service_logs: Callable[[], list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(kafka.time, "monotonic", lambda: now[0])
    configure_logging("tests")
    for n in range(3000):  # a minute of reconnect errors from a few clients
        logging.getLogger("aiokafka.conn").error("Unable connect to node with id 1: %s", n)
        now[0] += 0.01
    logging.getLogger("mes_shared.consumer").warning("our own lines pass")
    lines = service_logs()
    assert len([x for x in lines if x["logger"].startswith("aiokafka")]) == 5
    assert lines[-1]["message"] == "our own lines pass"

    now[0] += 60  # the next minute: the first line says how many were left out
    logging.getLogger("aiokafka.client").error("still failing")
    [line] = service_logs()
    assert line["message"] == "still failing (2995 more lines of the Kafka client left out before this)"


def test_the_filter_passes_other_loggers_untouched() -> None:
    quiet = QuietClientLogs(per_window=1)
    records = [logging.LogRecord("kafka_receiving.x", logging.ERROR, __file__, 1, "m", None, None) for _ in range(5)]
    assert all(quiet.filter(r) for r in records)


@pytest.mark.integration
async def test_a_broker_outage_gives_a_few_lines_per_service(
    service_logs: Callable[[], list[dict]],
    sessions: SessionFactory,
    probe_topic: str,
    make_probe: Callable[..., Envelope],
) -> None:
    configure_logging("tests")
    topic, event = probe_topic, make_probe("K-Q", 1)
    async with sessions() as session, session.begin():
        await outbox.append(session, [event])  # so the relay has something to publish

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        return None

    consumer = ConsumerRunner(
        name="quiet-test", topics=(topic,), handler=handle, session_factory=sessions, bootstrap_servers=NOBODY_LISTENS
    )
    relay = OutboxRelay(
        service="quiet-test",
        session_factory=sessions,
        bootstrap_servers=NOBODY_LISTENS,
        listen_dsn=None,
        send_timeout_s=1.0,
        idle_poll_s=0.1,
    )
    await consumer.start()
    await relay.start()
    try:

        async def both_retried() -> bool:
            relay_failures = REGISTRY.get_sample_value("mes_outbox_publish_failures_total", {"service": "quiet-test"})
            return consumer.health.failures >= 4 and (relay_failures or 0) >= 4

        await eventually(both_retried, what="the consumer and the relay to retry four times each")
    finally:
        await consumer.stop()
        await relay.stop()
        async with sessions() as session, session.begin():
            await session.execute(sa.delete(outbox_table).where(outbox_table.c.event_id == event.id))
    lines = service_logs()
    ours = [x["message"] for x in lines if not x["logger"].startswith(("aiokafka", "kafka"))]
    assert len(lines) <= 8, [x["message"] for x in lines]
    assert any("consumer quiet-test's broker unavailable" in m for m in ours), ours
    assert any("outbox relay of quiet-test" in m and "unavailable" in m for m in ours), ours
