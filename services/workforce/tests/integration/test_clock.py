"""Clock-in and clock-out at station terminals, through HTTP with the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI

from mes_shared.auth import Role
from mes_shared.testing import KafkaTap
from workforce.service.sweeps import sweep_once

GRACE = timedelta(minutes=30)  # the default WORKFORCE_CLOCK_OUT_GRACE_MINUTES


def now_iso(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat()


@pytest.fixture
async def on_shift(
    make_line: Callable[..., Any], make_employee: Callable[..., Any], api_as: Callable[..., Any]
) -> SimpleNamespace:
    """A line under way, an active employee and the terminal of the line's first station."""
    line = await make_line()
    employee = await make_employee()
    station = line.stations[0]
    terminal = api_as(Role.TERMINAL, stations=[station], subject="terminal-" + station)
    return SimpleNamespace(line=line, employee=employee, station=station, terminal=terminal)


def scan(s: SimpleNamespace, event_id: str, *, at: str | None = None, station: str | None = None) -> dict[str, Any]:
    return {
        "terminal_event_id": event_id,
        "badge_id": s.employee["badge_id"],
        "station": station or s.station,
        "at": at or now_iso(),
    }


async def test_a_resent_clock_in_counts_once(on_shift: SimpleNamespace, tap: KafkaTap, db: Any) -> None:
    s, eid = on_shift, on_shift.employee["employee_id"]
    body = scan(s, "T1-000042")
    first = await s.terminal.post("/clock-ins", body, key="T1-000042")
    assert first.status_code == 201, first.text
    assert first.json()["result"] == "clocked_in" and first.json()["qualification"] is None

    same_key = await s.terminal.post("/clock-ins", body, key="T1-000042")
    assert same_key.status_code == 201 and same_key.headers.get("idempotent-replayed") == "true"
    other_key = await s.terminal.post("/clock-ins", body, key="resend-after-network-drop")
    assert other_key.status_code == 200, other_key.text
    assert other_key.json() == first.json()

    reused = await s.terminal.post("/clock-ins", body | {"at": now_iso(-60)}, key="third")
    assert reused.status_code == 422 and reused.json()["rule"] == "clock.terminal-event-id.reused"

    assert await db.count("presences", "employee_id = $1", eid) == 1
    out = await s.terminal.post("/clock-outs", scan(s, "T1-000043", at=now_iso(1)))
    assert out.status_code == 200, out.text
    events = await tap.wait_for(eid, 3)
    assert [e.type for e in events] == [
        "mes.employee.registered.v1",
        "mes.employee.clocked-in.v1",
        "mes.employee.clocked-out.v1",
    ]


async def test_a_second_scan_and_a_move_to_another_station(
    on_shift: SimpleNamespace, api_as: Callable[..., Any], tap: KafkaTap
) -> None:
    s, eid = on_shift, on_shift.employee["employee_id"]
    assert (await s.terminal.post("/clock-ins", scan(s, "A-1", at=now_iso(-120)))).status_code == 201
    twice = await s.terminal.post("/clock-ins", scan(s, "A-2", at=now_iso(-60)))
    assert twice.status_code == 200 and twice.json()["result"] == "already_clocked_in"

    other_station = s.line.stations[1]
    other_terminal = api_as(Role.TERMINAL, stations=[other_station], subject="terminal-" + other_station)
    moved = await other_terminal.post("/clock-ins", scan(s, "B-1", station=other_station))
    assert moved.status_code == 201, moved.text
    assert moved.json()["station"] == other_station
    assert moved.json()["closed_previous"]["station"] == s.station
    assert moved.json()["closed_previous"]["out_reason"] == "moved"

    events = await tap.wait_for(eid, 4)
    assert [e.type for e in events][1:] == [
        "mes.employee.clocked-in.v1",
        "mes.employee.clocked-out.v1",
        "mes.employee.clocked-in.v1",
    ]
    out = events[2].payload()
    assert (out.station, out.reason, out.automatic, out.terminal_event_id) == (s.station, "moved", False, "B-1")
    assert events[3].payload().at == out.at
    detail = (await s.terminal.client.get(f"/employees/{eid}", headers=api_as(Role.MANAGER).headers)).json()
    assert detail["presence"]["station"] == other_station


