"""Scenarios are data: the built-in ones are valid, a file in YAML or JSON is read, a broken one is named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from plant_sim import scenario


@pytest.mark.parametrize("name", scenario.BUILTIN)
def test_the_built_in_scenarios_are_valid(name: str) -> None:
    loaded = scenario.load(name)
    assert loaded.name == name
    assert scenario.load(None).name == scenario.DEFAULT == "first-plant"


def test_the_default_starts_like_the_first_plant() -> None:
    first = scenario.load()
    assert first.production.wip_ramp[0].wip == 18 and first.production.wip_ramp[-1].wip == 50
    assert first.production.annual_target == 2000
    assert first.people.transferred_active == 300 and first.people.transferred_idle >= 100
    assert 8 <= len(first.line.stations) <= 12 and len(first.calendar.shifts) in (1, 2)
    # takt: 2,000 trucks a year over the working time of one 450-minute shift on weekdays: 55 to 60 minutes
    calendar = first.calendar.plant_calendar(valid_from=date(2026, 1, 1))
    minutes = calendar.working_days_between(date(2026, 1, 1), date(2027, 1, 1)) * calendar.daily_working_minutes
    assert calendar.daily_working_minutes == 450
    assert 55 <= minutes / first.production.annual_target <= 60


def test_a_file_is_read_as_yaml_or_json(tmp_path: Path) -> None:
    raw = yaml.safe_load(scenario.builtin_text("compact"))
    raw["name"] = "mine"
    (tmp_path / "mine.json").write_text(json.dumps(raw, default=str))
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(raw))
    assert scenario.load(tmp_path / "mine.json").name == scenario.load(tmp_path / "mine.yaml").name == "mine"


def test_a_broken_scenario_says_where(tmp_path: Path) -> None:
    raw = yaml.safe_load(scenario.builtin_text("compact"))
    raw["calendar"]["time_zone"] = "Mars/Olympus"
    raw["line"]["stations"][0]["bays"] = 0
    raw["surprise"] = 1
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.load(path)
    message = str(caught.value)
    assert "calendar.time_zone" in message and "line.stations.0.bays" in message and "surprise" in message
    with pytest.raises(scenario.ScenarioError, match="cannot read"):
        scenario.load(tmp_path / "missing.yaml")


def test_a_line_nobody_can_staff_is_refused() -> None:
    raw = yaml.safe_load(scenario.builtin_text("compact"))
    raw["people"]["transferred_active"] = 5
    with pytest.raises(scenario.ScenarioError, match="cannot staff the line"):
        scenario._parse(yaml.safe_dump(raw), "test")
