"""Benchmark 2: freshness, from a terminal's accepted POST to the change on reporting's live stream, under a
steady open-loop load of station events; beside a baseline measured on the same probes in the same run:
the accepted POST to the event being readable by a bare aiokafka consumer on the topic.

    set -a; . .run/env; set +a; .venv/bin/python -m bench.freshness [--seconds 60] [--rate 200]

The load is sent on a fixed clock (open loop: a slow answer does not slow the senders), round robin over one
terminal per station, the ingest benchmark's mix (three torque checks to one component fit). Probes are
andons raised and cleared in turn at a station of their own, one at a time: each is timed from its POST's
answer to the first `change` on `GET /stream` naming its station, and to its record on `mes.stations`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.ingest import service_pids, station_script
from bench.loadgen import Request, Run, describe
from bench.loadgen import send as send_resending
from bench.plant import Plant
from bench.procs import PeakRss
from mes_shared.auth import Role
from mes_shared.kafka import make_consumer, start_with_timeout, stop_quietly
from mes_shared.topics import STATIONS, TopicSpec

LATE_S = 0.05  # an event sent this far behind its slot: the system (or the generator) did not keep the rate
PROBE_TIMEOUT_S = 30.0
POST_TIMEOUT = aiohttp.ClientTimeout(total=30)
GOAL_P99_MS = 1000.0


@dataclass
class Pace:
    """How well the open-loop generator kept its clock."""

    scheduled: int = 0
    late: int = 0
    worst_slip_s: float = 0.0


@dataclass
class Probes:
    sent: int = 0
    ms: dict[str, list[float]] = field(default_factory=lambda: {"stream": [], "kafka": []})
    changes: int = 0
    incomplete: int = 0  # changes with `more`: they cannot be matched to a probe


class Sightings:
    """When each awaited thing was first seen, by whichever listener saw it; it may be seen before it is
    awaited (a record on Kafka before the POST's answer is read)."""

    def __init__(self) -> None:
        self._first: dict[str, asyncio.Future[float]] = {}

    def _future(self, key: str) -> asyncio.Future[float]:
        return self._first.setdefault(key, asyncio.get_running_loop().create_future())

    def saw(self, key: str) -> None:
        if not (future := self._future(key)).done():
            future.set_result(time.perf_counter())

    def expect(self, key: str) -> None:
        """Forget any earlier sighting of `key`: only the next one counts."""
        self._first[key] = asyncio.get_running_loop().create_future()

    async def when(self, key: str, timeout_s: float) -> float:
        return await asyncio.wait_for(asyncio.shield(self._future(key)), timeout_s)


async def send(session: aiohttp.ClientSession, request: Request, result: Run) -> None:
    began = time.perf_counter()
    try:
        status, _ = await send_resending(session, request, result, timeout=POST_TIMEOUT)
    except (aiohttp.ClientError, TimeoutError):
        result.errors += 1
        return
    result.latencies_ms.append((time.perf_counter() - began) * 1000)
    result.statuses[status] = result.statuses.get(status, 0) + 1


async def steady(
    session: aiohttp.ClientSession, plant: Plant, terminals: int, rate: float, seconds: float, pace: Pace
) -> Run:
    """`rate` station events a second for `seconds`, due on a fixed clock round robin over the terminals.
    Each terminal sends its own in order, one at a time, as a real one does: a slow answer delays that
    terminal's next events (counted late), never the clock."""
    script = station_script(plant, 1)
    due: list[asyncio.Queue[float | None]] = [asyncio.Queue() for _ in range(terminals)]
    result = Run()

    async def terminal(index: int) -> None:
        requests = script(index)  # type: ignore[operator]
        while (slot := await due[index].get()) is not None:
            request = await anext(requests)
            behind = time.perf_counter() - slot
            pace.worst_slip_s = max(pace.worst_slip_s, behind)
            pace.late += behind > LATE_S
            await send(session, request, result)

    workers = [asyncio.create_task(terminal(i)) for i in range(terminals)]
    result.started = time.perf_counter()
    for n in itertools.count():
        slot = result.started + n / rate
        if slot >= result.started + seconds:
            break
        pace.scheduled += 1
        await asyncio.sleep(max(0.0, slot - time.perf_counter()))
        due[n % terminals].put_nowait(slot)
    for queue in due:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    result.finished = time.perf_counter()
    return result


async def server_sent_events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    name, data = "message", ""
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield name, data
            name, data = "message", ""
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


@contextlib.asynccontextmanager
async def live_stream(session: aiohttp.ClientSession, plant: Plant) -> AsyncIterator[aiohttp.ClientResponse]:
    """Reporting's live stream, read as a dashboard reads it."""
    headers = {"Authorization": f"Bearer {plant.token(Role.MANAGER)}"}
    async with session.get(plant.urls["reporting"] + "/stream", headers=headers) as response:
        response.raise_for_status()
        yield response


async def watch_stream(response: aiohttp.ClientResponse, station: str, sightings: Sightings, probes: Probes) -> None:
    async for name, data in server_sent_events(response):
        if name == "hello":
            sightings.saw("hello")
        elif name == "change":
            change = json.loads(data)
            probes.changes += 1
            probes.incomplete += change["more"]
            if station in change["subjects"]:
                sightings.saw(station)


@contextlib.asynccontextmanager
async def topic_end(bootstrap: str, topic: TopicSpec) -> AsyncIterator[AIOKafkaConsumer]:
    """A bare consumer on every partition of `topic` from its end as of now: the floor any reader of the
    log pays."""
    consumer = make_consumer(bootstrap, group_id=None, client_id="bench-freshness")
    await start_with_timeout(consumer, 10)
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)  # the end now, not at the first fetch
        yield consumer
    finally:
        await stop_quietly(consumer)


