"""python -m plant_sim: run the plant against the services, print a scenario, or plan a run offline.

  python -m plant_sim run [--days N] [--speed S] [--seed N] [--scenario FILE|NAME] [--demo]
                          [--tally-json FILE] [--verify] [--verify-as-of] [--prefix P] [--run-id ID] [--concurrency N]
  python -m plant_sim scenario [NAME]        print a built-in scenario (first-plant, compact)
  python -m plant_sim plan [--days N] [--seed N] [--scenario FILE|NAME]   what a run would do, without services

Service URLs and the signing secret come from the environment, as `./mes up` writes them to .run/env:
MES_KIT_RECEIVING_URL, MES_WORKFORCE_URL, MES_ASSEMBLY_LINE_URL, MES_REPORTING_URL, MES_AUTH_SECRET.
Exit status: 0 done; 1 refusals or (with --verify) reporting disagreeing with the tally; 2 bad arguments or
scenario; 3 a service unavailable or the set-up refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from plant_sim import scenario as scenarios
from plant_sim.api import ServiceUnavailable
from plant_sim.ids import PREFIX_PATTERN, RunIds, run_tag
from plant_sim.model import Plant
from plant_sim.requests import ASSEMBLY_LINE, KIT_RECEIVING, REPORTING, WORKFORCE
from plant_sim.runner import RunConfig, SetupRefused, run, window

URL_VARIABLES = {
    KIT_RECEIVING: "MES_KIT_RECEIVING_URL",
    WORKFORCE: "MES_WORKFORCE_URL",
    ASSEMBLY_LINE: "MES_ASSEMBLY_LINE_URL",
    REPORTING: "MES_REPORTING_URL",
}
DEFAULT_PORTS = {KIT_RECEIVING: 8101, ASSEMBLY_LINE: 8102, WORKFORCE: 8103, REPORTING: 8104}


def _positive(kind: type[float] | type[int]) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


def _prefix(text: str) -> str:
    if not PREFIX_PATTERN.match(text):
        raise argparse.ArgumentTypeError(f"1-12 capitals and digits, starting with a capital, got {text!r}")
    return text


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m plant_sim", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scenario", default=None, help="a built-in name or a YAML/JSON file (default first-plant)")
        p.add_argument("--days", type=_positive(int), default=3, help="days of history to simulate (default 3)")
        p.add_argument("--seed", type=int, default=1, help="the random seed: the same seed, the same plant")

    r = commands.add_parser("run", help="drive the services through their APIs")
    common(r)
    r.add_argument(
        "--speed", type=_positive(float), default=1440.0, help="simulated seconds per second (1440: a day a minute)"
    )
    r.add_argument("--demo", action="store_true", help="after catching up with now, keep running in real time")
    r.add_argument("--tally-json", type=Path, default=None, help="write the tally and run figures to this file")
    r.add_argument("--verify", action="store_true", help="afterwards, wait for reporting and compare it with the tally")
    r.add_argument(
        "--verify-as-of", action="store_true", help="with --verify, compare the views as of past instants too"
    )
    r.add_argument("--verify-timeout", type=_positive(float), default=180.0, help="seconds to wait for reporting")
    r.add_argument("--prefix", type=_prefix, default="SIM", help="first part of every id the run creates (default SIM)")
    r.add_argument("--run-id", default=None, help="a fixed run id (default: new for every run); ids derive from it")
    r.add_argument("--concurrency", type=_positive(int), default=16, help="requests in flight at once (default 16)")
    r.add_argument("--progress-every", type=_positive(float), default=None, help="seconds between progress lines")
    r.add_argument("--quiet", action="store_true", help="no progress lines (refusals are still printed)")

    s = commands.add_parser("scenario", help="print a built-in scenario")
    s.add_argument("name", nargs="?", default=scenarios.DEFAULT, choices=scenarios.BUILTIN)

    p = commands.add_parser("plan", help="run the plant model only (no services) and count what it would do")
    common(p)
    return top


def _say(text: str, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def service_urls(env: dict[str, str]) -> dict[str, str]:
    return {s: env.get(var) or f"http://127.0.0.1:{DEFAULT_PORTS[s]}" for s, var in URL_VARIABLES.items()}


def _plan(args: argparse.Namespace) -> int:
    scenario = scenarios.load(args.scenario)
    start, end = window(scenario, args.days, datetime.now(UTC))
    plant = Plant(scenario, RunIds("PLAN", run_tag(args.seed, "plan")), start=start, horizon=end, seed=args.seed)
    setup = plant.setup()
    actions = plant.advance(end)
    kinds = Counter(a.label.split("@")[0] for a in [*setup, *actions])
    cal = plant.world.calendar
    per_day = Counter(cal.local_date(a.at).isoformat() for a in actions if a.data.get("end_of_line"))
    _say(
        json.dumps(
            {
                "window": [start.isoformat(), end.isoformat()],
                "requests": len(setup) + len(actions),
                "by_action": dict(sorted(kinds.items())),
                "completed_per_day": dict(sorted(per_day.items())),
                "line": vars(plant.line.stats) | {"wip": plant.line.stats.wip},
                "people": vars(plant.people.stats),
            },
            indent=2,
        )
    )
    return 0


async def _run(args: argparse.Namespace) -> int:
    secret = os.environ.get("MES_AUTH_SECRET")
    if not secret:
        _say("MES_AUTH_SECRET is not set: load ./mes up's environment first (set -a; . .run/env; set +a)", error=True)
        return 2
    config = RunConfig(
        scenario=scenarios.load(args.scenario),
        urls=service_urls(dict(os.environ)),
        secret=secret,
        days=args.days,
        speed=args.speed,
        seed=args.seed,
        demo=args.demo,
        prefix=args.prefix,
        run_id=args.run_id,
        concurrency=args.concurrency,
        tally_json=args.tally_json,
        verify=args.verify,
        verify_as_of=args.verify_as_of,
        verify_timeout_s=args.verify_timeout,
        progress_every_s=args.progress_every,
        quiet=args.quiet,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        result = await run(config, stop=stop)
    except ServiceUnavailable as exc:
        _say(f"error: {exc}", error=True)
        return 3
    except SetupRefused as exc:
        _say(f"error: {exc}", error=True)
        return 3
    summary = result.summary()
    _say(json.dumps(summary, indent=2))
    if result.differences:
        _say("reporting differs from the tally:\n  " + "\n  ".join(result.differences), error=True)
        return 1
    return 1 if result.stats.refused or result.stats.skipped else 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "scenario":
            sys.stdout.write(scenarios.builtin_text(args.name))
            return 0
        if args.command == "plan":
            return _plan(args)
        return asyncio.run(_run(args))
    except scenarios.ScenarioError as exc:
        _say(f"error: {exc}", error=True)
        return 2
