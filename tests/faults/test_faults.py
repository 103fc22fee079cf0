"""The fault suite: the plant simulator drives its own line through all four services while a piece of the
stack is crashed or cut off, and afterwards nothing the clients were told was accepted is lost or counted
twice.

Faults (each under its own simulator run, on its own line, at a few requests a second per service):
- kill -9 of each service in turn, restarted at once;
- kill -9 of Kafka, brought back after 30 s;
- kill -9 of PostgreSQL while assembly-line is behind a 3,000-row employee import, back after 5 s;
- workforce's database refusing connections for 15 s (ALLOW_CONNECTIONS false, its sessions terminated)
  while a new line is configured in assembly-line, which workforce must still learn.

Afterwards, with deadlines instead of sleeps: the simulator's `--verify` equals reporting; every event the
services put in their outboxes is on its topic and every accepted request's events are there; every consumer's
inbox holds each of the run's events it acts on; `mes.dead-letter` has nothing new; no client saw a 5xx but a
503. Each fault's figures (load, what clients saw, recovery, accepted, lost, double-counted, dead letters) go to
.run/faults-results.json and a table at the end of the run. Recovery: from the fault until every service it
touched accepted a write again (reporting, which takes none once the plant is set up: until it was ready
again); for Kafka, which clients never see, from the broker's start until the outage's outbox backlog was
published. Double-counted: how far reporting's figures exceed the tally.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mes_shared.auth import Role, issue_token
from mes_shared.problems import retry_after_s
from mes_shared.testing import eventually, require_env
from plant_sim import scenario
from plant_sim.cli import URL_VARIABLES
from plant_sim.ids import WMI, RunIds, run_tag
from plant_sim.model import Plant
from plant_sim.requests import ASSEMBLY_LINE, KIT_RECEIVING, REPORTING, WORKFORCE
from plant_sim.runner import RunConfig, RunResult, run, window

pytestmark = pytest.mark.e2e

SCENARIO = "compact"
SEED = 20261207
PREFIX = "FAULT"
VERIFY_S = 60.0  # reporting agreeing with the tally
SETTLE_S = 60.0  # outboxes published, every inbox complete
LAG_S = 180.0  # how long the simulator resends a fact whose upstream fact has not arrived
IMPORT_ROWS = 3000


# ---- what the clients saw ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seen:
    at: float
    service: str
    status: int
    correlation_id: str | None


class Witness:
    """Every HTTP answer the clients got (the simulator's resends included), in order."""

    def __init__(self) -> None:
        self.answers: list[Seen] = []

    def __call__(self, service: str, status: int, correlation_id: str | None) -> None:
        self.answers.append(Seen(time.monotonic(), service, status, correlation_id))

    def statuses(self) -> dict[str, int]:
        return {str(k): v for k, v in sorted(Counter(a.status for a in self.answers).items())}

    def accepted(self) -> set[str]:
        """The correlation ids of the writes answered 2xx (the simulator's reads carry none)."""
        return {a.correlation_id for a in self.answers if 200 <= a.status < 300 and a.correlation_id}

    def first_accepted(self, service: str, after: float) -> float | None:
        """When the service next accepted a write after `after` (reads carry no correlation id)."""
        found = (
            a.at
            for a in self.answers
            if a.service == service and a.at > after and a.correlation_id and 200 <= a.status < 300
        )
        return next(found, None)

    def written_to_after(self, after: float) -> set[str]:
        return {a.service for a in self.answers if a.at > after and a.correlation_id}


# ---- the load: one simulator run on its own line ----------------------------------------------------


@dataclass
class Load:
    name: str
    ids: RunIds
    days: int
    clock_s: float
    witness: Witness
    setup_requests: int
    task: asyncio.Task[RunResult] | None = None
    clock_started: float = 0.0
    ended: float = 0.0

    @classmethod
    def plan(cls, name: str, *, days: int, clock_s: float) -> tuple[Load, RunConfig]:
        plant_scenario = scenario.load(SCENARIO)
        start, end = window(plant_scenario, days, datetime.now(UTC))
        run_id = f"faults-{name}-{time.time_ns()}"
        ids = RunIds(PREFIX, run_tag(SEED, run_id))
        setup = Plant(plant_scenario, ids, start=start, horizon=end, seed=SEED).setup()
        witness = Witness()
        config = RunConfig(
            scenario=plant_scenario,
            urls={service: require_env(variable) for service, variable in URL_VARIABLES.items()},
            secret=require_env("MES_AUTH_SECRET"),
            days=days,
            speed=(end - start).total_seconds() / clock_s,
            seed=SEED,
            prefix=PREFIX,
            run_id=run_id,
            verify=True,
            verify_timeout_s=VERIFY_S,
            progress_every_s=10,
            lag_deadline_s=LAG_S,
            observe=witness,
        )
        return cls(name, ids, days, clock_s, witness, len(setup)), config

    @classmethod
    async def start(cls, name: str, *, days: int, clock_s: float) -> Load:
        load, config = cls.plan(name, days=days, clock_s=clock_s)
        load.task = asyncio.create_task(run(config), name=f"load-{name}")
        try:
            await load.clock_going()
        except BaseException:
            await load.cancel()
            raise
        return load

    async def clock_going(self) -> None:
        """Wait until the set-up was answered and the plant's clock runs."""
        assert self.task is not None

        async def going() -> bool:
            if self.task is not None and self.task.done():
                self.task.result()  # the run ended during its set-up: raise what ended it
                raise AssertionError(f"the simulator run {self.ids.base} ended before its clock started")
            return len(self.witness.accepted()) > self.setup_requests + 10  # all of the set-up, then the clock's

        await eventually(going, timeout_s=120, what=f"the simulator run {self.ids.base} to start its clock")
        self.clock_started = time.monotonic()

    async def finish(self) -> RunResult:
        assert self.task is not None
        try:
            return await self.task
        finally:
            self.ended = time.monotonic()

    async def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    @property
    def markers(self) -> tuple[str, ...]:
        """What the run's events carry in their key, subject or correlation id: its ids and its VINs."""
        return (self.ids.base, f"{WMI}{self.ids.tag}")

    def token(self, subject: str, role: Role) -> str:
        return issue_token(require_env("MES_AUTH_SECRET"), subject=subject, role=role)


async def send(load: Load, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A write of the suite's own, with the patience of a terminal: resent on a dropped connection or a
    502/503/504 (after the Retry-After it names), for up to a minute."""
    url = require_env(URL_VARIABLES[service]) + path
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=60) as client:
        while True:
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
                continue
            load.witness(service, response.status_code, kwargs.get("headers", {}).get("X-Correlation-ID"))
            if response.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                return response
            await asyncio.sleep(retry_after_s(response.headers.get("Retry-After"), default_s=1.0, cap_s=10.0))


# ---- the verdict -----------------------------------------------------------------------------------

DIFFERENCE = re.compile(r": tally (-?\d+), reporting (-?\d+)$")


def counted_apart(differences: list[str]) -> tuple[int, int]:
    """(how much reporting counts more than the tally, how much less), over the numeric differences."""
    over = under = 0
    for line in differences:
        found = DIFFERENCE.search(line)
        if found:
            delta = int(found.group(2)) - int(found.group(1))
            over += max(0, delta)
            under += max(0, -delta)
    return over, under


def verdict(
    fault: str, load: Load, result: RunResult | None, audit: Any, recovery_s: float | None, detail: dict[str, Any]
) -> dict[str, Any]:
    statuses = load.witness.statuses()
    wrong = {s: n for s, n in statuses.items() if int(s) >= 500 and s != "503"}
    differences = (result.differences or []) if result is not None else ["the simulator run did not finish"]
    # Over the tally: counted twice (or the trace of a lost consumption, which leaves a kit released too).
    over, under = counted_apart(differences)
    clock = max(1e-9, (load.ended or time.monotonic()) - load.clock_started)
    failures = []
    if result is None:
        failures.append("the simulator run did not finish")
    else:
        if result.differences:
            failures.append(f"reporting differs from the tally in {len(result.differences)} figure(s)")
        if result.stats.refused or result.stats.skipped:
            shown = "; ".join(r.describe() for r in list(result.stats.refusals)[:5])
            failures.append(f"{result.stats.refused} request(s) refused, {result.stats.skipped} skipped: {shown}")
    if wrong:
        failures.append(f"clients saw {wrong}")
    if audit.unpublished:
        failures.append(f"{audit.unpublished} outbox row(s) never published")
    if audit.lost:
        failures.append(
            f"{audit.lost} lost: {audit.outbox_not_on_topic} published but not on the topic, "
            f"{len(audit.accepted_without_event)} accepted writes without an event, inboxes short {audit.not_in_inbox}"
        )
    if audit.dead_letters:
        failures.append(f"{len(audit.dead_letters)} dead letter(s): {audit.summary(audit.dead_letters)}")
    return {
        "fault": fault,
        "run": load.ids.base,
        "load": {
            "scenario": SCENARIO,
            "simulated_days": load.days,
            "requests": len(load.witness.answers),
            "requests_per_s": round(sum(1 for a in load.witness.answers if a.at >= load.clock_started) / clock, 1),
            "events": len(audit.events),
        },
        "clients": {
            "statuses": statuses,
            "503": statuses.get("503", 0),
            "refused": result.stats.refused if result else None,
            "skipped": result.stats.skipped if result else None,
            "lag_retries": result.stats.lag_retries if result else None,
        },
        "recovery_s": None if recovery_s is None else round(recovery_s, 1),
        "detail": detail,
        "accepted": {
            "requests": len(load.witness.accepted()),
            "requests_emitting_no_event": audit.accepted_emitting_nothing,
            "events": len(audit.events),
        },
        "lost": {
            "total": audit.lost + under,
            "outbox_not_on_topic": audit.outbox_not_on_topic,
            "unpublished": audit.unpublished,
            "accepted_without_event": len(audit.accepted_without_event),
            "accepted_without_event_sample": audit.accepted_without_event[:10],
            "not_in_inbox": audit.not_in_inbox,
            "reporting_under_tally": under,
        },
        "double_counted": over,
        "dead_letters": {
            "count": len(audit.dead_letters),
            "by_consumer_and_error": audit.summary(audit.dead_letters),
            "of_other_tests_consumers": audit.summary(audit.other_dead_letters),
        },
        "verify_differences": differences[:20],
        "settled_s": audit.settle_s,
        "failures": failures,
    }


async def judged(
    fault: str,
    load: Load,
    ledger: Any,
    fault_results: Any,
    recovery: Callable[[], Awaitable[float | None]],
    detail: dict[str, Any],
) -> None:
    """Wait for the run and the stack to settle, write the fault's figures down, then fail on any loss."""
    result: RunResult | None = None
    try:
        result = await load.finish()
    finally:
        audit = await ledger.settle(load.markers, load.witness.accepted(), timeout_s=SETTLE_S)
        row = verdict(fault, load, result, audit, await recovery(), detail)
        fault_results.add(row)
    assert not row["failures"], f"{fault}:\n  " + "\n  ".join(row["failures"])


# ---- the faults ------------------------------------------------------------------------------------


async def test_each_service_killed_and_restarted(pieces: Any, ledger: Any, fault_results: Any) -> None:
    load = await Load.start("services", days=3, clock_s=40)
    detail: dict[str, Any] = {}
    killed_at: dict[str, float] = {}
    try:
        for service in (KIT_RECEIVING, ASSEMBLY_LINE, WORKFORCE, REPORTING):
            killed_at[service] = await pieces.kill(service)
            restart_s = await pieces.start(service)
            ready_s = time.monotonic() - killed_at[service]
            detail[service] = {"ready_after_s": round(ready_s, 1), "restart_s": round(restart_s, 1)}
    except BaseException:
        await load.cancel()
        raise

    async def recovery() -> float | None:
        # Reporting takes no writes once the plant is set up: its clients are back when it is ready again.
        for service, killed in killed_at.items():
            back = load.witness.first_accepted(service, killed)
            detail[service]["clients_back_after_s"] = None if back is None else round(back - killed, 1)
        return max(f["clients_back_after_s"] or f["ready_after_s"] for f in detail.values())

    await judged("kill -9 each service in turn", load, ledger, fault_results, recovery, detail)


async def test_kafka_killed_for_half_a_minute(pieces: Any, ledger: Any, fault_results: Any) -> None:
    load = await Load.start("kafka", days=3, clock_s=45)
    detail: dict[str, Any] = {"down_s": 30}
    try:
        killed = await pieces.kill("kafka")
        await asyncio.sleep(30)  # the outage itself: how long the broker stays down
        backlog = await ledger.outbox_ends()
        detail["outbox_backlog"] = await ledger.unpublished(backlog)
        back = time.monotonic()
        starting = asyncio.create_task(pieces.start("kafka"))
        try:
            drained = await eventually(
                lambda: _drained(ledger, backlog), timeout_s=SETTLE_S + 60, what="the outage's outbox backlog published"
            )
        finally:
            detail["restart_s"] = round(await starting, 1)  # never two starts at once (the teardown starts too)
        detail["backlog_published_after_s"] = round(drained - back, 1)
        detail["outage_s"] = round(back - killed, 1)
    except BaseException:
        await load.cancel()
        raise

    async def recovery() -> float | None:
        return detail["backlog_published_after_s"]

    await judged("kill -9 Kafka, back after 30 s", load, ledger, fault_results, recovery, detail)


async def _drained(ledger: Any, backlog: dict[str, int]) -> float | None:
    return time.monotonic() if await ledger.unpublished(backlog) == 0 else None


async def test_postgres_killed_while_consumers_lag(pieces: Any, ledger: Any, fault_results: Any) -> None:
    load = await Load.start("postgres", days=2, clock_s=30)
    detail: dict[str, Any] = {"import_rows": IMPORT_ROWS, "down_s": 5}
    try:
        applied_before = await ledger.inbox_count("assembly-line", "assembly-line.people")
        began = time.monotonic()
        response = await send(
            load,
            WORKFORCE,
            "POST",
            "/employees/import",
            content=_employees_csv(load.ids, IMPORT_ROWS),
            headers={
                "Authorization": f"Bearer {load.token('hr-office', Role.SUPERVISOR)}",
                "Idempotency-Key": f"{load.ids.base}-import",
                "X-Correlation-ID": f"{load.ids.base}-import",
                "Content-Type": "text/csv; charset=utf-8",
            },
        )
        assert response.status_code == 200, f"the import was refused: {response.status_code} {response.text[:500]}"
        detail["import_s"] = round(time.monotonic() - began, 1)

        async def started() -> int | None:
            applied = await ledger.inbox_count("assembly-line", "assembly-line.people") - applied_before
            return applied or None

        # Kill once assembly-line has begun on the import's events, so that it is behind by most of them.
        await eventually(started, timeout_s=30, what="assembly-line to begin on the import")
        killed = await pieces.kill("postgres")
        killed_at = datetime.now(UTC)
        await asyncio.sleep(5)  # the outage itself
        detail["restart_s"] = round(await pieces.start("postgres"), 1)
        lifted = time.monotonic()
        applied = await ledger.inbox_count("assembly-line", "assembly-line.people", killed_at) - applied_before
        detail["people_events_applied_before_kill"] = applied  # the import's and the plant's own
    except BaseException:
        await load.cancel()
        raise

    async def recovery() -> float | None:
        backs = {s: load.witness.first_accepted(s, lifted) for s in sorted(load.witness.written_to_after(lifted))}
        detail["clients_back_after_s"] = {s: None if b is None else round(b - killed, 1) for s, b in backs.items()}
        return max(((b or load.ended) - killed for b in backs.values()), default=None)

    await judged("kill -9 PostgreSQL behind a 3,000-row import", load, ledger, fault_results, recovery, detail)


def _employees_csv(ids: RunIds, rows: int) -> bytes:
    """HR's import of idle transferred staff, with ids outside the simulator's own people (whose headcount
    it verifies by the prefix `<base>-`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["employee_id", "badge_id", "name", "origin", "status", "status_since"])
    since = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
    for n in range(1, rows + 1):
        writer.writerow(
            [f"{ids.base}I-E{n:05d}", f"{ids.base}I-B{n:05d}", f"Imported {n}", "transferred", "idle", since]
        )
    return out.getvalue().encode()


async def test_a_database_refusing_connections(pieces: Any, ledger: Any, fault_results: Any) -> None:
    load = await Load.start("refusing", days=2, clock_s=30)
    line = f"{load.ids.base}-LX"
    detail: dict[str, Any] = {"database": "workforce", "refused_s": 15, "line_configured_meanwhile": line}
    try:
        refused = time.monotonic()
        await pieces.refuse_connections(WORKFORCE)
        # A new line while workforce cannot write: it must still learn it from the stations topic.
        response = await send(
            load,
            ASSEMBLY_LINE,
            "PUT",
            f"/lines/{line}",
            json={"name": "fault suite line", "stations": [{"station_id": f"{line}-S1", "name": "only station"}]},
            headers={
                "Authorization": f"Bearer {load.token('line-supervisor', Role.SUPERVISOR)}",
                "Idempotency-Key": line,
                "X-Correlation-ID": line,
            },
        )
        assert response.status_code in (200, 201), f"configuring {line}: {response.status_code} {response.text[:500]}"
        await asyncio.sleep(max(0.0, 15 - (time.monotonic() - refused)))  # the outage itself
        await pieces.accept_connections(WORKFORCE)
        lifted = time.monotonic()
    except BaseException:
        await load.cancel()
        raise

    async def recovery() -> float | None:
        back = load.witness.first_accepted(WORKFORCE, lifted)
        return (back or load.ended) - refused

    await judged("workforce's database refusing connections for 15 s", load, ledger, fault_results, recovery, detail)
