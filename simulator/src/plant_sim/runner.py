"""One run: set the plant up, then drive the simulated clock over a past window toward now, compressed.

The services refuse facts from the future, so the run simulates a window that ends now: its clock starts at
local midnight `days` days ago and runs `speed` times faster than real time (1440: a day a minute) until it
reaches the moment the run started. In demo mode it then keeps going at real time, a little behind the
wall clock, until stopped. Every fact carries its simulated time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mes_shared.auth import Role, issue_token
from plant_sim import verify
from plant_sim.api import Api, Observer
from plant_sim.driver import Driver, DriverStats
from plant_sim.ids import RunIds, run_tag
from plant_sim.model import Plant
from plant_sim.progress import Progress
from plant_sim.requests import KIT_RECEIVING, REPORTING
from plant_sim.scenario import Scenario
from plant_sim.tally import Tally

LIVE_MARGIN = timedelta(seconds=2)  # in demo mode the clock stays this far behind the wall clock


@dataclass
class RunConfig:
    scenario: Scenario
    urls: dict[str, str]
    secret: str
    days: int = 3
    speed: float = 1440.0
    seed: int = 1
    demo: bool = False
    prefix: str = "SIM"
    run_id: str | None = None
    concurrency: int = 16
    tally_json: Path | None = None
    verify: bool = False
    verify_timeout_s: float = 180.0
    # Also compare the views as of past instants. Off by default: when an upstream fact lags (a broker outage),
    # assembly-line judges a truck's arrival by the kit as it knows it when the arrival comes, not as of the
    # arrival's time, so a truck whose part's replacement overtook its arrival is never held (simulator/README.md).
    verify_as_of: bool = False
    progress_every_s: float | None = None
    quiet: bool = False
    lag_deadline_s: float = 300.0  # how long a fact whose upstream fact has not arrived yet is sent again
    observe: Observer | None = None  # told of every HTTP answer (the fault suite counts what clients saw)


@dataclass
class RunResult:
    ids: RunIds
    tally: Tally
    stats: DriverStats
    started_at: datetime
    window_start: datetime
    window_end: datetime
    wall_s: float
    setup_s: float
    stopped: bool = False
    backdated_kits: bool = True
    differences: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        days = max(1e-9, (self.window_end - self.window_start).total_seconds() / 86400)
        return {
            "run": {
                "tag": self.ids.tag,
                "base": self.ids.base,
                "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat(),
                "started_at": self.started_at.isoformat(),
                "wall_seconds": round(self.wall_s, 1),
                "setup_seconds": round(self.setup_s, 1),
                "wall_seconds_per_simulated_day": round((self.wall_s - self.setup_s) / days, 2),
                "requests_sent": self.stats.sent,
                "requests_by_service": dict(sorted(self.stats.requests_by_service.items())),
                "mean_ms_by_service": self.stats.mean_ms_by_service(),
                "lag_retries_by_rule": dict(self.stats.lag_by_rule.most_common()),
                "refusals": [r.describe() for r in self.stats.refusals],
                "backdated_kit_decisions": self.backdated_kits,
                "stopped_early": self.stopped,
                "notes": self.notes,
            },
            "tally": self.tally.as_json(),
            "verification": None
            if self.differences is None
            else {"equal": not self.differences, "differences": self.differences},
        }


def _body_fields(spec: dict[str, Any], path: str) -> set[str]:
    """Property names of the JSON body a POST to `path` takes, per the service's OpenAPI document."""
    schemas = spec.get("components", {}).get("schemas", {})
    body = json.dumps(spec.get("paths", {}).get(path, {}).get("post", {}).get("requestBody", {}))
    return {
        f
        for name, schema in schemas.items()
        if f'"#/components/schemas/{name}"' in body
        for f in schema.get("properties", {})
    }


async def kit_facts_take_a_time(api: Api) -> bool:
    """Does kit-receiving take the time of an ASN, a discrepancy decision and a release (`announced_at`,
    `resolved_at`, `released_at`), as it takes a receipt's? Without it those facts happen 'now', after the
    simulated past in which the kits were received and consumed, and reporting's kit statuses go wrong."""
    spec = await api.openapi(KIT_RECEIVING)
    return (
        "announced_at" in _body_fields(spec, "/shipments")
        and "resolved_at" in _body_fields(spec, "/kits/{serial}/discrepancies/{discrepancy_id}/resolution")
        and "released_at" in _body_fields(spec, "/kits/{serial}/release")
    )


def dashboard_link(config: RunConfig, line_id: str) -> str:
    """Reporting's wall-screen dashboard for the run's line, with a read-only (manager) token in the URL."""
    token = issue_token(config.secret, subject="plant-simulator-dashboard", role=Role.MANAGER, ttl=timedelta(days=7))
    base = config.urls[REPORTING].rstrip("/")
    return f"{base}/dashboard?{urlencode({'line': line_id, 'token': token})}"


def window(scenario: Scenario, days: int, now: datetime) -> tuple[datetime, datetime]:
    """The simulated window: from local midnight `days` days before today to `now`."""
    probe = scenario.calendar.plant_calendar(valid_from=now.date())
    first_day = probe.local_date(now) - timedelta(days=days)
    return probe.day_start(first_day), now