async def watch_kafka(consumer: AIOKafkaConsumer, station: str, sightings: Sightings) -> None:
    while True:
        for records in (await consumer.getmany(timeout_ms=200)).values():
            for record in records:
                if record.key == station.encode():
                    event = json.loads(record.value)
                    sightings.saw(f"{event['type']}:{event['data']['andon_id']}")


async def probe(
    session: aiohttp.ClientSession, plant: Plant, station: str, n: int, sightings: Sightings, probes: Probes
) -> None:
    """Raise (n even) or clear the probes' station's andon; time from the POST's answer to the first `change`
    naming the station on the stream, and to the event's record on Kafka."""
    body = {
        "type": "andon_cleared" if n % 2 else "andon_raised",
        "terminal_event_id": f"probe-{plant.run}-{n}",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    if n % 2 == 0:
        body["reason"] = "freshness probe"
    sightings.expect(station)
    url = f"{plant.urls['assembly-line']}/stations/{station}/events"
    request = Request("POST", url, plant.terminal_headers(station), body)
    status, raw = await send_resending(session, request, Run(), timeout=POST_TIMEOUT)
    answer = json.loads(raw)
    accepted = time.perf_counter()
    if status >= 300:
        raise RuntimeError(f"probe {n} refused: {status} {answer}")
    probes.sent += 1
    awaited = {"stream": station, "kafka": f"{answer['published'][0]}:{answer['andon_id']}"}
    seen = await asyncio.gather(
        *(sightings.when(key, PROBE_TIMEOUT_S) for key in awaited.values()), return_exceptions=True
    )
    for path, at in zip(awaited, seen, strict=True):
        if isinstance(at, BaseException) and not isinstance(at, TimeoutError):
            raise at
        if isinstance(at, float):
            probes.ms[path].append((at - accepted) * 1000)


def figures(ms: list[float]) -> str:
    run = Run(latencies_ms=ms)
    worst = max(ms, default=float("nan"))
    return f"p50 {run.percentile(50):7.1f} ms   p99 {run.percentile(99):7.1f} ms   max {worst:7.1f} ms"


async def measure(plant: Plant, args: argparse.Namespace, pace: Pace, probes: Probes) -> tuple[Run, dict[str, float]]:
    """The load for `args.seconds`, probes one after another from `args.warmup` on until the load ends."""
    station, sightings = plant.station_ids[-1], Sightings()
    connector = aiohttp.TCPConnector(limit=args.stations + 8)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session,
        live_stream(session, plant) as stream,
        topic_end(os.environ["MES_KAFKA_BOOTSTRAP"], STATIONS) as consumer,
    ):
        listeners = [
            asyncio.create_task(watch_stream(stream, station, sightings, probes)),
            asyncio.create_task(watch_kafka(consumer, station, sightings)),
        ]
        try:
            await sightings.when("hello", 30)  # subscribed
            async with PeakRss(service_pids()) as rss:
                load = asyncio.create_task(steady(session, plant, args.stations, args.rate, args.seconds, pace))
                await asyncio.sleep(args.warmup)
                for n in itertools.count():
                    if load.done():
                        break
                    next_at = time.perf_counter() + args.probe_every
                    await probe(session, plant, station, n, sightings, probes)
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                result = await load
            return result, rss.peaks
        finally:
            for task in listeners:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def ratio(measured: float, baseline: float) -> str:
    # The POST's answer can reach the client after the event reached Kafka (a busy API): no ratio then.
    return f"{measured / baseline:.2f}" if baseline > 0 else "n/a (baseline <= 0)"


