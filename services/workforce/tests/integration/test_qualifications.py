"""Qualifications through HTTP: grant, renew, revoke, what expires soon, and expiry announced by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from mes_shared.auth import Role
from mes_shared.testing import KafkaTap
from workforce.service.sweeps import announce_expiries


async def test_grant_renew_revoke_and_grant_again(
    api: Any, make_line: Callable[..., Any], make_employee: Callable[..., Any], tap: KafkaTap, tools: SimpleNamespace
) -> None:
    line = await make_line(calendar=False)
    eid = (await make_employee())["employee_id"]
    station = line.stations[0]
    until = datetime.now(UTC) + timedelta(days=180)
    r = await api.post(
        f"/employees/{eid}/qualifications",
        {"station": station, "level": "trainee", "valid_until": until.isoformat()},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["state"], r.json()["level"]) == ("valid", "trainee")

    again = await api.post(
        f"/employees/{eid}/qualifications", {"station": station, "level": "trainer", "valid_until": tools.in_days(9)}
    )
    tools.assert_problem(again, 409, rule="qualification.exists", mentions=(eid, station))

    renewed = await api.post(
        f"/employees/{eid}/qualifications/{station}/renewal", {"valid_until": tools.in_days(365), "level": "trainer"}
    )
    assert renewed.status_code == 200 and renewed.json()["level"] == "trainer", renewed.text
    assert renewed.json()["valid_from"] == r.json()["valid_from"], "validity stays continuous"

    revoked = await api.post(f"/employees/{eid}/qualifications/{station}/revocation", {"reason": "safety incident"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked", revoked.text
    assert (
        await api.post(f"/employees/{eid}/qualifications/{station}/revocation", {"reason": "again"})
    ).status_code == 200
    r = await api.post(f"/employees/{eid}/qualifications/{station}/renewal", {"valid_until": tools.in_days(30)})
    tools.assert_problem(r, 409, rule="qualification.revoked")

    regrant = await api.post(
        f"/employees/{eid}/qualifications", {"station": station, "level": "trainee", "valid_until": tools.in_days(30)}
    )
    assert regrant.status_code == 201 and regrant.json()["state"] == "valid", regrant.text

    skill = await api.post(
        f"/employees/{eid}/qualifications",
        {"station": "skill:forklift", "level": "qualified", "valid_until": tools.in_days(30)},
    )
    assert skill.status_code == 201, skill.text
    r = await api.post(f"/employees/{eid}/qualifications/skill:forklift/revocation", {"reason": "licence lapsed"})
    assert r.status_code == 200 and r.json()["station"] == "skill:forklift"

    events = await tap.wait_for(eid, 7)
    assert [e.type for e in events][1:] == [
        "mes.qualification.granted.v1",
        "mes.qualification.renewed.v1",
        "mes.qualification.revoked.v1",
        "mes.qualification.granted.v1",
        "mes.qualification.granted.v1",
        "mes.qualification.revoked.v1",
    ]
    granted = events[1].payload()
    assert (granted.employee_id, granted.station, granted.level, granted.valid_until) == (
        eid,
        station,
        "trainee",
        until,
    )
    revocation = events[3].payload()
    assert (revocation.level, revocation.reason) == ("trainer", "safety incident")

    detail = (await api.get(f"/employees/{eid}")).json()
    assert {q["station"]: q["state"] for q in detail["qualifications"]} == {
        station: "valid",
        "skill:forklift": "revoked",
    }
    assert [h["action"] for h in detail["qualification_history"]] == [
        "granted",
        "renewed",
        "revoked",
        "granted",
        "granted",
        "revoked",
    ]


async def test_refusals_write_nothing(
    api: Any, make_line: Callable[..., Any], make_employee: Callable[..., Any], db: Any, tools: SimpleNamespace
) -> None:
    line = await make_line(stations=1, calendar=False)
    eid = (await make_employee())["employee_id"]
    mark = await db.outbox_mark()
    good = {"station": line.stations[0], "level": "qualified", "valid_until": tools.in_days(30)}
    ghost = line.line_id + "-ST77"
    r = await api.post(f"/employees/{eid}/qualifications", good | {"station": ghost})
    tools.assert_problem(r, 422, rule="station.unknown", mentions=(ghost,))
    r = await api.post(
        f"/employees/{eid}/qualifications", good | {"valid_from": tools.in_days(-10), "valid_until": tools.in_days(-1)}
    )
    tools.assert_problem(r, 422, rule="qualification.validity.past")
    r = await api.post(f"/employees/{eid}/qualifications", good | {"valid_from": tools.in_days(40)})
    tools.assert_problem(r, 422, rule="qualification.validity.empty")
    r = await api.post(f"/employees/{eid}/qualifications", good | {"level": "master"})
    tools.assert_problem(r, 422, type_="/problems/invalid-request", mentions=("level",))
    r = await api.post(f"/employees/{eid}/qualifications", good | {"valid_until": "2027-01-01T00:00:00"})
    tools.assert_problem(r, 422, type_="/problems/invalid-request", mentions=("valid_until",))
    r = await api.post("/employees/NOBODY-X/qualifications", good)
    tools.assert_problem(r, 404, rule="employee.not-found")
    r = await api.post(f"/employees/{eid}/qualifications/{line.stations[0]}/renewal", {"valid_until": tools.in_days(9)})
    tools.assert_problem(r, 404, rule="qualification.not-found")
    left = (await make_employee(status="left"))["employee_id"]
    mark = max(mark, await db.outbox_mark())
    r = await api.post(f"/employees/{left}/qualifications", good)
    tools.assert_problem(r, 409, rule="employee.left")
    assert await db.outbox_since(mark) == []
    assert await db.count("qualifications", "employee_id = ANY($1)", [eid, left]) == 0


async def test_what_expires_in_the_next_n_days(
    api: Any,
    api_as: Callable[..., Any],
    make_line: Callable[..., Any],
    make_employee: Callable[..., Any],
    tools: SimpleNamespace,
) -> None:
    line = await make_line(stations=3, calendar=False)
    a, b = (await make_employee())["employee_id"], (await make_employee())["employee_id"]
    for eid, station, days in ((a, line.stations[0], 5), (a, line.stations[1], 40), (b, line.stations[2], 20)):
        r = await api.post(
            f"/employees/{eid}/qualifications",
            {"station": station, "level": "qualified", "valid_until": tools.in_days(days)},
        )
        assert r.status_code == 201, r.text
    manager = api_as(Role.MANAGER)
    soon = (await manager.get("/qualifications/expiring", days=30, line_id=line.line_id)).json()
    assert [(q["employee_id"], q["station"]) for q in soon["items"]] == [(a, line.stations[0]), (b, line.stations[2])]
    assert soon["items"][0]["line_id"] == line.line_id and soon["items"][0]["name"].startswith("Operator")
    week = (await manager.get("/qualifications/expiring", days=7, station=line.stations[0])).json()
    assert [q["employee_id"] for q in week["items"]] == [a]
    tools.assert_problem(await manager.get("/qualifications/expiring", days=0), 422)


async def test_expiry_takes_effect_by_itself_and_is_announced_once(
    app: FastAPI, api: Any, make_line: Callable[..., Any], make_employee: Callable[..., Any], tap: KafkaTap, db: Any
) -> None:
    line = await make_line(stations=2, calendar=False)
    eid = (await make_employee())["employee_id"]
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    r = await api.post(
        f"/employees/{eid}/qualifications",
        {"station": line.stations[0], "level": "qualified", "valid_until": until.isoformat()},
    )
    assert r.status_code == 201, r.text
    sessions = app.state.runtime.sessions

    assert await announce_expiries(sessions, now=until - timedelta(microseconds=1)) >= 0
    assert await db.count("outbox", "key = $1 AND event_type = 'mes.qualification.expired.v1'", eid) == 0
    assert await announce_expiries(sessions, now=until) >= 1
    assert await announce_expiries(sessions, now=until + timedelta(microseconds=1)) == 0

    events = await tap.wait_for(eid, 3)
    expired = events[2]
    assert expired.type == "mes.qualification.expired.v1"
    assert expired.time == until and expired.payload().expired_at == until
    assert (expired.payload().station, expired.payload().level) == (line.stations[0], "qualified")
    [row] = await db.rows("SELECT * FROM qualification_history WHERE employee_id = $1 AND action = 'expired'", eid)
    assert row["actor"] == "workforce-sweeper"


async def test_history_from_a_training_record_is_recorded_at_its_own_times(
    api: Any, make_line: Callable[..., Any], make_employee: Callable[..., Any], tap: KafkaTap, tools: SimpleNamespace
) -> None:
    """Qualifications held last year, entered today with the times they happened: each change is judged and
    published at its own time, an expired grant is announced as expired, and a change that would contradict
    what is already recorded is refused."""
    line = await make_line(calendar=False)
    eid = (await make_employee())["employee_id"]
    station = line.stations[0]
    now = datetime.now(UTC)
    t = {n: (now + timedelta(days=n)).isoformat() for n in (-400, -300, -200, -100, -50, -10, -5, -2, 30)}
    grants = f"/employees/{eid}/qualifications"

    def grant(level: str, until: int, at: int) -> dict[str, str]:
        return {"station": station, "level": level, "valid_until": t[until], "granted_at": t[at]}

    r = await api.post(grants, grant("trainee", -200, -300))
    assert r.status_code == 201, r.text
    assert (r.json()["state"], r.json()["valid_from"]) == ("expired", r.json()["valid_from"])
    assert datetime.fromisoformat(r.json()["valid_from"]) == datetime.fromisoformat(t[-300])
    # Without its time, a validity already past is refused, saying how to record history.
    past = {"station": station, "level": "trainee", "valid_from": t[-100], "valid_until": t[-10]}
    r = await api.post(grants, past)
    tools.assert_problem(r, 422, rule="qualification.validity.past", mentions=("state when it was granted",))
    # A grant dated before the recorded one would rewrite its history.
    tools.assert_problem(
        await api.post(grants, grant("trainee", -300, -400)), 409, rule="qualification.before-recorded"
    )
    r = await api.post(grants, grant("qualified", -10, -100))
    assert r.status_code == 201 and r.json()["state"] == "expired", r.text
    # Its expiry is recorded: a revocation dated before it would contradict what was published.
    r = await api.post(f"{grants}/{station}/revocation", {"reason": "audit", "revoked_at": t[-50]})
    tools.assert_problem(r, 409, rule="qualification.before-recorded")
    r = await api.post(grants, grant("trainer", 30, -5))
    assert r.status_code == 201 and r.json()["state"] == "valid", r.text
    r = await api.post(f"{grants}/{station}/revocation", {"reason": "audit", "revoked_at": t[-2]})
    assert r.status_code == 200 and r.json()["state"] == "revoked", r.text

    wanted = [
        ("granted", -300),
        ("expired", -200),
        ("granted", -100),
        ("expired", -10),
        ("granted", -5),
        ("revoked", -2),
    ]
    events = await tap.wait_for(eid, len(wanted) + 1)  # the registration too
    changes = [(e.type.split(".")[2], e.time) for e in events if e.type.startswith("mes.qualification.")]
    assert changes == [(kind, datetime.fromisoformat(t[n])) for kind, n in wanted]