async def run(
    config: RunConfig, *, people: verify.HeadcountScope | None = None, stop: asyncio.Event | None = None
) -> RunResult:
    """Run the scenario; `stop` (set by a signal, say) ends it early but cleanly."""
    stop = stop or asyncio.Event()
    started_at = datetime.now(UTC).replace(microsecond=0)
    t0 = time.monotonic()
    start, end = window(config.scenario, config.days, started_at)
    ids = RunIds(config.prefix, run_tag(config.seed, config.run_id or f"{started_at.isoformat()}-{time.time_ns()}"))
    plant = Plant(config.scenario, ids, start=start, horizon=end, seed=config.seed)
    setup_actions = plant.setup()
    calendar = plant.world.calendar
    tally = Tally(
        calendar=calendar,
        line_id=plant.line_id,
        kit_types=tuple(plant.kits.type_seqs),
        first_day=plant.world.first_day,
    )
    progress = Progress(calendar, every_s=config.progress_every_s, quiet=config.quiet)
    api = Api(config.urls, config.secret, max_connections=max(8, config.concurrency * 2), observe=config.observe)
    notes: list[str] = []
    try:
        progress.say(f"plant simulator: scenario {config.scenario.name}, seed {config.seed}, run {ids.base}")
        await api.wait_ready()
        backdated = await kit_facts_take_a_time(api)
        if not backdated:
            note = (
                "kit-receiving does not take announced_at/resolved_at/released_at: ASNs, claim decisions and releases "
                "get the server's time, after the simulated past in which the kits were received and consumed; "
                "reporting's kit figures will not match the tally (see simulator/README.md)"
            )
            notes.append(note)
            progress.say(f"WARNING: {note}")
        if people is None and config.verify:
            people = await verify.headcount_scope(api, f"{ids.base}-", calendar.local_date(end).isoformat())
        driver = Driver(
            api,
            ids,
            tally,
            concurrency=config.concurrency,
            lag_deadline_s=config.lag_deadline_s,
            backdated_kits=backdated,
            on_refusal=progress.refusal,
        )
        progress.say(
            f"line {plant.line_id}: window {start.astimezone(calendar.zone):%Y-%m-%d %H:%M} to "
            f"{end.astimezone(calendar.zone):%Y-%m-%d %H:%M} {calendar.time_zone}, x{config.speed:g}"
            + (", then live (demo)" if config.demo else "")
        )
        for action in setup_actions:
            await driver.submit(action)
        await driver.drain()
        setup_s = time.monotonic() - t0
        if driver.stats.refused or driver.stats.skipped:
            raise SetupRefused(list(driver.stats.refusals))
        progress.say(f"set up in {setup_s:.1f} s ({len(setup_actions)} requests); the clock starts")
        progress.say(f"dashboard: {dashboard_link(config, plant.line_id)}")
        stopped = await _drive(plant, driver, tally, progress, config, start, end, stop)
        await driver.drain()
        progress.update(phase="done", sim=tally.last_at, tally=tally, stats=driver.stats, force=True)
        progress.close()
        result = RunResult(
            ids, tally, driver.stats, started_at, start, end, time.monotonic() - t0, setup_s, stopped, backdated
        )
        result.notes = notes
        if config.verify:
            figures = verify.count(verify.expected_all(tally, as_of=config.verify_as_of))
            progress.say(f"waiting for reporting to agree with the tally ({figures} figures) ...")
            assert people is not None
            result.differences = await verify.compare(
                api, tally, people, timeout_s=config.verify_timeout_s, as_of=config.verify_as_of
            )
        if config.tally_json is not None:
            config.tally_json.write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
        return result
    finally:
        await api.close()


class SetupRefused(Exception):
    def __init__(self, refusals: list[Any]) -> None:
        super().__init__(
            "the plant could not be set up:\n" + "\n".join(f"  {r.describe()}" for r in refusals)
            or "set-up actions were skipped"
        )


async def _drive(
    plant: Plant,
    driver: Driver,
    tally: Tally,
    progress: Progress,
    config: RunConfig,
    start: datetime,
    end: datetime,
    stop: asyncio.Event,
) -> bool:
    """Advance the model with the clock; True when stopped by a signal before the end."""
    real_start = time.monotonic()
    calendar, first_day = plant.world.calendar, plant.world.first_day
    total_days = (calendar.local_date(end) - first_day).days + 1

    def target() -> datetime:
        sim = start + timedelta(seconds=(time.monotonic() - real_start) * config.speed)
        if config.demo:
            return min(sim, datetime.now(UTC) - LIVE_MARGIN)
        return min(sim, end)

    live = False
    while not stop.is_set():
        now = target()
        for action in plant.advance(now):
            await driver.submit(action)
            if stop.is_set():
                return True
        caught_up = now >= end
        if caught_up and not config.demo:
            return False
        if caught_up and not live:
            live = True
            progress.say("caught up with the wall clock: the plant runs on in real time (Ctrl-C stops)")
        day = (calendar.local_date(now) - first_day).days + 1
        oldest = driver.oldest_pending()
        behind = (now - oldest).total_seconds() if oldest is not None else 0.0
        progress.update(
            phase="live" if live else "catching up",
            sim=now,
            tally=tally,
            stats=driver.stats,
            day=(day, total_days) if not live else None,
            speed=1 if live else config.speed,
            behind_s=behind,
        )
        following = plant.next_time()
        pause = 0.5
        if following is not None:
            speed = 1.0 if live else config.speed
            pause = min(pause, max(0.005, (following - now).total_seconds() / speed))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
    return True