async def test_a_forgotten_clock_out_is_closed_at_shift_end_plus_grace(
    app: FastAPI, on_shift: SimpleNamespace, tap: KafkaTap, db: Any
) -> None:
    s, eid = on_shift, on_shift.employee["employee_id"]
    clock_in = await s.terminal.post("/clock-ins", scan(s, "F-1"))
    assert clock_in.status_code == 201, clock_in.text
    sessions = app.state.runtime.sessions

    before_due = await sweep_once(sessions, now=s.line.shift_end + GRACE - timedelta(microseconds=1), grace=GRACE)
    assert await db.count("presences", "employee_id = $1 AND clocked_out_at IS NULL", eid) == 1
    assert before_due.clock_outs >= 0

    swept = await sweep_once(sessions, now=s.line.shift_end + GRACE + timedelta(hours=1), grace=GRACE)
    assert swept.clock_outs >= 1
    again = await sweep_once(sessions, now=s.line.shift_end + GRACE + timedelta(hours=2), grace=GRACE)
    assert again.clock_outs == 0, "a second sweep finds nothing more to close"

    [presence] = await db.rows("SELECT * FROM presences WHERE employee_id = $1", eid)
    assert presence["clocked_out_at"] == s.line.shift_end + GRACE
    assert (presence["automatic"], presence["out_reason"]) == (True, "shift-ended")

    events = await tap.wait_for(eid, 3)
    assert [e.type for e in events][1:] == ["mes.employee.clocked-in.v1", "mes.employee.clocked-out.v1"]
    auto = events[2].payload()
    assert (auto.automatic, auto.reason, auto.terminal_event_id) == (True, "shift-ended", None)
    assert auto.at == events[2].time == s.line.shift_end + GRACE
    assert events[2].source == "/mes/workforce"

    # The operator's own clock-out scan arrives afterwards: the same answer, no second clock-out.
    late = await s.terminal.post("/clock-outs", scan(s, "F-2"))
    assert late.status_code == 200 and late.json()["result"] == "closed_automatically", late.text
    assert late.json()["clocked_out_at"] == (s.line.shift_end + GRACE).isoformat().replace("+00:00", "Z")
    assert await db.count("outbox", "key = $1 AND event_type = 'mes.employee.clocked-out.v1'", eid) == 1


@pytest.mark.parametrize("status", ["idle", "left", "on_leave"])
async def test_a_clock_in_by_someone_not_active_is_refused(
    status: str,
    make_line: Callable[..., Any],
    make_employee: Callable[..., Any],
    api: Any,
    api_as: Callable[..., Any],
    db: Any,
    tools: SimpleNamespace,
) -> None:
    line = await make_line(stations=1)
    employee = await make_employee(status="active" if status == "left" else status)
    if status == "left":
        r = await api.post(f"/employees/{employee['employee_id']}/status", {"to_status": "left", "reason": "quit"})
        assert r.status_code == 200
    terminal = api_as(Role.TERMINAL, stations=line.stations)
    mark = await db.outbox_mark()
    body = {
        "terminal_event_id": "X-" + status,
        "badge_id": employee["badge_id"],
        "station": line.stations[0],
        "at": now_iso(),
    }
    r = await terminal.post("/clock-ins", body)
    problem = tools.assert_problem(
        r, 409, rule="clock-in.employee-not-active", mentions=(employee["employee_id"], status)
    )
    assert problem["employee_status"] == status
    assert await db.outbox_since(mark) == []
    assert await db.count("presences", "employee_id = $1", employee["employee_id"]) == 0
    assert await db.count("terminal_events", "terminal_event_id = $1", "X-" + status) == 0


