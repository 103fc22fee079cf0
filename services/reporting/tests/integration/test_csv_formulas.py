"""A CSV export opened in a spreadsheet never runs what an operator typed (OWASP CSV injection): an andon
reason written as a formula comes out as text, while the figures reporting computed stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from reporting_support import Api, Bus, calendar, unique, wrap

from mes_shared.events import stations as s

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Thursday, in the shift
FORMULA = '=HYPERLINK("http://x","y")'


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_a_formula_in_an_andon_reason_is_text_and_a_negative_gap_a_number(
    bus: Bus, planner: Api, manager: Api, new_line: Callable[[], str]
) -> None:
    line = new_line()
    andon = unique("AND")
    raised = s.AndonRaised(
        andon_id=andon, line_id=line, station="ST-01", reason=FORMULA, raised_by="@lead", stops_line=True, vin=None
    )
    await bus.publish(calendar(line), wrap(raised, "ST-01", AT - timedelta(hours=1)))

    r = await manager.get("/andons/open", line=line, at=AT.isoformat(), format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    [row] = table(r.text)
    assert (row["andon_id"], row["reason"], row["raised_by"]) == (andon, "'" + FORMULA, "'@lead")
    assert row["open_minutes"] == "60.0"

    # Nothing built yet against a plan: the gaps are negative numbers, written as numbers.
    r = await planner.put(f"/targets/{line}/2026", {"annual": 2000, "monthly": {"11": 210}})
    assert r.status_code == 200, r.text
    r = await manager.get("/output", line=line, at=AT.isoformat(), format="csv")
    assert r.status_code == 200, r.text
    gaps = {row["period"]: row["gap"] for row in table(r.text)}
    assert gaps["day"].startswith("-") and float(gaps["day"]) < 0, gaps
