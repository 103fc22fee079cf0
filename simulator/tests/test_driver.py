"""The driver keeps each key's order, waits for required actions, skips what could only be refused, sends a
lagging fact again until its upstream fact arrived, and counts refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from plant_sim.actions import Action, Kind
from plant_sim.api import Answer
from plant_sim.calendar import PlantCalendar, ShiftPattern
from plant_sim.driver import Driver
from plant_sim.ids import RunIds
from plant_sim.requests import Call
from plant_sim.tally import Tally

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)
CAL = PlantCalendar(
    time_zone="UTC",
    working_days=frozenset(range(1, 8)),
    holidays=frozenset(),
    shifts=(ShiftPattern("A", time(6), time(14)),),
    valid_from=date(2026, 1, 1),
)


class FakeApi:
    """Answers by the Idempotency-Key / terminal event id; records the order calls arrive in."""

    def __init__(self, answers: dict[int, list[Answer]] | None = None, delay: float = 0.0) -> None:
        self.answers = answers or {}
        self.delay = delay
        self.seen: list[int] = []

    async def send(self, call: Call, *, correlation_id: str | None = None) -> Answer:
        assert correlation_id is not None
        seq = int(correlation_id.rsplit("-", 1)[1])
        await asyncio.sleep(self.delay if seq % 2 else 0)
        self.seen.append(seq)
        queue = self.answers.get(seq)
        return queue.pop(0) if queue else Answer(201, {})


def action(seq: int, key: str, *requires: int) -> Action:
    return Action(seq, T0 + timedelta(seconds=seq), Kind.RELEASE_KIT, key, {"serial": f"K{seq}"}, requires)


async def drive(api: FakeApi, actions: list[Action], **options: Any) -> tuple[Driver, Tally]:
    tally = Tally(calendar=CAL, line_id="L", kit_types=(), first_day=T0.date())
    driver = Driver(api, RunIds("SIM", "ABC123"), tally, lag_deadline_s=2, **options)  # type: ignore[arg-type]
    tally_kits_known(tally, actions)
    for a in actions:
        await driver.submit(a)
    await driver.drain()
    return driver, tally


def tally_kits_known(tally: Tally, actions: list[Action]) -> None:
    shipment = Action(
        0, T0, Kind.ANNOUNCE_SHIPMENT, "s", {"kits": [{"serial": a.data["serial"], "kit_type": "KT"} for a in actions]}
    )
    tally.accept(shipment, {})
    for a in actions:
        tally.accept(Action(0, T0, Kind.RECEIVE_KIT, "s", {"serial": a.data["serial"], "discrepancies": []}), {})


async def test_actions_on_one_key_run_in_order_and_keys_run_side_by_side() -> None:
    api = FakeApi(delay=0.05)
    actions = [action(1, "a"), action(2, "a"), action(3, "a"), action(4, "b")]
    driver, _ = await drive(api, actions)
    assert [s for s in api.seen if s in (1, 2, 3)] == [1, 2, 3]
    assert api.seen.index(4) < api.seen.index(3)  # b did not wait for a's slow ones
    assert driver.stats.accepted == 4


async def test_a_refused_requirement_skips_what_depends_on_it() -> None:
    refused = Answer(409, {"status": 409, "rule": "kit.release.not-received", "detail": "no"})
    api = FakeApi({1: [refused]})
    driver, tally = await drive(api, [action(1, "a"), action(2, "b", 1), action(3, "c")])
    assert (driver.stats.refused, driver.stats.skipped, driver.stats.accepted) == (1, 1, 1)
    assert sorted(api.seen) == [1, 3]
    assert driver.stats.refusals[0].rule == "kit.release.not-received"
    assert sum(tally.refused.values()) == 1 and sum(tally.skipped.values()) == 1
    assert tally.kits_by_status() == {"received": 2, "released": 1}


async def test_a_lagging_read_model_is_waited_for_not_counted_as_a_refusal() -> None:
    lag = Answer(409, {"status": 409, "rule": "operator.not-clocked-in", "retryable": True, "detail": "not yet"})
    named = Answer(409, {"status": 409, "rule": "kit.not-released", "detail": "not yet"})
    api = FakeApi({1: [lag, lag], 2: [named]})
    lagging = Action(2, T0, Kind.RELEASE_KIT, "b", {"serial": "K2"}, (), frozenset({"kit.not-released"}))
    driver, _ = await drive(api, [action(1, "a"), lagging])
    assert (driver.stats.accepted, driver.stats.refused, driver.stats.lag_retries) == (2, 0, 3)
    assert driver.stats.lag_by_rule == {"operator.not-clocked-in": 2, "kit.not-released": 1}


async def test_a_lag_that_does_not_end_is_a_refusal_after_the_deadline() -> None:
    lag = Answer(409, {"status": 409, "rule": "operator.not-clocked-in", "retryable": True, "detail": "never"})
    api = FakeApi({1: [lag] * 1000})
    loop = asyncio.get_running_loop()
    started = loop.time()
    driver, _ = await drive(api, [action(1, "a")])
    assert driver.stats.refused == 1 and 2 <= loop.time() - started < 5