def report(args: argparse.Namespace, load: Run, pace: Pace, probes: Probes, rss: dict[str, float]) -> None:
    print(
        f"\nFreshness at {args.rate:.0f} station events/s (open loop, {args.stations} terminals, {args.seconds:.0f} s, "
        f"{os.cpu_count()} cores):"
    )
    print("  " + describe("load (accepted POSTs)", load))
    print(
        f"  load clock: {pace.scheduled} events due, {pace.late} sent over {LATE_S * 1000:.0f} ms after their "
        f"slot (worst {pace.worst_slip_s * 1000:.0f} ms)"
    )
    if load.per_second < 0.95 * args.rate or pace.late > 0.01 * pace.scheduled:
        print(f"  WARNING: the load did not keep {args.rate:.0f} events/s; the figures are not at that rate")
    missed = {path: probes.sent - len(ms) for path, ms in probes.ms.items()}
    print(f"  probes: {probes.sent}; not seen within {PROBE_TIMEOUT_S:.0f} s: {missed}")
    print("  freshness (accepted POST -> `change` naming it on /stream):   " + figures(probes.ms["stream"]))
    print("  baseline  (accepted POST -> readable by a bare Kafka consumer): " + figures(probes.ms["kafka"]))
    stream, kafka = Run(latencies_ms=probes.ms["stream"]), Run(latencies_ms=probes.ms["kafka"])
    ratios = "   ".join(f"p{q} {ratio(stream.percentile(q), kafka.percentile(q))}" for q in (50, 99))
    added = "   ".join(f"p{q} {stream.percentile(q) - kafka.percentile(q):.0f} ms" for q in (50, 99))
    print(f"  ratio to baseline: {ratios}   (reporting adds {added})")
    print(f"  stream: {probes.changes} change events, {probes.incomplete} with `more` (cannot name a probe)")
    met = "met" if stream.percentile(99) < GOAL_P99_MS else "MISSED"
    print(f"  goal: freshness p99 < {GOAL_P99_MS:.0f} ms: {met}")
    print("  peak RSS during the run: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items()))


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.freshness")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0, help="station events a second, on a fixed clock")
    parser.add_argument("--stations", type=int, default=32, help="stations under load, one terminal each")
    parser.add_argument("--probe-every", type=float, default=0.25, help="seconds between probes")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the first probe")
    args = parser.parse_args()

    plant = Plant(stations=args.stations + 1)  # the last station is the probes' own
    print(f"setting up bench line {plant.line}: {args.stations} stations under load and one for probes ...", flush=True)
    await plant.build()
    print(f"measuring for {args.seconds:.0f} s ...", flush=True)
    pace, probes = Pace(), Probes()
    load, rss = await measure(plant, args, pace, probes)
    report(args, load, pace, probes, rss)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
