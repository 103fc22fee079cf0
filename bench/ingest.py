"""Benchmark 1: station-event ingest by many concurrent terminals, against two baselines measured in the
same run on the same machine: the same web server answering an empty endpoint, and one INSERT plus
COMMIT per request on the same PostgreSQL.

    set -a; . .run/env; set +a; .venv/bin/python -m bench.ingest [--seconds 30] [--terminals-per-station 2]

The load is the heaviest terminal path: torque checks and component fits, each signed off by an operator
(clocked in and qualified at that instant), on a truck row that is locked, with idempotency and outbox in
the same transaction. Trucks are positioned one per station beforehand through the public APIs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.loadgen import Request, Run, describe, run
from bench.plant import Plant
from bench.procs import CpuShare, PeakRss

ROOT = Path(__file__).resolve().parents[1]


def service_pids() -> dict[str, int]:
    pids = {}
    for pidfile in sorted((ROOT / ".run" / "pids").glob("*.pid")):
        if pidfile.stem in {"kafka", "postgres", "simulator"}:
            continue
        pids[pidfile.stem] = int(pidfile.read_text().split()[0])
    return pids


def stack_pids() -> dict[str, int]:
    """PostgreSQL (postmaster and backends), Kafka and this load generator."""
    postmaster = ROOT / ".run" / "pg" / "data" / "postmaster.pid"
    return {
        "postgres": int(postmaster.read_text().split()[0]),
        "kafka": int((ROOT / ".run" / "pids" / "kafka.pid").read_text().split()[0]),
        "load generator": os.getpid(),
    }


async def start_baseline(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/uvicorn"),
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                await client.post(
                    f"http://127.0.0.1:{port}/empty" if "empty" in factory else f"http://127.0.0.1:{port}/insert",
                    json={},
                )
                return proc
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"baseline {factory} did not start")


def baseline_script(url: str) -> object:
    async def client(index: int) -> AsyncIterator[Request]:
        for k in itertools.count():
            yield Request(
                "POST",
                url,
                {"content-type": "application/json"},
                {"terminal": index, "n": k, "type": "check_recorded", "value": 120.0},
            )

    return client


def station_script(plant: Plant, terminals_per_station: int) -> object:
    urls = plant.urls["assembly-line"]

    async def client(index: int) -> AsyncIterator[Request]:
        n_station, terminal = divmod(index, terminals_per_station)
        station = plant.station_ids[n_station % len(plant.station_ids)]
        truck, badge = plant.vins[n_station], plant.badges[station]
        headers = plant.terminal_headers(station, terminal)
        url = f"{urls}/stations/{station}/events"
        for k in itertools.count():
            event_id = f"b-{plant.run}-{n_station}-{terminal}-{k}"
            now = datetime.now(UTC).isoformat()
            if k % 4 == 3:
                body = {
                    "type": "component_fitted",
                    "terminal_event_id": event_id,
                    "occurred_at": now,
                    "vin": truck,
                    "part_number": f"P-{station}",
                    "serial": f"SN-{event_id}",
                    "operator_badge": badge,
                }
            else:
                body = {
                    "type": "check_recorded",
                    "terminal_event_id": event_id,
                    "occurred_at": now,
                    "vin": truck,
                    "characteristic": "torque-M12",
                    "value": 120.0 + (k % 7) / 10,
                    "nominal": 120.0,
                    "tolerance": 5.0,
                    "unit": "Nm",
                    "operator_badge": badge,
                }
            yield Request("POST", url, headers, body)

    return client


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--stations", type=int, default=32)
    parser.add_argument("--terminals-per-station", type=int, default=1)
    parser.add_argument("--skip-baselines", action="store_true", help="measure only the station events")
    parser.add_argument(
        "--baseline-port", type=int, default=8291, help="the baselines listen on this port and the next"
    )
    args = parser.parse_args()
    clients = args.stations * args.terminals_per_station

    plant = Plant(stations=args.stations)
    print(
        f"setting up bench line {plant.line}: {args.stations} stations, one truck in progress at each ...", flush=True
    )
    await plant.build()

    results: dict[str, Run] = {}
    cpu: dict[str, CpuShare] = {}
    db = os.environ["MES_PG_URL"] + "/assembly_line"
    baselines = (
        ("baseline: empty endpoint", "bench.baselines:empty_app", args.baseline_port, "/empty"),
        ("baseline: INSERT+COMMIT", "bench.baselines:insert_app", args.baseline_port + 1, "/insert"),
    )
    for name, factory, port, path in () if args.skip_baselines else baselines:
        proc = await start_baseline(factory, port, {"BENCH_DATABASE_URL": db})
        try:
            with CpuShare({"server": proc.pid} | stack_pids()) as cpu[name]:
                results[name] = await run(
                    baseline_script(f"http://127.0.0.1:{port}{path}"),
                    clients=clients,
                    max_seconds=args.seconds,
                    warmup_requests=20,
                )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)

    print("measuring station events ...", flush=True)
    ingest_name = "station events (assembly-line)"
    with CpuShare(service_pids() | stack_pids()) as cpu[ingest_name]:
        async with PeakRss(service_pids()) as rss:
            results[ingest_name] = await run(
                station_script(plant, args.terminals_per_station),
                clients=clients,
                max_seconds=args.seconds,
                warmup_requests=20,
            )

    print(f"\nIngest, {clients} concurrent terminals, {args.seconds:.0f} s each, {os.cpu_count()} cores:")
    for name, result in results.items():
        print("  " + describe(name, result))
    ingest = results[ingest_name]
    if not args.skip_baselines:
        insert, empty = results["baseline: INSERT+COMMIT"], results["baseline: empty endpoint"]
        print(
            f"  ratio to INSERT+COMMIT: {ingest.per_second / insert.per_second:.2f}   "
            f"ratio to empty endpoint: {ingest.per_second / empty.per_second:.2f}"
        )
    print("  goals: >= 1,000 events/s, p99 < 50 ms, >= 0.5 x INSERT+COMMIT")
    print("  peak RSS during ingest: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.peaks.items()))
    # CPU time per answered request says what the rate would be with the cores to ourselves (other
    # engineers' loads share the machine): cores used / rate.
    print("  CPU ms per answered request (cores used / rate; 'other' is the rest of the machine):")
    for name, share in cpu.items():
        rate = results[name].per_second or float("nan")
        print(f"    {name}: " + ", ".join(f"{k} {1000 * v / rate:.2f}" for k, v in share.cores.items()))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
