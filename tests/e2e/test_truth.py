"""The truth test: a compressed multi-day run of the plant simulator through all four services, on the real
broker and database, after which reporting's figures equal the simulator's own tally exactly.

The simulator (plant_sim) drives kit-receiving, workforce, assembly-line and reporting only through their
public HTTP APIs, as the plant's users do, over a past window of a little more than two days run at three
simulated days a minute, and counts what it did from the actions the APIs accepted. Reporting is then
polled (with a deadline, never a fixed sleep) until its output per day and per shift, WIP, first-pass
yield, kits by status and headcount by origin and status for the run's own line, kit types and people
equal the tally; on a deadline the test fails with every difference named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mes_shared.testing import require_env
from plant_sim import scenario, verify
from plant_sim.cli import URL_VARIABLES
from plant_sim.runner import RunConfig, run
from plant_sim.scenario import Range, Scenario

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


async def test_reporting_equals_what_the_simulated_plant_did(tmp_path: Path) -> None:
    config = RunConfig(
        scenario=truth_scenario(),
        urls={service: require_env(variable) for service, variable in URL_VARIABLES.items()},
        secret=require_env("MES_AUTH_SECRET"),
        days=DAYS,
        speed=SPEED,
        seed=SEED,
        prefix="TRUTH",
        verify=True,
        verify_timeout_s=120,
        progress_every_s=15,
        tally_json=tmp_path / "tally.json",
    )
    result = await run(config)
    tally = result.tally

    assert result.backdated_kits, (
        "kit-receiving records ASNs, claim decisions and releases at its own clock (no announced_at, resolved_at, "
        "released_at): the simulated kits would be released after the trucks that consumed them"
    )
    refusals = "\n  ".join(r.describe() for r in result.stats.refusals)
    assert result.stats.refused == 0, f"{result.stats.refused} action(s) refused:\n  {refusals}"
    assert result.stats.skipped == 0
    assert tally.started > 0 and tally.completed > 0, tally.as_json()["trucks"]  # the run built trucks
    holds = [(vin, station) for vin, station, *_ in tally.hold_spans()]
    assert tally.sent_back and any(holds.count(h) > 1 for h in holds), "no truck was held twice at a station"
    assert tally.late_scans, "no leaver's scan was entered after the leave"
    assert any(  # an instant inside the first hold of a truck held twice is among those compared
        since < at < until
        for at in verify.instants(tally)
        for vin, station, since, until in tally.hold_spans()
        if until is not None and holds.count((vin, station)) > 1
    )
    assert result.differences == [], (
        f"reporting differs from the simulator's tally of run {result.ids.base} "
        f"(tally in {config.tally_json}):\n  " + "\n  ".join(result.differences or [])
    )
