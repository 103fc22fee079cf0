"""Year-end forecast at the current run rate, with a stated uncertainty, and the rate the plan now needs.

Run rate: trucks per planned working day over the last N completed working days (output on a day off is
counted with the working day before it). Forecast = output so far + run rate x working days remaining
(the current day counts with the share of its planned time still ahead).

Uncertainty: the daily counts are treated as independent draws with the observed mean and sample
standard deviation s. The year-end total then has a 95 % prediction interval of
F +/- 1.96 * s * sqrt(R + R^2 / N) for R remaining working days and N observed days: R*s^2 is the
day-to-day scatter still to come, R^2*s^2/N the uncertainty of the run rate itself. The low end never
goes below what is already built.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.96
METHOD = (
    "run rate = mean trucks per planned working day over the last {n} working days; "
    "forecast = built so far + run rate x {r:.2f} working days remaining; "
    "95% band = forecast +/- 1.96 x s x sqrt(R + R^2/N) with s the sample standard deviation of the daily "
    "counts, R the remaining and N the observed working days"
)


@dataclass(frozen=True)
class Forecast:
    year_end: float
    low: float | None
    high: float | None
    run_rate: float
    std_dev: float | None
    days_observed: int
    remaining_working_days: float
    method: str


def mean_and_std(values: Sequence[float]) -> tuple[float, float | None]:
    if not values:
        return 0.0, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance)


def project(
    built: float, rate: float, std: float | None, observed: int, days_ahead: float
) -> tuple[float, float | None, float | None]:
    """Output expected after `days_ahead` more working days, with its 95 % prediction band."""
    value = built + rate * days_ahead
    if std is None or observed < 2:
        return value, None, None
    half = Z_95 * std * math.sqrt(days_ahead + days_ahead**2 / observed)
    return value, max(built, value - half), value + half


def forecast_year_end(built: float, daily_counts: Sequence[float], remaining_days: float) -> Forecast:
    rate, std = mean_and_std(daily_counts)
    value, low, high = project(built, rate, std, len(daily_counts), remaining_days)
    return Forecast(
        year_end=value,
        low=low,
        high=high,
        run_rate=rate,
        std_dev=std,
        days_observed=len(daily_counts),
        remaining_working_days=remaining_days,
        method=METHOD.format(n=len(daily_counts), r=remaining_days),
    )


def required_daily_rate(annual: float, built: float, remaining_days: float) -> float | None:
    """Trucks per working day still needed to reach `annual`; None when no working day is left."""
    missing = max(0.0, annual - built)
    if missing == 0:
        return 0.0
    if remaining_days <= 0:
        return None
    return missing / remaining_days
