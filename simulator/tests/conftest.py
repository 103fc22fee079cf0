from __future__ import annotations

from datetime import date

import pytest

from plant_sim import scenario
from plant_sim.ids import RunIds
from plant_sim.model import Planned, plan

FIRST_DAY = date(2026, 3, 23)  # a Monday; daylight saving starts in Warsaw on the 29th


@pytest.fixture(scope="session")
def compact() -> Planned:
    return plan(scenario.load("compact"), first_day=FIRST_DAY, days=6, seed=7, ids=RunIds("T", "TEST01"))


@pytest.fixture(scope="session")
def first_plant() -> Planned:
    return plan(scenario.load("first-plant"), first_day=FIRST_DAY, days=45, seed=7, ids=RunIds("T", "TEST01"))