async def test_a_late_clock_in_is_judged_by_the_status_in_effect_when_it_happened(
    make_line: Callable[..., Any],
    make_employee: Callable[..., Any],
    api: Any,
    api_as: Callable[..., Any],
    tools: SimpleNamespace,
) -> None:
    """Someone who left today scanned in yesterday before leaving: the late scan is taken (assembly-line
    judges a sign-off by the status on the event's date too); a scan today is refused."""
    line = await make_line(stations=1, calendar=False)
    whole_day = [{"code": "A", "start": "00:00", "end": "23:59", "breaks": []}]
    r = await api.put(f"/lines/{line.line_id}/calendar", tools.calendar_body(whole_day))
    assert r.status_code == 201, r.text
    employee = await make_employee(status="active")
    today = datetime.now(UTC).date()
    r = await api.post(
        f"/employees/{employee['employee_id']}/status",
        {"to_status": "left", "reason": "quit", "effective_date": today.isoformat()},
    )
    assert r.status_code == 200, r.text
    terminal = api_as(Role.TERMINAL, stations=line.stations)
    yesterday_late = datetime.combine(today, datetime.min.time(), UTC) - timedelta(minutes=5)
    scan_then = {"badge_id": employee["badge_id"], "station": line.stations[0]}
    r = await terminal.post("/clock-ins", scan_then | {"terminal_event_id": "LATE-1", "at": yesterday_late.isoformat()})
    assert r.status_code == 201, r.text
    r = await terminal.post("/clock-ins", scan_then | {"terminal_event_id": "NOW-1", "at": now_iso()})
    problem = tools.assert_problem(r, 409, rule="clock-in.employee-not-active", mentions=(employee["employee_id"],))
    assert problem["employee_status"] == "left"


async def test_a_terminal_acts_only_for_its_own_stations(
    on_shift: SimpleNamespace, api_as: Callable[..., Any], db: Any, tools: SimpleNamespace
) -> None:
    s = on_shift
    mark = await db.outbox_mark()
    elsewhere = scan(s, "W-1", station=s.line.stations[1])
    r = await s.terminal.post("/clock-ins", elsewhere, key="W-1")
    tools.assert_problem(r, 403, type_="/problems/station-not-allowed", mentions=(s.line.stations[1],))
    r = await s.terminal.post("/clock-outs", elsewhere | {"terminal_event_id": "W-2"})
    tools.assert_problem(r, 403, type_="/problems/station-not-allowed")

    r = await s.terminal.client.post("/clock-ins", json=scan(s, "W-3"), headers={"Idempotency-Key": "W-3"})
    tools.assert_problem(r, 401, type_="/problems/unauthorized")
    bad = {"Authorization": "Bearer not-a-token", "Idempotency-Key": "W-4"}
    tools.assert_problem(await s.terminal.client.post("/clock-ins", json=scan(s, "W-4"), headers=bad), 401)
    supervisor = api_as(Role.SUPERVISOR)
    tools.assert_problem(await supervisor.post("/clock-ins", scan(s, "W-5")), 403, type_="/problems/role-not-allowed")

    assert await db.outbox_since(mark) == []
    assert await db.idempotency_keys("W-1") == 0
    assert await db.count("presences", "employee_id = $1", s.employee["employee_id"]) == 0


