"""One bad event never blocks a terminal's backlog: whatever is wrong with it (malformed, refused by a rule, a
value PostgreSQL refuses, a failure of the service with that event) is its own `refused` result, the events
behind it are still judged, and sending the backlog again gives the same answers. Only a database fault stops
the batch, after the events before it were recorded, so the resend replays them and goes on.

The failures of the service are real ones: a trigger in the test database raising on one event's row, and an
instant that overflows when taken to UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from .conftest import Plant, Terminal, now

pytestmark = pytest.mark.integration


@asynccontextmanager
async def failing_insert(db: asyncpg.Connection, table: str, when: str, sqlstate: str) -> AsyncIterator[None]:
    """Rows of `table` matching `when` fail to insert with `sqlstate`, until the block ends."""
    name = f"test_fail_{uuid.uuid4().hex[:12]}"
    await db.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION 'failing on purpose' USING ERRCODE = '{sqlstate}'; END $$"
    )
    await db.execute(
        f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {name}()"
    )
    try:
        yield
    finally:
        await db.execute(f"DROP TRIGGER {name} ON {table}")
        await db.execute(f"DROP FUNCTION {name}()")


IDS_OF_THE_REQUEST = ("instance", "correlation_id")


def answers(batch: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each result as the terminal acts on it: status, outcome and problem (without this request's ids)."""
    out = []
    for res in batch["results"]:
        problem = res["problem"] and {k: v for k, v in res["problem"].items() if k not in IDS_OF_THE_REQUEST}
        out.append((res["index"], res["terminal_event_id"], res["status"], problem, res["result"]))
    return out


async def logged(db: asyncpg.Connection, terminal: Terminal) -> set[str]:
    rows = await db.fetch("SELECT terminal_event_id FROM station_events WHERE terminal = $1", terminal.subject)
    return {r["terminal_event_id"] for r in rows}


