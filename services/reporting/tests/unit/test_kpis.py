"""KPIs and the forecast from plain numbers, against figures computed by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from reporting.domain.forecast import forecast_year_end, mean_and_std, project, required_daily_rate
from reporting.domain.intervals import intersect, seconds, subtract, union
from reporting.domain.kpi import dpu, fpy, oee, pareto, percentile, stats

T0 = datetime(2026, 11, 26, 6, tzinfo=UTC)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_fpy_and_dpu() -> None:
    assert fpy(8, 6) == 0.75
    assert dpu(5, 8) == 0.625
    assert fpy(0, 0) is None and dpu(3, 0) is None


def test_pareto_sorts_by_count_then_key_with_running_shares() -> None:
    items = pareto({"PAINT": 2, "TORQUE": 5, "GAP": 2, "LEAK": 1, "NONE": 0})
    assert [(i.key, i.count) for i in items] == [("TORQUE", 5), ("GAP", 2), ("PAINT", 2), ("LEAK", 1)]
    assert [i.share for i in items] == [0.5, 0.2, 0.2, 0.1]
    assert [round(i.cumulative_share, 10) for i in items] == [0.5, 0.7, 0.9, 1.0]


def test_oee_shows_availability_performance_and_quality_apart() -> None:
    # 480 planned minutes, 48 lost to andons; 8 units with a 50-minute standard; 7 good.
    figures = oee(480 * 60, 48 * 60, 8 * 50 * 60, 8, 7)
    assert figures.availability == pytest.approx(0.9)
    assert figures.performance == pytest.approx(400 / 432)
    assert figures.quality == pytest.approx(0.875)
    assert figures.oee == pytest.approx(0.9 * 400 / 432 * 0.875)
    assert figures.rating == "fair"
    assert oee(480 * 60, 0, 480 * 60, 10, 10).rating == "good"
    assert oee(480 * 60, 300 * 60, 60 * 60, 2, 1).rating == "low"
    nothing = oee(0, 0, 0, 0, 0)
    assert nothing.availability is None and nothing.oee is None and nothing.rating is None


def test_statistics_of_cycle_times() -> None:
    s = stats([50, 70, 60, 40, 80])
    assert (s.count, s.mean, s.median, s.min, s.max) == (5, 60, 60, 40, 80)
    assert s.p90 == pytest.approx(76)  # 70 + 0.6 x 10
    assert percentile([10], 0.9) == 10
    assert stats([]).mean is None


def test_run_rate_forecast_and_its_band() -> None:
    counts = [9, 11, 9, 11, 9, 11, 9, 11, 9, 11]
    mean, std = mean_and_std(counts)
    assert mean == 10 and std == pytest.approx(math.sqrt(10 / 9))
    f = forecast_year_end(100, counts, 25)
    assert f.run_rate == 10 and f.year_end == 350
    half = 1.96 * math.sqrt(10 / 9) * math.sqrt(25 + 25**2 / 10)
    assert (f.low, f.high) == (pytest.approx(350 - half), pytest.approx(350 + half))
    assert "1.96" in f.method and "last 10 working days" in f.method
    # Too little history for a band; the low end never falls below what is built.
    assert forecast_year_end(100, [10], 25).low is None
    assert project(100, 1, 50, 2, 10)[1] == 100


def test_required_daily_rate() -> None:
    assert required_daily_rate(2000, 1800, 25) == 8
    assert required_daily_rate(2000, 2100, 25) == 0
    assert required_daily_rate(2000, 1800, 0) is None


def test_intervals() -> None:
    assert union([(t(10), t(20)), (t(0), t(5)), (t(5), t(8)), (t(15), t(30))]) == [(t(0), t(8)), (t(10), t(30))]
    assert subtract((t(0), t(60)), [(t(10), t(20)), (t(50), t(70))]) == [(t(0), t(10)), (t(20), t(50))]
    assert intersect([(t(0), t(30)), (t(40), t(60))], [(t(20), t(50))]) == [(t(20), t(30)), (t(40), t(50))]
    assert seconds([(t(0), t(10)), (t(5), t(15))]) == 15 * 60