async def test_unknown_badge_station_and_times_outside_any_shift(
    on_shift: SimpleNamespace,
    make_line: Callable[..., Any],
    api: Any,
    api_as: Callable[..., Any],
    db: Any,
    tools: SimpleNamespace,
) -> None:
    s = on_shift
    later = await make_line(stations=1, calendar=False)
    start = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    body = tools.calendar_body(
        [{"code": "B", "start": start.strftime("%H:%M"), "end": (start + timedelta(hours=4)).strftime("%H:%M")}]
    )
    assert (await api.put(f"/lines/{later.line_id}/calendar", body)).status_code == 201
    no_calendar = await make_line(stations=1, calendar=False)
    mark = await db.outbox_mark()
    r = await s.terminal.post("/clock-ins", scan(s, "U-1") | {"badge_id": "NO-SUCH-BADGE"})
    tools.assert_problem(r, 422, rule="badge.unknown", mentions=("NO-SUCH-BADGE",))

    ghost = s.line.line_id + "-ST99"
    ghost_terminal = api_as(Role.TERMINAL, stations=[ghost])
    r = await ghost_terminal.post("/clock-ins", scan(s, "U-2", station=ghost))
    tools.assert_problem(r, 422, rule="station.unknown", mentions=(ghost,))

    r = await s.terminal.post("/clock-ins", scan(s, "U-3", at=now_iso(3600)))
    tools.assert_problem(r, 422, rule="clock.at.in-future")
    r = await s.terminal.post("/clock-ins", scan(s, "U-4", at=now_iso(-3 * 86400)))
    tools.assert_problem(r, 422, rule="clock.at.too-late")
    r = await s.terminal.post("/clock-ins", scan(s, "U-5") | {"at": "2026-03-02T06:00:00"})
    tools.assert_problem(r, 422, type_="/problems/invalid-request", mentions=("at",))

    # A line whose only shift starts in three hours: too early even with the tolerance.
    later_terminal = api_as(Role.TERMINAL, stations=later.stations)
    r = await later_terminal.post("/clock-ins", scan(s, "U-6", station=later.stations[0]))
    tools.assert_problem(r, 409, rule="clock-in.outside-shift", mentions=(later.line_id,))
    r = await s.terminal.post("/clock-ins", scan(s, "U-7") | {"shift": "NIGHT"})
    tools.assert_problem(r, 409, rule="clock-in.outside-shift", mentions=("NIGHT",))

    r = await api_as(Role.TERMINAL, stations=no_calendar.stations).post(
        "/clock-ins", scan(s, "U-8", station=no_calendar.stations[0])
    )
    tools.assert_problem(r, 409, rule="calendar.missing")

    r = await s.terminal.post("/clock-outs", scan(s, "U-9"))
    tools.assert_problem(r, 409, rule="clock-out.not-clocked-in")

    assert await db.outbox_since(mark) == []
    assert await db.count("presences", "employee_id = $1", s.employee["employee_id"]) == 0
    assert await db.count("terminal_events", "terminal_event_id LIKE 'U-%'") == 0


async def test_leaving_while_clocked_in_ends_the_presence(on_shift: SimpleNamespace, api: Any, tap: KafkaTap) -> None:
    s, eid = on_shift, on_shift.employee["employee_id"]
    assert (await s.terminal.post("/clock-ins", scan(s, "S-1"))).status_code == 201
    r = await api.post(f"/employees/{eid}/status", {"to_status": "left", "reason": "dismissed"})
    assert r.status_code == 200, r.text
    events = await tap.wait_for(eid, 4)
    assert [e.type for e in events][2:] == ["mes.employee.clocked-out.v1", "mes.employee.status-changed.v1"]
    out = events[2].payload()
    assert (out.automatic, out.reason) == (True, "status-changed")
    assert (await api.get(f"/employees/{eid}")).json()["presence"] is None


async def test_resends_racing_each_other_count_once(on_shift: SimpleNamespace, tap: KafkaTap, db: Any) -> None:
    s, eid = on_shift, on_shift.employee["employee_id"]
    body = scan(s, "RACE-1")
    answers = await asyncio.gather(*(s.terminal.post("/clock-ins", body, key=f"race-{n}") for n in range(5)))
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 201], [r.text for r in answers]
    assert len({r.json()["clocked_in_at"] for r in answers}) == 1
    assert await db.count("presences", "employee_id = $1", eid) == 1
    assert await db.count("outbox", "key = $1 AND event_type = 'mes.employee.clocked-in.v1'", eid) == 1
    out = await s.terminal.post("/clock-outs", scan(s, "RACE-2", at=now_iso(1)))
    assert out.status_code == 200, out.text
    events = await tap.wait_for(eid, 3)
    assert [e.type for e in events].count("mes.employee.clocked-in.v1") == 1
