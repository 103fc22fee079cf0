"""The truth test: compressed multi-day runs of the plant simulator through all four services, on the real
broker and database, after which reporting's figures equal the simulator's own tally exactly.

The simulator (plant_sim) drives kit-receiving, workforce, assembly-line and reporting only through their
public HTTP APIs, as the plant's users do, over a past window of three days and today up to now, run at three
simulated days a minute, and counts what it did from the actions the APIs accepted. Two plants run at once:
the compact plant in Europe/Warsaw, with build-short trucks waiting for their parts (one sent back for rework
while it waits, so it is held twice at the same station), leavers whose last scans reach workforce after the
leave, and past qualifications from a training record; and a night line of its own in America/Chicago, one
shift from 22:00 to 06:00 and a holiday. Reporting is then polled (with a deadline, never a fixed sleep) until
every figure plant_sim.verify reads equals the tally, now and as of several past instants (one inside the first
hold of the truck held twice); on a deadline the test fails with every difference named. simulator/README.md
lists the figures compared.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mes_shared.testing import require_env
from plant_sim import scenario, verify
from plant_sim.cli import URL_VARIABLES
from plant_sim.runner import RunConfig, RunResult, run
from plant_sim.scenario import BreakSpec, CalendarSpec, Range, Scenario, ShiftSpec

pytestmark = pytest.mark.e2e

DAYS = 3  # whole days before today, plus today up to now (a leave chosen on day 2 is recorded on day 3)
SPEED = 4320.0  # three simulated days a minute
SEED = 20260101


def truth_scenario() -> Scenario:
    """The compact plant with more build-short kits, their parts late enough that trucks wait for them, and a
    supervisor who sends a waiting truck back for rework: it is held twice at the same station."""
    base = scenario.load("compact")
    discrepancies = base.kits.discrepancies.model_copy(
        update={"rate": 0.35, "shortage_share": 1.0, "build_short_share": 1.0, "replacement_days": Range(low=1, high=2)}
    )
    return base.model_copy(
        update={
            "name": "truth",
            "production": base.production.model_copy(update={"rework_held_share": 1.0}),
            "kits": base.kits.model_copy(update={"discrepancies": discrepancies}),
            "people": base.people.model_copy(
                update={"leavers_per_month": 45, "leavers_last_scans_late": True, "history_grants": 4}
            ),
        }
    )


def night_scenario() -> Scenario:
    """The compact plant as a line of its own in America/Chicago working one night shift across midnight, with
    the window's second day a holiday (no night shift starts on it; the one before it ends on it)."""
    base = scenario.load("compact")
    zone = "America/Chicago"
    holiday = datetime.now(UTC).astimezone(ZoneInfo(zone)).date() - timedelta(days=DAYS - 1)
    calendar = CalendarSpec(
        time_zone=zone,
        working_days=[1, 2, 3, 4, 5, 6, 7],
        holidays=[holiday],
        shifts=[ShiftSpec(code="N", start=time(22), end=time(6), breaks=[BreakSpec(start=time(2), end=time(2, 30))])],
    )
    line = base.line.model_copy(update={"id": "N1", "name": "Night truck line"})
    return base.model_copy(update={"name": "night", "calendar": calendar, "line": line})


def _config(spec: Scenario, prefix: str, tmp_path: Path) -> RunConfig:
    return RunConfig(
        scenario=spec,
        urls={service: require_env(variable) for service, variable in URL_VARIABLES.items()},
        secret=require_env("MES_AUTH_SECRET"),
        days=DAYS,
        speed=SPEED,
        seed=SEED,
        prefix=prefix,
        verify=True,
        verify_as_of=True,
        verify_timeout_s=150,
        progress_every_s=15,
        tally_json=tmp_path / f"{prefix.lower()}-tally.json",
    )


def _assert_true(result: RunResult, config: RunConfig) -> None:
    tally = result.tally
    assert result.backdated_kits, (
        "kit-receiving records ASNs, claim decisions and releases at its own clock (no announced_at, resolved_at, "
        "released_at): the simulated kits would be released after the trucks that consumed them"
    )
    refusals = "\n  ".join(r.describe() for r in result.stats.refusals)
    assert result.stats.refused == 0, f"{result.stats.refused} action(s) refused:\n  {refusals}"
    assert result.stats.skipped == 0
    assert tally.started > 0 and tally.completed > 0, tally.as_json()["trucks"]  # the run built trucks
    assert result.differences == [], (
        f"reporting differs from the simulator's tally of run {result.ids.base} "
        f"(tally in {config.tally_json}):\n  " + "\n  ".join(result.differences or [])
    )


async def test_reporting_equals_what_the_simulated_plants_did(tmp_path: Path) -> None:
    day_config, night_config = (
        _config(truth_scenario(), "TRUTH", tmp_path),
        _config(night_scenario(), "NIGHT", tmp_path),
    )
    day, night = await asyncio.gather(run(day_config), run(night_config))
    _assert_true(day, day_config)
    _assert_true(night, night_config)

    tally = day.tally
    holds = [(vin, station) for vin, station, *_ in tally.hold_spans()]
    assert tally.sent_back and any(holds.count(h) > 1 for h in holds), "no truck was held twice at a station"
    assert tally.late_scans, "no leaver's scan was entered after the leave"
    assert any(  # an instant inside the first hold of a truck held twice is among those compared
        since < at < until
        for at in verify.instants(tally)
        for vin, station, since, until in tally.hold_spans()
        if until is not None and holds.count((vin, station)) > 1
    )
    at = verify.instants(tally)
    expiring = [verify.expected_as_of(tally, when)["expiring"] for when in at]
    assert any(any(items) for items in expiring[0].values()), "no qualification expiring as of the first instant"
    # the night line's shift crosses midnight: what it completes after midnight counts on the next local day but
    # in the shift of the day it started
    nights = night.tally
    assert nights.per_shift and not nights.completed_outside_shifts
    assert any(nights.per_day.get(d, 0) != nights.per_shift.get(f"{d.isoformat()} N", 0) for d in nights.days())
