"""Every view through Kafka and PostgreSQL, from events of the other services' catalogue, against figures
computed by hand.

One line, Mon-Fri, shift A 06:00-14:30 Europe/Berlin with a break 10:00-10:30; stations ST-01..ST-03 with
standard times 50, 40 and 30 minutes. The story happens on Thursday 26 November 2026 and is read at 12:00,
when 330 minutes of the shift were planned (06:00-10:00 and 10:30-12:00).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from typing import Any

import pytest
from reporting_story import AT, Story, build_story, kit_events, people_story, t
from reporting_support import Api, Bus, completed, unique

from mes_shared.auth import Role

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def story(producer: Any, client: Any) -> Story:
    bus = Bus(producer, Api(client, Role.ADMIN))
    st = build_story(unique("T-V"))
    st.add(*kit_events(st))
    await bus.publish(*st.events)
    planner = Api(client, Role.PLANNER)
    response = await planner.put(f"/targets/{st.line}/2026", {"annual": 2000, "monthly": {"11": 210}})
    assert response.status_code == 200, response.text
    return st


async def view(api: Api, path: str, story: Story, **params: Any) -> Any:
    return await api.json(path, line=story.line, at=AT.isoformat(), **params)


async def test_wip_by_station_against_the_standard_time(story: Story, manager: Api) -> None:
    wip = await view(manager, "/wip", story)
    assert wip["total"] == 3
    stations = {s["station"]: s for s in wip["stations"]}
    assert [s["station"] for s in wip["stations"]] == ["ST-01", "ST-02", "ST-03"]
    assert stations["ST-01"]["trucks"] == 1 and stations["ST-01"]["over_standard"] == 0
    assert stations["ST-02"]["oldest_age_seconds"] == 295 * 60 and stations["ST-02"]["over_standard"] == 1
    assert stations["ST-03"]["held"] == 1 and stations["ST-03"]["standard_seconds"] == 1800
    assert wip["takt_seconds"] == 48 * 60  # November: 10 trucks over 480 minutes a day
    trucks = (await view(manager, "/wip/trucks", story))["items"]
    by_vin = {tr["vin"]: tr for tr in trucks}
    v1 = by_vin[story.vins["V1"]]
    assert (v1["station"], v1["status"], v1["age_ratio"]) == ("ST-02", "working", pytest.approx(17700 / 2400, abs=1e-3))
    v3 = by_vin[story.vins["V3"]]
    assert (v3["station"], v3["status"], v3["held"], v3["build_short"]) == ("ST-03", "held", True, True)
    assert [tr["vin"] for tr in trucks] == [story.vins["V1"], story.vins["V3"], story.vins["V2"]]  # oldest first
    only = await view(manager, "/wip/trucks", story, station="ST-03")
    assert [tr["vin"] for tr in only["items"]] == [story.vins["V3"]]


async def test_lead_time_cycle_times_and_the_bottleneck(story: Story, manager: Api) -> None:
    lead = await view(manager, "/flow/lead-time", story)
    p90 = round((17100 + 0.9 * 900) / 3600, 2)
    assert lead["hours"] == {"count": 2, "mean": 4.88, "median": 4.88, "p90": p90, "min": 4.75, "max": 5.0}
    cycles = await view(manager, "/flow/cycle-times", story)
    stations = {s["station"]: s for s in cycles["stations"]}
    assert stations["ST-01"]["cycles"] == 3 and stations["ST-01"]["cycle_seconds"]["mean"] == 3160
    assert stations["ST-01"]["ratio_to_standard"] == pytest.approx(3160 / 3000, abs=1e-3)
    assert stations["ST-02"]["cycle_seconds"]["mean"] == 2550 and stations["ST-02"]["standard_seconds"] == 2400
    assert (stations["ST-03"]["cycles"], stations["ST-03"]["rework_cycles"]) == (1, 1)
    assert cycles["bottleneck"]["station"] == "ST-01" and stations["ST-01"]["bottleneck"] is True
    assert stations["ST-01"]["ratio_to_takt"] == pytest.approx(3160 / 2880, abs=1e-3)


async def test_quality_fpy_dpu_and_pareto(story: Story, manager: Api) -> None:
    q = await view(manager, "/quality", story)
    assert (q["completed"], q["first_pass"], q["fpy"]) == (2, 1, 0.5)
    assert (q["defects_on_completed"], q["dpu"]) == (2, 1.0)
    assert (q["defects_found"], q["open_defects"]) == (3, 1)
    by_code = await view(manager, "/quality/pareto", story)
    assert [(i["key"], i["count"], i["cumulative_share"]) for i in by_code["items"]] == [
        ("TORQUE", 2, 0.6667),
        ("GAP", 1, 1.0),
    ]
    caused = await view(manager, "/quality/pareto", story, by="caused_at")
    assert [(i["key"], i["count"]) for i in caused["items"]] == [("ST-02", 2), ("ST-01", 1)]
    found = await view(manager, "/quality/pareto", story, by="station")
    assert [(i["key"], i["count"]) for i in found["items"]] == [("ST-02", 2), ("ST-03", 1)]


async def test_andons_per_station_and_shift(story: Story, manager: Api) -> None:
    a = await view(manager, "/andons", story)
    buckets = {(b["station"], b["shift"]): b for b in a["buckets"]}
    assert buckets[("ST-01", None)] == {
        "station": "ST-01",
        "shift_date": None,
        "shift": None,
        "andons": 1,
        "lost_minutes": 10.0,
        "line_stop_minutes": 10.0,
    }
    assert (buckets[("ST-01", "A")]["andons"], buckets[("ST-01", "A")]["lost_minutes"]) == (0, 20.0)
    assert (buckets[("ST-02", "A")]["andons"], buckets[("ST-02", "A")]["lost_minutes"]) == (2, 30.0)
    assert buckets[("ST-03", "A")]["lost_minutes"] == 45.0 and buckets[("ST-03", "A")]["line_stop_minutes"] == 45.0
    shifts = {b["shift"]: b for b in a["by_shift"]}
    assert (shifts["A"]["andons"], shifts["A"]["lost_minutes"], shifts["A"]["line_stop_minutes"]) == (3, 95.0, 65.0)
    assert shifts["A"]["shift_date"] == "2026-11-26"
    assert (a["total_andons"], a["total_lost_minutes"]) == (4, 105.0)
    opened = await view(manager, "/andons/open", story)
    assert [(o["station"], o["open_minutes"]) for o in opened["items"]] == [("ST-02", 10.0)]


async def test_oee_per_station(story: Story, manager: Api) -> None:
    oee = await view(manager, "/oee", story)
    st = {s["station"]: s for s in oee["stations"]}
    one = st["ST-01"]
    assert (one["planned_minutes"], one["downtime_minutes"], one["run_minutes"]) == (330.0, 35.0, 295.0)
    assert (one["ideal_minutes"], one["units"], one["good_units"]) == (150.0, 3, 2)
    assert one["availability"] == round(295 / 330, 4)
    assert one["performance"] == round(150 / 295, 4)
    assert one["quality"] == round(2 / 3, 4)
    assert one["oee"] == round(295 / 330 * 150 / 295 * 2 / 3, 4) and one["rating"] == "low"
    two = st["ST-02"]
    assert (two["downtime_minutes"], two["units"], two["good_units"], two["quality"]) == (65.0, 2, 1, 0.5)
    three = st["ST-03"]
    assert (three["downtime_minutes"], three["units"], three["quality"]) == (35.0, 1, 1.0)


async def test_kits_supply_claims_and_held_trucks(story: Story, manager: Api) -> None:
    kits = await view(manager, "/kits", story, kit_type=story.kit_type)
    assert kits["by_status"] == {"announced": 1, "consumed": 1, "quarantined": 1, "received": 1, "released": 3}
    assert (kits["on_hand"], kits["usable"], kits["quarantined"], kits["in_transit"]) == (5, 4, 1, 1)
    assert kits["planned_daily_rate"] == 10.0
    assert kits["days_of_supply"] == 0.4 and kits["days_of_supply_with_quarantined"] == 0.5
    assert kits["open_discrepancies_by_claim_code"] == {"M": 1}
    assert kits["accepted_shortages"] == 1
    assert (kits["trucks_held_by_shortage"], kits["build_short_in_production"]) == (1, 1)
    assert kits["held_trucks"][0]["vin"] == story.vins["V3"]
    assert kits["held_trucks"][0]["held_minutes"] == 129.0
    claims = await manager.json("/kits/discrepancies", kit_type=story.kit_type, status="all")
    assert sorted((d["claim_code"], d["status"]) for d in claims["items"]) == [
        ("DT", "shortage_accepted"),
        ("M", "open"),
    ]
    held = await view(manager, "/kits/held-trucks", story)
    assert held["total"] == 1


async def test_a_view_as_of_an_instant_names_the_figures_it_reads_from_the_plan_as_set_now(
    story: Story, manager: Api
) -> None:
    wip = await view(manager, "/wip", story)
    assert wip["as_planned_now"] == ["takt_seconds", "ramp", "stations", "stations[].name", "stations[].position"]
    assert (await manager.json("/wip", line=story.line))["as_planned_now"] == []
    by_line = await view(manager, "/kits", story)
    assert by_line["as_planned_now"][0] == "scope"
    by_kit_type = await view(manager, "/kits", story, kit_type=story.kit_type)
    assert by_kit_type["as_planned_now"] == ["planned_daily_rate", "days_of_supply", "days_of_supply_with_quarantined"]
    assert (await view(manager, "/quality", story))["as_planned_now"] == []
    dashboard = await view(manager, "/dashboard/data", story)
    assert "periods[].target" in dashboard["output"]["as_planned_now"]
    assert "staffing.required" in dashboard["as_planned_now"]
    assert (await manager.json("/people/recall", as_of="2026-11-26"))["as_planned_now"][0] == "goals"
    assert (await manager.json("/people/recall"))["as_planned_now"] == []


async def test_localisation_by_count_and_value(story: Story, manager: Api) -> None:
    loc = await view(manager, "/localisation", story)
    assert loc["overall"] == {
        "trucks": 2,
        "local_parts": 3,
        "total_parts": 14,
        "rate_by_count": round(3 / 14, 4),
        "local_value": 180.0,
        "known_value": 580.0,
        "rate_by_value": round(180 / 580, 4),
        "parts_with_value": 4,
        "serialised_parts": 5,
    }


async def test_lines_calendar_and_completions(story: Story, manager: Api) -> None:
    lines = {line["line_id"]: line for line in (await manager.json("/lines"))["lines"]}
    mine = lines[story.line]
    assert [st["station_id"] for st in mine["stations"]] == ["ST-01", "ST-02", "ST-03"]
    assert (mine["calendar_version"], mine["time_zone"], mine["target_years"]) == (1, "Europe/Berlin", [2026])
    week = await manager.json(f"/lines/{story.line}/calendar", **{"from": "2026-11-23", "to": "2026-11-29"})
    assert [(d["date"][-2:], d["working_day"], d["planned_minutes"], d["target"]) for d in week["days"]] == [
        ("23", True, 480.0, 10.0),
        ("24", True, 480.0, 10.0),
        ("25", True, 480.0, 10.0),
        ("26", True, 480.0, 10.0),
        ("27", True, 480.0, 10.0),
        ("28", False, 0.0, 0.0),
        ("29", False, 0.0, 0.0),
    ]
    done = await view(manager, "/output/completions", story, limit=1, offset=1)
    assert (done["total"], len(done["items"])) == (2, 1)
    assert done["items"][0]["vin"] == story.vins["V5"] and done["items"][0]["shift"] == "2026-11-26 A"
    series = await manager.json(
        "/output/series", line=story.line, bucket="day", at=AT.isoformat(), **{"from": "2026-11-25", "to": "2026-11-26"}
    )
    assert [(pt["label"], pt["actual"], pt["target"]) for pt in series["points"]] == [
        ("2026-11-25", 0, 10.0),
        ("2026-11-26", 2, 10.0),
    ]


async def test_every_view_as_csv(story: Story, manager: Api) -> None:
    r = await manager.get("/andons", line=story.line, at=AT.isoformat(), format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {"station", "shift_date", "shift", "andons", "lost_minutes", "line_stop_minutes"} <= set(rows[0])
    assert sum(float(row["lost_minutes"]) for row in rows) == 105.0
    accept = await manager.client.get(
        "/output", params={"line": story.line, "at": AT.isoformat()}, headers=manager.headers | {"Accept": "text/csv"}
    )
    assert accept.headers["content-type"].startswith("text/csv")
    periods = list(csv.DictReader(io.StringIO(accept.text)))
    assert [row["period"] for row in periods] == ["shift", "day", "week", "month", "year"]
    assert periods[1]["actual"] == "2"
    for path, extra in [
        ("/wip", {}),
        ("/wip/trucks", {}),
        ("/flow/lead-time", {}),
        ("/flow/cycle-times", {}),
        ("/quality", {}),
        ("/quality/pareto", {}),
        ("/andons/open", {}),
        ("/oee", {}),
        ("/kits", {}),
        ("/kits/held-trucks", {}),
        ("/localisation", {}),
        ("/output/series", {}),
        ("/output/curve", {}),
        ("/output/completions", {}),
        ("/people/staffing", {}),
        ("/dashboard/data", {}),
    ]:
        r = await manager.get(path, line=story.line, at=AT.isoformat(), format="csv", **extra)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("text/csv"), path
        assert r.text.splitlines()[0], path
    for path in [
        "/lines",
        "/kits/discrepancies",
        "/people/headcount",
        "/people/recall",
        "/people/qualifications/expiring",
    ]:
        r = await manager.get(path, format="csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), path


async def test_people_headcount_recall_staffing_and_expiring_qualifications(
    bus: Bus, manager: Api, new_line: Any
) -> None:
    line = new_line()
    story = people_story(line, date(2001, 1, 1) + timedelta(days=random.randrange(0, 30_000)))
    recalled_on, station, people, goal, at = story.recalled_on, story.station, story.people, story.goal, story.at
    events = story.events
    await bus.publish(*events)

    # Headcount is plant-wide: this story's people are the ones whose ids start with its prefix.
    def cells(view: dict[str, Any]) -> dict[tuple[str, str], int]:
        return {(m["origin"], m["status"]): m["count"] for m in view["matrix"] if m["count"]}

    prefix = story.prefix
    before = await manager.json(
        "/people/headcount", as_of=(recalled_on - timedelta(days=1)).isoformat(), employee_id_prefix=prefix
    )
    assert cells(before) == {
        ("transferred", "active"): 1,
        ("transferred", "idle"): 2,
        ("transferred", "on_leave"): 1,
        ("new_hire", "active"): 1,
        ("recalled", "active"): 1,
    }
    assert before["total"] == 6 and before["by_status"]["idle"] == 2
    after = await manager.json("/people/headcount", as_of=recalled_on.isoformat(), employee_id_prefix=prefix)
    assert cells(after)[("recalled", "active")] == 2 and cells(after)[("transferred", "idle")] == 1
    hired = await manager.json(
        "/people/headcount", as_of=(story.hired - timedelta(days=1)).isoformat(), employee_id_prefix=prefix
    )
    assert hired["total"] == 0

    recall = await manager.json("/people/recall", as_of=recalled_on.isoformat())
    ours = next(g for g in recall["goals"] if g["goal_id"] == goal)
    assert (ours["recalled"], ours["remaining"], ours["progress"]) == (1, 1, 0.5)

    staffing = await manager.json("/people/staffing", line=line, date="2026-11-26", shift="A", at=t(10).isoformat())
    rows = {r["station"]: r for r in staffing["stations"]}
    assert (rows["ST-01"]["required"], rows["ST-01"]["rostered"], rows["ST-01"]["clocked_in"]) == (2, 2, 1)
    assert rows["ST-01"]["coverage"] == 0.5 and rows["ST-01"]["present"] == 1
    assert (rows["ST-02"]["clocked_in"], rows["ST-02"]["present"], rows["ST-02"]["unqualified_rostered"]) == (1, 0, 1)
    assert staffing["coverage"] == round(2 / 3, 4)

    expiring = await manager.json("/people/qualifications/expiring", station=station, within_days=30, at=at.isoformat())
    assert [(q["employee_id"], q["days_left"]) for q in expiring["items"]] == [(people[0], 10.0)]
    later = await manager.json("/people/qualifications/expiring", station=station, within_days=45, at=at.isoformat())
    assert [q["employee_id"] for q in later["items"]] == [people[0], people[3]]


async def test_a_line_known_only_from_one_truck_answers_every_view(bus: Bus, manager: Api, new_line: Any) -> None:
    """No calendar, no target, no line definition yet: every view answers, and says what it lacks."""
    line = new_line()
    await bus.publish(completed(line, t(9)))
    paths = [
        "/output", "/output/curve", "/output/series", "/output/completions", "/wip", "/wip/trucks",
        "/flow/lead-time", "/flow/cycle-times", "/quality", "/quality/pareto", "/andons", "/andons/open",
        "/oee", "/kits", "/kits/held-trucks", "/localisation", "/people/staffing", "/dashboard/data",
    ]  # fmt: skip
    for path in paths:
        r = await manager.get(path, line=line, at=AT.isoformat())
        assert r.status_code == 200, (path, r.text)
    view = await manager.json("/output", line=line, at=AT.isoformat())
    assert {p["period"]: p["actual"] for p in view["periods"]}["day"] == 1
    assert any("no annual target" in w for w in view["warnings"])
    refused = await manager.get("/quality", line=line, period="shift")
    assert refused.status_code == 422 and refused.json()["rule"] == "range.shift-needs-calendar"
