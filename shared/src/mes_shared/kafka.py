"""Kafka clients configured the one safe way: idempotent producer with acks=all, manual-commit consumers.

aiokafka's defaults (acks=1, no idempotence, auto-commit, offset reset "latest") lose or reorder events
for us, so nothing else in the code base constructs a client directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

from mes_shared.faults import OutageLog

log = logging.getLogger(__name__)
# A dead broker makes every client's stop fail: one line for the first, then a reminder now and then.
_STOPS = OutageLog(log, "stopping Kafka clients cleanly")


def make_producer(bootstrap_servers: str, *, client_id: str, request_timeout_s: float = 10.0) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=int(request_timeout_s * 1000),
        retry_backoff_ms=200,
    )


# A service's consumers take what arrives within 100 ms in one fetch, one transaction and one commit instead of
# fetching each event as it comes: at 500 station events/s a fifth less CPU per event across the broker and the
# consumers, for ~40 ms more on the live stream (bench/RESULTS.md).
SERVICE_GATHER_MS = 100


def make_consumer(
    bootstrap_servers: str,
    *topics: str,
    group_id: str | None,
    client_id: str,
    max_poll_records: int = 500,
    gather_ms: int = 0,
) -> AIOKafkaConsumer:
    """`gather_ms`: let the broker gather up to 64 KiB for that long before answering a fetch (0: answer as soon
    as anything is there)."""
    return AIOKafkaConsumer(
        *topics,
        fetch_min_bytes=64 * 1024 if gather_ms else 1,
        fetch_max_wait_ms=gather_ms or 500,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=max_poll_records,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        partition_assignment_strategy=(RoundRobinPartitionAssignor,),
    )


async def start_with_timeout(client: AIOKafkaProducer | AIOKafkaConsumer, timeout_s: float) -> None:
    await asyncio.wait_for(client.start(), timeout_s)


async def stop_quietly(client: AIOKafkaProducer | AIOKafkaConsumer | None, timeout_s: float = 5.0) -> None:
    """Stop a client that may be wedged; never let shutdown hang on a dead broker."""
    if client is None:
        return
    try:
        await asyncio.wait_for(client.stop(), timeout_s)
    except Exception as exc:  # noqa: BLE001 - stopping must not fail; the outage is logged
        _STOPS.failed(exc)
    else:
        _STOPS.recovered()


async def topic_partitions(bootstrap_servers: str, *topics: str, timeout_s: float = 10.0) -> list[TopicPartition]:
    """The partitions of `topics` as the broker describes them (by topic, then partition); raise when one of them
    does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        described = await asyncio.wait_for(admin.describe_topics(list(topics)), timeout_s)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(admin.close(), timeout_s)
    found = sorted(
        (
            TopicPartition(d["topic"], p["partition"])
            for d in described
            if not d.get("error_code")
            for p in d["partitions"]
        ),
        key=lambda tp: (tp.topic, tp.partition),
    )
    missing = set(topics) - {tp.topic for tp in found}
    if missing:
        raise RuntimeError(f"topics {sorted(missing)} do not exist: run `python -m mes_shared.topics create`")
    return found


class QuietClientLogs(logging.Filter):
    """Lets at most `per_window` lines of the Kafka client libraries through per `window_s`, then counts.

    aiokafka logs an ERROR on every reconnect attempt while a broker is down: thousands of lines a minute per
    service. Our own code logs the outage in a few lines (`faults.OutageLog`); of the library's lines a few are
    kept, and the first one let through after a quiet spell says how many were left out."""

    PREFIXES = ("aiokafka", "kafka")

    def __init__(self, *, per_window: int = 5, window_s: float = 60.0) -> None:
        super().__init__()
        self._per_window = per_window
        self._window_s = window_s
        self._window_start = -window_s
        self._passed = 0
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] not in self.PREFIXES:
            return True
        now = time.monotonic()
        if now - self._window_start >= self._window_s:
            self._window_start, self._passed = now, 0
        if self._passed >= self._per_window:
            self._suppressed += 1
            return False
        self._passed += 1
        if self._suppressed:
            record.msg = f"{record.msg} ({self._suppressed} more lines of the Kafka client left out before this)"
            self._suppressed = 0
        return True


async def cancel_consuming(task: asyncio.Task[None], *, timeout_s: float) -> None:
    """Cancel a task that reads from Kafka and wait for it to end, never for ever.

    A cancellation that lands inside aiokafka's fetch can be swallowed (the task then waits on the next
    fetch and a shutdown hangs), so the task is cancelled again until it ends or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while not task.done() and time.monotonic() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if not task.done():
        log.warning("%s did not stop within %.0fs after cancellation; left behind", task.get_name(), timeout_s)
    elif not task.cancelled() and task.exception() is not None:
        log.warning("%s ended with %r", task.get_name(), task.exception())
