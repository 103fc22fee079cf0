"""Lines from assembly-line's events, the plant calendar, rosters and staffing coverage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager

from mes_shared.auth import Role
from mes_shared.testing import KafkaTap, eventually
from workforce.main import create_app

SHIFTS = [
    {"code": "E", "start": "06:00", "end": "14:00", "breaks": [{"start": "10:00", "end": "10:30"}]},
    {"code": "L", "start": "14:00", "end": "22:00", "breaks": [{"start": "18:00", "end": "18:30"}]},
]


async def test_the_stations_read_model_follows_assembly_lines_configuration(
    api: Any, producer: AIOKafkaProducer, tools: SimpleNamespace
) -> None:
    line_id = tools.unique("L")
    first = [f"{line_id}-A", f"{line_id}-B", f"{line_id}-C"]
    configured = await tools.publish_line(producer, line_id, first)
    await tools.wait_for_line(api, line_id, first)

    # A redelivered event changes nothing; an older configuration arriving late never rolls it back.
    await producer.send_and_wait("mes.stations", configured.to_bytes(), key=line_id.encode())
    stale_at = configured.time - timedelta(minutes=5)
    await tools.publish_line(producer, line_id, [f"{line_id}-OLD"], at=stale_at)
    second = [f"{line_id}-A", f"{line_id}-C", f"{line_id}-D"]
    await tools.publish_line(producer, line_id, second)
    line = await tools.wait_for_line(api, line_id, second)
    assert {s["station_id"]: s["active"] for s in line["stations"]} == {
        f"{line_id}-A": True,
        f"{line_id}-C": True,
        f"{line_id}-D": True,
        f"{line_id}-B": False,
    }
    assert [s["position"] for s in line["stations"] if s["active"]] == [1, 2, 3]


async def test_calendar_versions_and_planned_time(
    api: Any, api_as: Callable[..., Any], make_line: Callable[..., Any], tap: KafkaTap, db: Any, tools: SimpleNamespace
) -> None:
    line = await make_line(calendar=False)
    body = tools.calendar_body(SHIFTS, working_days=[1, 2, 3, 4, 5], holidays=["2026-12-25"], time_zone="Europe/Berlin")
    r = await api.put(f"/lines/{line.line_id}/calendar", body)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    assert [s["planned_minutes"] for s in r.json()["shifts"]] == [450, 450]

    mark = await db.outbox_mark()
    same = await api.put(f"/lines/{line.line_id}/calendar", body)
    assert same.status_code == 200 and same.json()["version"] == 1
    assert await db.outbox_since(mark) == [], "the same calendar again publishes nothing"

    today = datetime.now(UTC).date()
    r = await api.put(f"/lines/{line.line_id}/calendar", body | {"valid_from": (today - timedelta(days=1)).isoformat()})
    tools.assert_problem(r, 422, rule="calendar.valid-from.past")
    v2 = body | {"valid_from": (today + timedelta(days=1)).isoformat(), "working_days": [1, 2, 3, 4, 5, 6]}
    r = await api.put(f"/lines/{line.line_id}/calendar", v2)
    assert r.status_code == 201 and r.json()["version"] == 2, r.text

    [v1_event, v2_event] = await tap.wait_for(line.line_id, 2)
    published = v1_event.payload()
    assert v1_event.type == "mes.calendar.published.v1" and v1_event.subject == line.line_id
    assert (published.version, published.time_zone, published.working_days) == (1, "Europe/Berlin", [1, 2, 3, 4, 5])
    assert published.holidays == [date(2026, 12, 25)]
    assert [(s.code, s.start.isoformat(), s.end.isoformat(), len(s.breaks)) for s in published.shifts] == [
        ("E", "06:00:00", "14:00:00", 1),
        ("L", "14:00:00", "22:00:00", 1),
    ]
    assert v2_event.payload().version == 2

    planner = api_as(Role.PLANNER)
    versions = (await planner.get(f"/lines/{line.line_id}/calendar/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert (await planner.get(f"/lines/{line.line_id}/calendar", on=today.isoformat())).json()["version"] == 1
    tomorrow = today + timedelta(days=1)
    assert (await planner.get(f"/lines/{line.line_id}/calendar", on=tomorrow.isoformat())).json()["version"] == 2

    days = (
        await planner.get(f"/lines/{line.line_id}/planned-time", **{"from": "2026-12-21", "to": "2026-12-27"})
    ).json()
    minutes = {d["date"]: d["planned_minutes"] for d in days}
    assert minutes["2026-12-21"] == 900 and minutes["2026-12-25"] == 0, "two shifts on a Monday, none on a holiday"
    monday = next(d for d in days if d["date"] == "2026-12-21")
    assert monday["shifts"][0]["start"] == "2026-12-21T05:00:00Z", "06:00 in Berlin in winter"
    tools.assert_problem(
        await planner.get(f"/lines/{line.line_id}/planned-time", **{"from": "2026-12-21", "to": "2026-12-01"}), 422
    )


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"shifts": [SHIFTS[0], {"code": "X", "start": "13:00", "end": "20:00"}]}, "calendar.shifts.overlap"),
        (
            {"shifts": [{"code": "N", "start": "22:00", "end": "06:00"}, SHIFTS[0] | {"start": "05:00"}]},
            "calendar.shifts.overlap",
        ),
        ({"shifts": [SHIFTS[0] | {"breaks": [{"start": "14:00", "end": "14:30"}]}]}, "calendar.break.outside-shift"),
        ({"time_zone": "Europe/Atlantis"}, "calendar.time-zone.unknown"),
        ({"working_days": [1, 1]}, "calendar.working-days.duplicate"),
    ],
)
async def test_a_bad_calendar_is_refused_and_writes_nothing(
    change: dict[str, Any], rule: str, api: Any, make_line: Callable[..., Any], db: Any, tools: SimpleNamespace
) -> None:
    line = await make_line(calendar=False)
    mark = await db.outbox_mark()
    r = await api.put(f"/lines/{line.line_id}/calendar", tools.calendar_body(SHIFTS) | change)
    tools.assert_problem(r, 422, rule=rule)
    assert await db.outbox_since(mark) == []
    assert await db.count("calendars", "line_id = $1", line.line_id) == 0


async def test_calendar_of_an_unknown_line(api: Any, tools: SimpleNamespace) -> None:
    r = await api.put("/lines/NO-SUCH-LINE/calendar", tools.calendar_body(SHIFTS))
    tools.assert_problem(r, 404, rule="line.unknown", mentions=("NO-SUCH-LINE",))


@pytest.fixture
async def crew(
    api: Any, make_line: Callable[..., Any], make_employee: Callable[..., Any], tools: SimpleNamespace
) -> SimpleNamespace:
    """A line under way with three active employees: a qualified, a trainee and an unqualified one."""
    line = await make_line(stations=3)
    people = [(await make_employee())["employee_id"] for _ in range(3)]
    for eid, level in zip(people[:2], ("qualified", "trainee"), strict=True):
        r = await api.post(
            f"/employees/{eid}/qualifications",
            {"station": line.stations[0], "level": level, "valid_until": tools.in_days(90)},
        )
        assert r.status_code == 201, r.text
    return SimpleNamespace(
        line=line, people=people, path=f"/lines/{line.line_id}/rosters/{line.shift_date}/{line.shift}"
    )


async def test_rosters_refuse_unqualified_assignments_by_default(
    api: Any, crew: SimpleNamespace, tap: KafkaTap, db: Any, tools: SimpleNamespace
) -> None:
    s1, s2, _ = crew.line.stations
    a, b, c = crew.people
    roster = {
        "required": [{"station": s1, "headcount": 2}, {"station": s2, "headcount": 1}],
        "assignments": [{"employee_id": a, "station": s1}, {"employee_id": b, "station": s1}],
    }
    mark = await db.outbox_mark()
    refused = await api.put(
        crew.path, roster | {"assignments": [*roster["assignments"], {"employee_id": c, "station": s2}]}
    )
    problem = tools.assert_problem(refused, 409, rule="roster.assignment.unqualified", mentions=(c, s2))
    assert problem["unqualified_assignments"] == [{"employee_id": c, "station": s2}]
    assert await db.outbox_since(mark) == []

    r = await api.put(crew.path, roster)
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["unqualified_assignments"]) == (1, [])
    same = await api.put(crew.path, roster)
    assert same.status_code == 200 and same.json()["version"] == 1
    [event] = [e for e in await tap.wait_for(crew.line.line_id, 2) if e.type == "mes.roster.published.v1"]
    published = event.payload()
    assert (published.date.isoformat(), published.shift) == (crew.line.shift_date, crew.line.shift)
    assert {(x.employee_id, x.station) for x in published.assignments} == {(a, s1), (b, s1)}
    assert {(x.station, x.headcount) for x in published.required} == {(s1, 2), (s2, 1)}


@pytest.mark.parametrize(
    ("assignments", "required", "status", "rule"),
    [
        ([("{a}", "{ghost}")], [], 422, "station.unknown"),
        ([], [("{ghost}", 1)], 422, "station.unknown"),
        ([("NOBODY-1", "{s1}")], [], 422, "employee.unknown"),
        ([("{a}", "{s1}"), ("{a}", "{s2}")], [], 422, "roster.employee.duplicate"),
        ([("{idle}", "{s1}")], [], 409, "roster.employee.not-active"),
    ],
)
async def test_roster_refusals(
    assignments: list[tuple[str, str]],
    required: list[tuple[str, int]],
    status: int,
    rule: str,
    api: Any,
    crew: SimpleNamespace,
    make_employee: Callable[..., Any],
    db: Any,
    tools: SimpleNamespace,
) -> None:
    names = {
        "a": crew.people[0],
        "s1": crew.line.stations[0],
        "s2": crew.line.stations[1],
        "ghost": crew.line.line_id + "-ST99",
        "idle": (await make_employee(status="idle"))["employee_id"],
    }
    body = {
        "assignments": [{"employee_id": e.format(**names), "station": s.format(**names)} for e, s in assignments],
        "required": [{"station": s.format(**names), "headcount": n} for s, n in required],
    }
    mark = await db.outbox_mark()
    tools.assert_problem(await api.put(crew.path, body), status, rule=rule)
    assert await db.outbox_since(mark) == []
    assert await db.count("rosters", "line_id = $1", crew.line.line_id) == 0


async def test_a_roster_for_a_shift_that_does_not_run(api: Any, crew: SimpleNamespace, tools: SimpleNamespace) -> None:
    path = f"/lines/{crew.line.line_id}/rosters/{crew.line.shift_date}/NIGHT"
    tools.assert_problem(
        await api.put(path, {"assignments": [], "required": []}), 422, rule="roster.shift.not-scheduled"
    )


@pytest.fixture
async def warning_api(
    database_url: str, bootstrap: str, make_settings: Callable[..., Any], tools: SimpleNamespace
) -> AsyncIterator[Any]:
    """A second, API-only replica of the same service configured to warn about unqualified assignments."""
    replica = create_app(make_settings(database_url, bootstrap, run_workers=False, roster_unqualified="warn"))
    async with (
        LifespanManager(replica),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=replica), base_url="http://warning") as client,
    ):
        yield tools.Api(client)


async def test_rosters_only_warn_when_the_plant_says_so(warning_api: Any, crew: SimpleNamespace, tap: KafkaTap) -> None:
    s1, s2, _ = crew.line.stations
    a, _, c = crew.people
    body = {"assignments": [{"employee_id": a, "station": s1}, {"employee_id": c, "station": s2}], "required": []}
    r = await warning_api.put(crew.path, body)
    assert r.status_code == 201, r.text
    assert r.json()["unqualified_assignments"] == [{"employee_id": c, "station": s2}]

    async def published() -> Any:
        return next((e for e in tap.envelopes(crew.line.line_id) if e.type == "mes.roster.published.v1"), None)

    event = await eventually(published, what="the roster event, sent by the main app's relay")
    assert [(x.employee_id, x.station) for x in event.payload().unqualified_assignments] == [(c, s2)]


async def test_staffing_coverage(
    api: Any,
    api_as: Callable[..., Any],
    crew: SimpleNamespace,
    make_employee: Callable[..., Any],
    tools: SimpleNamespace,
) -> None:
    s1, s2, s3 = crew.line.stations
    a, b, c = crew.people
    roster = {
        "required": [{"station": s1, "headcount": 2}, {"station": s2, "headcount": 1}],
        "assignments": [{"employee_id": a, "station": s1}, {"employee_id": b, "station": s1}],
    }
    assert (await api.put(crew.path, roster)).status_code == 201
    terminal = api_as(Role.TERMINAL, stations=[s1, s2])
    badges = {e: (await api.get(f"/employees/{e}")).json()["badge_id"] for e in (a, c)}
    now = datetime.now(UTC)
    for eid, station in ((a, s1), (c, s2)):
        r = await terminal.post(
            "/clock-ins",
            {"terminal_event_id": f"cov-{eid}", "badge_id": badges[eid], "station": station, "at": now.isoformat()},
        )
        assert r.status_code == 201, r.text

    coverage = (
        await api_as(Role.MANAGER).get(f"/lines/{crew.line.line_id}/coverage", date=crew.line.shift_date, shift="A")
    ).json()
    by_station = {s["station"]: s for s in coverage["stations"]}
    assert list(by_station) == [s1, s2, s3]
    one = by_station[s1]
    assert (one["required"], one["rostered"], one["rostered_qualified"], one["clocked_in"], one["present"]) == (
        2,
        2,
        2,
        1,
        1,
    )
    assert one["rostered_by_level"] == {"trainee": 1, "qualified": 1, "trainer": 0}
    assert (one["clocked_in_qualified"], one["open_positions"], one["uncovered"]) == (1, 0, 1)
    two = by_station[s2]
    assert (two["required"], two["rostered"], two["clocked_in"], two["clocked_in_qualified"], two["uncovered"]) == (
        1,
        0,
        1,
        0,
        1,
    )
    assert two["clocked_in_people"] == [{"employee_id": c, "name": f"Operator {c}", "level": None}]
    assert coverage["totals"]["required"] == 3 and coverage["totals"]["uncovered"] == 2
    assert coverage["roster_version"] == 1

    r = await api.get(f"/lines/{crew.line.line_id}/coverage", date=crew.line.shift_date, shift="NIGHT")
    tools.assert_problem(r, 422, rule="roster.shift.not-scheduled")
    tools.assert_problem(await api.get("/lines/NO-LINE-X/coverage", date=crew.line.shift_date, shift="A"), 404)
