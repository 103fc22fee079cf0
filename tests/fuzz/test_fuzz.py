"""schemathesis against the four services `./mes up` started, each along its own OpenAPI document.

Every request carries a token of a role the operation allows (hooks.py); every answer must be no server error,
a documented status with a documented content type, documented headers and a body matching its schema
(schemathesis.toml: the checks, the seed, the budget). It writes only to what is its own: every id a write names
gets its FUZZ- prefix (hooks.py), its terminal has a station of its own, and the few writes that are plant-wide
by nature (reporting's rebuild, the recall goal and recalls, which count toward it) are left out. It runs after
the other e2e tests (tests/fuzz sorts after tests/e2e).

Figures of a run: `./mes test tests/fuzz -s` prints them per service.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mes_shared.testing import require_env

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
# A run past this is stopped and fails: CI's budget for fuzzing is a few minutes.
DEADLINE_S = 480


@dataclass(frozen=True)
class Run:
    service: str
    report: dict[str, Any] | None
    statuses: dict[str, dict[str, int]]  # per operation ("GET /kits"), per status answered: how many
    output: str

    @property
    def requests(self) -> int:
        return sum(n for by_status in self.statuses.values() for n in by_status.values())

    def figures(self) -> str:
        assert self.report is not None
        failures = ", ".join(f"{f['code']} {f['title']}: {f['count']}" for f in self.report["failures"]) or "none"
        return (
            f"{self.service}: {self.report['operations']['tested']} operations, {self.requests} requests, "
            f"{self.report['running_time']:.0f} s, failures: {failures}"
        )

    def failures_section(self) -> str:
        start = self.output.find(" FAILURES ")
        return self.output[start:] if start >= 0 else self.output[-6000:]


@pytest.fixture(scope="module")
async def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every service fuzzed at the same time: one schemathesis process each keeps both cores busy. Awaited, not
    blocked on: the session's event loop keeps serving whatever else lives on it (Kafka clients of other tests)."""
    workdir = tmp_path_factory.mktemp("fuzz")
    return dict(zip(SERVICES, await asyncio.gather(*(fuzz(service, workdir) for service in SERVICES)), strict=True))


async def fuzz(service: str, workdir: Path) -> Run:
    url = require_env(f"MES_{service.upper().replace('-', '_')}_URL")
    report, statuses = workdir / f"{service}.json", workdir / f"{service}-statuses.json"
    env = os.environ | {"SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"), "MES_FUZZ_TALLY": str(statuses)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"{url}/openapi.json", "--no-color", "--report", "json", "--report-json-path", str(report),
        cwd=workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    except TimeoutError:
        process.kill()
        output = (await process.communicate())[0] + f"\n(stopped: past the {DEADLINE_S} s deadline)".encode()
    return Run(
        service,
        json.loads(report.read_text()) if report.exists() else None,
        json.loads(statuses.read_text()) if statuses.exists() else {},
        output.decode(errors="replace"),
    )


@pytest.mark.parametrize("service", SERVICES)
async def test_every_answer_is_what_the_contract_says(runs: dict[str, Run], service: str) -> None:
    run = runs[service]
    assert run.report is not None and run.report["complete"], run.output[-6000:]
    print(run.figures())
    refused = {op: by_status for op, by_status in run.statuses.items() if {"401", "403"} & by_status.keys()}
    assert not refused, f"the fuzzer's tokens were refused, so it tested nothing behind them: {refused}"
    assert run.report["operations"]["tested"] == run.report["operations"]["selected"], run.report["operations"]
    assert not run.report["errors"], run.output[-6000:]
    assert not run.report["failures"], run.figures() + "\n" + run.failures_section()
