"""People through HTTP, with their events read back from the real `mes.people` topic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from mes_shared.auth import Role
from mes_shared.testing import KafkaTap, eventually
from mes_shared.topics import PEOPLE


def csv_file(rows: list[str]) -> bytes:
    return ("employee_id,badge_id,name,origin,status,status_since\n" + "\n".join(rows) + "\n").encode()


async def test_csv_import_takes_good_rows_reports_bad_ones_and_a_reimport_changes_nothing(
    api: Any, tap: KafkaTap, db: Any
) -> None:
    p = uuid.uuid4().hex[:6].upper()
    raw = csv_file(
        [
            f"T{p}-1,BT{p}-1,Ana Lima,transferred,active,2025-06-01",
            f"T{p}-2,BT{p}-2,Bruno Costa,transferred,idle,2025-06-01",
            f"T{p}-3,BT{p}-3,Carla Dias,new_hire,active,2026-01-05",
            f"T{p}-4,BT{p}-4,Davi Reis,retired,active,2025-06-01",
            f"T{p}-5,BT{p}-5,Eva Melo,new_hire,active,05.01.2026",
            f"T{p}-1,BT{p}-6,Ana Again,transferred,active,2025-06-01",
            f"T{p}-7,BT{p}-7,Too Few,new_hire,active",
            f'T{p}-8,BT{p}-8,"Souza, Fabio",recalled,active,2025-09-15',
        ]
    )
    mark = await db.outbox_mark()
    r = await api.post_csv("/employees/import", raw)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["summary"] == {"rows": 8, "created": 4, "updated": 0, "unchanged": 0, "rejected": 4}
    outcomes = {row["line"]: (row["employee_id"], row["outcome"]) for row in result["rows"]}
    assert outcomes == {
        2: (f"T{p}-1", "created"),
        3: (f"T{p}-2", "created"),
        4: (f"T{p}-3", "created"),
        5: (f"T{p}-4", "rejected"),
        6: (f"T{p}-5", "rejected"),
        7: (f"T{p}-1", "rejected"),
        8: (None, "rejected"),
        9: (f"T{p}-8", "created"),
    }
    reasons = {row["line"]: row["reason"] for row in result["rows"] if row["outcome"] == "rejected"}
    assert "origin" in reasons[5]
    assert reasons[6] == "status_since: '05.01.2026' is not a date YYYY-MM-DD"
    assert reasons[7] == f"employee_id T{p}-1 is already on line 2"
    assert reasons[8] == "has 5 fields, the header has 6"
    assert await db.outbox_since(mark) == [f"mes.employee.registered.v1 T{p}-{n}" for n in (1, 2, 3, 8)]
    [registered] = await tap.wait_for(f"T{p}-8", 1)
    assert registered.payload().model_dump() == {
        "employee_id": f"T{p}-8",
        "badge_id": f"BT{p}-8",
        "name": "Souza, Fabio",
        "origin": "recalled",
        "status": "active",
        "status_since": datetime(2025, 9, 15).date(),
    }

    # HR sends the same file again (a new request): nothing changes, nothing is published.
    mark = await db.outbox_mark()
    again = await api.post_csv("/employees/import", raw)
    assert again.status_code == 200, again.text
    assert again.json()["summary"] == {"rows": 8, "created": 0, "updated": 0, "unchanged": 4, "rejected": 4}
    assert await db.outbox_since(mark) == []

    # The same request resent under its key is answered from the first response.
    key = "hr-upload-" + p
    first = await api.post_csv("/employees/import", raw, key=key)
    replay = await api.post_csv("/employees/import", raw, key=key)
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == first.json()

    # A corrected file updates what changed and leaves the rest.
    fixed = csv_file(
        [
            f"T{p}-1,BT{p}-1,Ana Maria Lima,transferred,active,2025-06-01",
            f"T{p}-3,BT{p}-3,Carla Dias,new_hire,on_leave,{datetime.now(UTC).date().isoformat()}",
            f"T{p}-2,BT{p}-2,Bruno Costa,new_hire,idle,2025-06-01",
        ]
    )
    r = await api.post_csv("/employees/import", fixed)
    assert r.json()["summary"] == {"rows": 3, "created": 0, "updated": 2, "unchanged": 0, "rejected": 1}
    assert "origin" in r.json()["rows"][2]["reason"]
    detail = (await api.get(f"/employees/T{p}-3")).json()
    assert detail["status"] == "on_leave"
    assert [(h["from_status"], h["to_status"]) for h in detail["status_history"]] == [
        (None, "active"),
        ("active", "on_leave"),
    ]
    assert (await api.get(f"/employees/T{p}-1")).json()["name"] == "Ana Maria Lima"


async def test_events_of_an_employee_land_on_the_topic_in_order(
    api: Any,
    api_as: Callable[..., Any],
    tap: KafkaTap,
    make_employee: Callable[..., Any],
    make_line: Callable[..., Any],
    tools: SimpleNamespace,
) -> None:
    line = await make_line()
    employee = await make_employee(status="idle", origin="transferred")
    eid, station = employee["employee_id"], line.stations[0]
    headers = {"X-Correlation-ID": "corr-" + eid}

    r = await api.post(f"/employees/{eid}/recall", {"note": "ramp-up"}, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["origin"]) == ("active", "recalled")
    r = await api.post(
        f"/employees/{eid}/qualifications", {"station": station, "level": "trainee", "valid_until": tools.in_days(90)}
    )
    assert r.status_code == 201, r.text
    r = await api.post(
        f"/employees/{eid}/qualifications/{station}/renewal", {"level": "qualified", "valid_until": tools.in_days(365)}
    )
    assert r.status_code == 200 and r.json()["level"] == "qualified", r.text
    terminal = api_as(Role.TERMINAL, stations=[station], subject="terminal-" + station)
    scan = {"badge_id": employee["badge_id"], "station": station}
    now = datetime.now(UTC)
    r = await terminal.post("/clock-ins", scan | {"terminal_event_id": "in-" + eid, "at": now.isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["qualification"]["level"] == "qualified"
    r = await terminal.post(
        "/clock-outs", scan | {"terminal_event_id": "out-" + eid, "at": (now + timedelta(seconds=1)).isoformat()}
    )
    assert r.status_code == 200 and r.json()["result"] == "clocked_out", r.text
    r = await api.post(f"/employees/{eid}/status", {"to_status": "on_leave", "reason": "parental leave"})
    assert r.status_code == 200, r.text

    events = await tap.wait_for(eid, 8)
    assert [e.type for e in events] == [
        "mes.employee.registered.v1",
        "mes.employee.recalled.v1",
        "mes.employee.status-changed.v1",
        "mes.qualification.granted.v1",
        "mes.qualification.renewed.v1",
        "mes.employee.clocked-in.v1",
        "mes.employee.clocked-out.v1",
        "mes.employee.status-changed.v1",
    ]
    assert all(e.source == "/mes/workforce" and e.subject == eid for e in events)
    records = [r for r in tap.records if r.key == eid.encode()]
    assert len({r.partition for r in records}) == 1 and all(rec.topic == PEOPLE.name for rec in records)
    assert [r.offset for r in records] == sorted(r.offset for r in records)
    assert events[1].correlationid == events[2].correlationid == "corr-" + eid

    recalled = events[2].payload()
    assert (recalled.from_status, recalled.to_status, recalled.origin) == ("idle", "active", "recalled")
    clocked_in, clocked_out = events[5].payload(), events[6].payload()
    assert (clocked_in.station, clocked_in.line_id, clocked_in.shift, clocked_in.terminal_event_id) == (
        station,
        line.line_id,
        "A",
        "in-" + eid,
    )
    assert (
        clocked_in.at == now and clocked_in.shift_start == line.shift_start and clocked_in.shift_end == line.shift_end
    )
    assert (clocked_out.automatic, clocked_out.reason, clocked_out.terminal_event_id) == (
        False,
        "scanned",
        "out-" + eid,
    )

    detail = (await api.get(f"/employees/{eid}")).json()
    assert [h["to_status"] for h in detail["status_history"]] == ["idle", "active", "on_leave"]
    assert [q["station"] for q in detail["qualifications"]] == [station]
    assert [h["action"] for h in detail["qualification_history"]] == ["granted", "renewed"]
    assert detail["presence"] is None
    assert [x["recalled_on"] for x in detail["recalls"]] == [datetime.now(UTC).date().isoformat()]


async def test_recall_goal_and_progress(api: Any, tap: KafkaTap, make_employee: Callable[..., Any]) -> None:
    today = datetime.now(UTC).date()
    goal_id = "RG-" + uuid.uuid4().hex[:8].upper()
    body = {"goal_id": goal_id, "target_count": 3, "by_date": (today + timedelta(days=9)).isoformat(), "note": "wave 1"}
    r = await api.post("/recall/goals", body)
    assert r.status_code == 201, r.text
    assert (await api.post("/recall/goals", body)).status_code == 200, "the same goal again changes nothing"
    other = await api.post("/recall/goals", body | {"target_count": 4})
    assert other.status_code == 409 and other.json()["rule"] == "recall.goal.exists"

    before = (await api.get("/recall/progress", goal_id=goal_id)).json()
    idle = [await make_employee(status="idle") for _ in range(2)]
    for e in idle:
        r = await api.post(f"/employees/{e['employee_id']}/recall", {})
        assert r.status_code == 200, r.text
    progress = (await api.get("/recall/progress", goal_id=goal_id)).json()
    assert progress["recalled"] == before["recalled"] + 2
    assert progress["goal"]["target_count"] == 3 and progress["days_left"] == 10
    assert progress["remaining"] == max(0, 3 - progress["recalled"])
    assert (await api.get("/recall/progress")).json()["goal"]["goal_id"] == goal_id, "the latest goal by default"

    [goal_event] = await tap.wait_for("recall", 1)
    assert goal_event.type == "mes.recall.goal-set.v1"
    goal_events = [e for e in tap.envelopes("recall") if e.payload().goal_id == goal_id]
    assert len(goal_events) == 1
    recalled = [e for e in await tap.wait_for(idle[0]["employee_id"], 3) if e.type == "mes.employee.recalled.v1"]
    assert recalled[0].payload().goal_id == goal_id

    again = await api.post(f"/employees/{idle[0]['employee_id']}/recall", {})
    assert again.status_code == 409 and again.json()["rule"] == "employee.recall.not-idle"


async def test_headcount_by_origin_and_status(api: Any, make_employee: Callable[..., Any]) -> None:
    def cell(h: dict[str, Any], origin: str, status: str) -> int:
        return next(c["count"] for c in h["cells"] if (c["origin"], c["status"]) == (origin, status))

    before = (await api.get("/headcount")).json()
    await make_employee(status="active", origin="new_hire")
    idle = await make_employee(status="idle", origin="transferred")
    r = await api.post(f"/employees/{idle['employee_id']}/status", {"to_status": "left", "reason": "retired"})
    assert r.status_code == 200, r.text

    async def counted() -> dict[str, Any] | None:
        after = (await api.get("/headcount")).json()
        return after if after["total"] == before["total"] + 2 else None

    after = await eventually(counted, what="headcount")
    assert cell(after, "new_hire", "active") == cell(before, "new_hire", "active") + 1
    assert cell(after, "transferred", "left") == cell(before, "transferred", "left") + 1
    assert after["by_status"]["left"] == before["by_status"]["left"] + 1
    assert sum(after["by_origin"].values()) == after["total"]
    assert after["on_roll"] == after["total"] - after["by_status"]["left"]


async def test_employees_list_filters_and_pages(api: Any, make_employee: Callable[..., Any]) -> None:
    made = [await make_employee(status="on_leave", name=f"Zeta Pager {n}") for n in range(3)]
    page = (await api.get("/employees", status="on_leave", name="zeta pager", limit=2)).json()
    assert page["total"] >= 3 and len(page["items"]) == 2
    everyone = (await api.get("/employees", status="on_leave", name="Zeta Pager", limit=500)).json()["items"]
    assert {m["employee_id"] for m in made} <= {e["employee_id"] for e in everyone}
    assert all(e["status"] == "on_leave" for e in everyone)
    by_badge = (await api.get("/employees", badge_id=made[0]["badge_id"])).json()
    assert [e["employee_id"] for e in by_badge["items"]] == [made[0]["employee_id"]]


async def test_registration_again_badge_reissue_and_status_rules(
    api: Any, make_employee: Callable[..., Any], tap: KafkaTap
) -> None:
    e = await make_employee(status="active")
    eid = e["employee_id"]
    body = {k: e[k] for k in ("employee_id", "badge_id", "name", "origin", "status", "status_since")}
    assert (await api.post("/employees", body)).status_code == 200
    r = await api.post("/employees", body | {"name": "Someone else"})
    assert r.status_code == 409 and r.json()["rule"] == "employee.exists"

    other = await make_employee()
    r = await api.patch(f"/employees/{eid}", {"badge_id": other["badge_id"]})
    assert r.status_code == 409 and r.json()["rule"] == "employee.badge.taken"
    r = await api.patch(f"/employees/{eid}", {"badge_id": "NEW-" + eid})
    assert r.status_code == 200 and r.json()["badge_id"] == "NEW-" + eid

    r = await api.post(f"/employees/{eid}/status", {"to_status": "left", "reason": "resigned"})
    assert r.status_code == 200
    r = await api.post(f"/employees/{eid}/status", {"to_status": "active", "reason": "back"})
    assert r.status_code == 409 and r.json()["rule"] == "employee.status.left-is-final"
    events = await tap.wait_for(eid, 3)
    assert [x.type for x in events] == [
        "mes.employee.registered.v1",
        "mes.employee.updated.v1",
        "mes.employee.status-changed.v1",
    ]
