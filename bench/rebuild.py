"""Benchmark 3: rebuild every reporting projection from the start of the topics, against a bare aiokafka
consumer reading the same topics in the same run (the floor: fetching and nothing else).

    set -a; . .run/env; set +a
    .venv/bin/python -m bench.plant_year          # once: a simulated plant-year, 520,000+ events
    .venv/bin/python -m bench.rebuild
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

from aiokafka import TopicPartition

from bench.procs import PeakRss
from mes_shared.kafka import make_consumer, topic_partitions
from mes_shared.topics import CATALOGUE, DEAD_LETTER, DEAD_LETTER_REPLAY

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_TOPICS = tuple(t.name for t in CATALOGUE if t not in (DEAD_LETTER, DEAD_LETTER_REPLAY))


async def bare_consumer(bootstrap: str) -> tuple[int, float, float]:
    """Read every record of the domain topics from the beginning to the end offsets seen at start: the count,
    wall seconds and CPU seconds."""
    partitions = await topic_partitions(bootstrap, *DOMAIN_TOPICS)
    consumer = make_consumer(bootstrap, group_id=None, client_id="bench-bare", max_poll_records=5000)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        count, began, cpu = 0, time.perf_counter(), time.process_time()
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                count += len(records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return count, time.perf_counter() - began, time.process_time() - cpu
    finally:
        await consumer.stop()


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def reporting_rebuild() -> tuple[float, float, dict[str, float]]:
    """Wall seconds, CPU seconds and peak RSS of `python -m reporting.rebuild`."""
    began, cpu = time.perf_counter(), children_cpu_s()
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/python"),
        "-m",
        "reporting.rebuild",
        "--requested-by",
        "bench",
        cwd=ROOT / "services" / "reporting",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=os.environ,
    )
    async with PeakRss({"rebuild": proc.pid}) as rss:
        output, _ = await proc.communicate()
    seconds, cpu = time.perf_counter() - began, children_cpu_s() - cpu  # the rebuild is the only child reaped
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        raise RuntimeError("the rebuild failed:\n" + output.decode()[-3000:])
    progress = [entry["message"] for entry in lines if "events folded" in entry["message"]]
    return seconds, cpu, rss.peaks | {"last": progress[-1] if progress else ""}


async def main() -> int:
    bootstrap = os.environ["MES_KAFKA_BOOTSTRAP"]
    records, bare_s, bare_cpu = await bare_consumer(bootstrap)
    rebuild_s, rebuild_cpu, peaks = await reporting_rebuild()
    print(f"\nRebuild from the start of {', '.join(DOMAIN_TOPICS)}: {records} records, {os.cpu_count()} cores")
    for what, seconds, cpu in (
        ("baseline: bare aiokafka consumer", bare_s, bare_cpu),
        ("reporting rebuild (fold + swap)", rebuild_s, rebuild_cpu),
    ):
        print(f"  {what:34} {records / seconds:9.0f} events/s   ({seconds:.1f} s, {cpu:.1f} s CPU)")
    print(f"  ratio to the bare consumer: {bare_s / rebuild_s:.2f}   goals: >= 10,000 events/s, >= 0.5 x bare")
    # CPU seconds of each client process (not the broker's or the database's): steadier than wall time when
    # other work shares the machine.
    print(f"  CPU ratio to the bare consumer: {bare_cpu / rebuild_cpu:.2f}")
    print(f"  peak RSS of the rebuild process: {peaks['rebuild']:.0f} MB   ({peaks['last']})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
