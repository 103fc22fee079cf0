"""Reporting's figures beside the tally's: every difference is named by where it is."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from plant_sim.calendar import PlantCalendar, ShiftPattern
from plant_sim.runner import window
from plant_sim.scenario import load
from plant_sim.tally import Tally
from plant_sim.verify import _kit_figures, _running, differences, expected, expected_all


def test_differences_name_the_place_and_both_values() -> None:
    want = {"wip": 3, "output_per_day": {"2026-01-05": 2, "2026-01-06": 0}, "kits": {"KT": {"released": 2}}}
    got = {"wip": 3, "output_per_day": {"2026-01-05": 1}, "kits": {"KT": {"released": 2, "consumed": 1}}}
    assert differences(want, got) == [
        "kits.KT.consumed: tally None, reporting 1",
        "output_per_day.2026-01-05: tally 2, reporting 1",
        "output_per_day.2026-01-06: tally 0, reporting None",
    ]
    assert differences(want, want) == []


def test_the_expected_figures_come_from_the_tally_alone() -> None:
    cal = PlantCalendar(
        time_zone="UTC",
        working_days=frozenset(range(1, 8)),
        holidays=frozenset(),
        shifts=(ShiftPattern("A", time(6), time(14)),),
        valid_from=date(2026, 1, 1),
    )
    tally = Tally(calendar=cal, line_id="L", kit_types=("KT",), first_day=date(2026, 1, 5))
    figures = expected(tally)
    assert figures["wip"] == 0 and figures["quality"]["fpy"] is None
    assert figures["headcount"]["by_origin"] == {"transferred": 0, "recalled": 0, "new_hire": 0}
    assert figures["kits"] == {"KT": {"by_status": {}, "on_hand": 0, "usable": 0, "quarantined": 0, "in_transit": 0}}
    assert figures["quality"]["dpu"] is None


def test_kit_figures_are_derived_from_the_statuses_as_reporting_derives_them() -> None:
    statuses = {"announced": 2, "quarantined": 1, "received": 3, "released": 4, "consumed": 5}
    assert _kit_figures(statuses) == {
        "by_status": statuses,
        "on_hand": 8,
        "usable": 7,
        "quarantined": 1,
        "in_transit": 2,
    }


def test_output_buckets_carry_their_running_total() -> None:
    assert _running({"d1": 2, "d2": 0, "d3": 3}) == {
        "d1": {"actual": 2, "cumulative": 2},
        "d2": {"actual": 0, "cumulative": 2},
        "d3": {"actual": 3, "cumulative": 5},
    }


def test_the_window_runs_from_local_midnight_days_ago_to_now() -> None:
    now = datetime(2026, 3, 30, 10, 17, tzinfo=UTC)  # 12:17 in Warsaw, the day after the clocks went forward
    start, end = window(load("compact"), 2, now)
    assert start == datetime(2026, 3, 27, 23, tzinfo=UTC)  # 28 March 00:00, still winter time (UTC+1)
    assert end == now and end - start < timedelta(days=3)


def test_the_as_of_figures_are_compared_only_when_asked() -> None:
    cal = PlantCalendar(
        time_zone="UTC",
        working_days=frozenset(range(1, 8)),
        holidays=frozenset(),
        shifts=(ShiftPattern("A", time(6), time(14)),),
        valid_from=date(2026, 1, 1),
    )
    tally = Tally(calendar=cal, line_id="L", kit_types=("KT",), first_day=date(2026, 1, 5))
    tally.last_at = datetime(2026, 1, 6, 23, tzinfo=UTC)
    assert list(expected_all(tally, as_of=False)) == ["now"]
    assert list(expected_all(tally)) == [
        "now",
        "at 2026-01-05T12:00:00+00:00",
        "at 2026-01-05T20:00:00+00:00",
        "at 2026-01-06T12:00:00+00:00",
        "at 2026-01-06T20:00:00+00:00",
    ]