async def test_each_bad_event_is_refused_alone_and_the_backlog_behind_it_is_recorded(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    operator = await plant.operator(line, [s1])
    vin = await plant.build_order(line, await plant.kit(line))
    waiting = await plant.build_order(line, await plant.kit(line))  # arrives and stays while `vin` is built
    terminal: Terminal = terminal_for(s1)
    t = now() - timedelta(minutes=30)

    def at(minutes: int) -> Any:
        return t + timedelta(minutes=minutes)

    badge = operator.badge
    backlog = {
        "waiting arrives": terminal.event("arrived", at(0), vin=waiting),
        "arrives": terminal.event("arrived", at(1), vin=vin),
        "malformed": {"type": "work_started", "vin": vin},  # no id, no time, no badge
        "not clocked in": terminal.event("work_started", at(2), vin=vin, operator_badge="NOBODY"),
        "NUL reason": terminal.event("andon_raised", at(3), reason="line\x00stop"),  # the long way
        # The single-statement way. A refused event is judged again when sent again (it is accepted once its
        # reason is gone), so its answer stays the same while its truck does: this one's truck only waits.
        "NUL note": terminal.event(
            "defect_found", at(4), vin=waiting, code="DENT", severity="minor", caused_at_station=s1, note="dent\x00"
        ),
        "year 10000": {
            **terminal.event("work_started", vin=vin, operator_badge=badge),
            "occurred_at": "9999-12-31T23:00:00-05:00",
        },
        "fails after its claim": terminal.event("andon_raised", at(5), reason="explodes"),
        "unstorable": terminal.event("andon_raised", at(5), reason="unstorable"),  # class 22: a data exception
        "starts": terminal.event("work_started", at(6), vin=vin, operator_badge=badge),
        "completes": terminal.event("work_completed", at(7), vin=vin, operator_badge=badge),
    }
    events = list(backlog.values())
    failing = failing_insert(db, "andons", "NEW.reason = 'explodes'", "P0001")
    unstorable = failing_insert(db, "andons", "NEW.reason = 'unstorable'", "22021")
    async with failing, unstorable:
        r = await terminal.batch(s1, events)
        assert r.status_code == 200, r.text
        first = r.json()
        r = await terminal.batch(s1, events)
        assert r.status_code == 200, r.text
        again = r.json()

    assert [res["index"] for res in first["results"]] == list(range(len(events)))
    result = dict(zip(backlog, first["results"], strict=True))
    # Year 10000 in UTC: a failure of the service today; refused as invalid once every instant is bounded.
    overflow = result["year 10000"]["status"]
    assert overflow in (422, 500) and result["year 10000"]["problem"]["status"] == overflow
    assert {label: (res["status"], res["outcome"]) for label, res in result.items()} == {
        "waiting arrives": (201, "accepted"),
        "arrives": (201, "accepted"),
        "malformed": (422, "refused"),
        "not clocked in": (409, "refused"),
        "NUL reason": (422, "refused"),
        "NUL note": (422, "refused"),
        "year 10000": (overflow, "refused"),
        "fails after its claim": (500, "refused"),
        "unstorable": (422, "refused"),
        "starts": (201, "accepted"),
        "completes": (201, "accepted"),
    }
    assert (first["accepted"], first["replayed"], first["refused"]) == (4, 0, 7)
    assert result["malformed"]["problem"]["type"] == "/problems/invalid-request"
    assert result["malformed"]["terminal_event_id"] is None
    assert result["not clocked in"]["problem"]["rule"] == "operator.not-clocked-in"
    for nul in (result["NUL reason"], result["NUL note"]):
        assert nul["problem"]["detail"] and nul["terminal_event_id"], nul
        # PostgreSQL's refusal, or the input types' where they catch it first: refused alone either way.
        assert nul["problem"]["type"] in ("/problems/invalid-value", "/problems/invalid-request"), nul
    failed = result["fails after its claim"]
    assert failed["problem"]["type"] == "/problems/internal-error"
    assert failed["terminal_event_id"] == backlog["fails after its claim"]["terminal_event_id"]
    assert result["unstorable"]["problem"]["type"] == "/problems/invalid-value"
    assert result["completes"]["result"]["vehicle"]["status"] == "completed"

    # Sent again: the same answer for each event, the accepted ones replayed.
    assert answers(again) == answers(first)
    outcomes = [{"accepted": "replayed"}.get(res["outcome"], res["outcome"]) for res in first["results"]]
    assert [res["outcome"] for res in again["results"]] == outcomes
    assert (again["accepted"], again["replayed"], again["refused"]) == (0, 4, 7)

    # A refused event left nothing behind, not even the claim written before the service failed.
    accepted = {backlog[label]["terminal_event_id"] for label in ("waiting arrives", "arrives", "starts", "completes")}
    assert await logged(db, terminal) == accepted
    assert await db.fetchval("SELECT count(*) FROM andons WHERE station = $1", s1) == 0
    view = (await plant.supervisor.get(f"/vehicles/{vin}")).json()
    assert view["status"] == "completed" and view["first_pass"] is True
    assert (await plant.supervisor.get(f"/vehicles/{waiting}")).json()["defects"] == []


async def test_a_database_fault_stops_the_batch_and_the_resend_goes_on_from_there(
    plant: Plant, terminal_for: Any, db: asyncpg.Connection, app: FastAPI
) -> None:
    line = await plant.line(stations=1)
    [s1] = line.stations
    operator = await plant.operator(line, [s1])
    vin = await plant.build_order(line, await plant.kit(line))
    terminal: Terminal = terminal_for(s1)
    t = now() - timedelta(minutes=30)
    events = [
        terminal.event("arrived", t, vin=vin),
        terminal.event("work_started", t + timedelta(minutes=1), vin=vin, operator_badge=operator.badge),
        terminal.event("work_completed", t + timedelta(minutes=2), vin=vin, operator_badge=operator.badge),
    ]
    blocked = events[1]["terminal_event_id"]
    # A server error is an answer here, not an exception raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # lock_not_available: the database could not do it now, which says nothing about the event.
    blocking = failing_insert(db, "station_events", f"NEW.terminal_event_id = '{blocked}'", "55P03")
    async with httpx.AsyncClient(transport=transport, base_url="http://assembly-line") as client, blocking:
        r = await client.post(f"/stations/{s1}/events:batch", json={"events": events}, headers=terminal.headers)
    # 503 once the shared problem handlers answer every infrastructure fault so (issue 10); never a refusal.
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await logged(db, terminal) == {events[0]["terminal_event_id"]}

    r = await terminal.batch(s1, events)
    assert r.status_code == 200, r.text
    assert [res["outcome"] for res in r.json()["results"]] == ["replayed", "accepted", "accepted"]
    assert (await plant.supervisor.get(f"/vehicles/{vin}")).json()["status"] == "completed"
