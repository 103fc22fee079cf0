"""Replay: a rebuild folds every topic from the start into a fresh schema while the live views keep
serving, swaps it in, and the rebuilt numbers equal the live ones exactly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest
from reporting_story import AT, build_story, kit_events, t
from reporting_support import SECRET, TEST_GROUP, Api, Bus, calendar, completed, station_event, unique

from mes_shared.db import asyncpg_dsn
from mes_shared.events import vehicles as v
from mes_shared.testing import eventually
from reporting.projections import store
from reporting.projections.tables import PROJECTION_TABLES, inbox

pytestmark = pytest.mark.integration

VIEWS = [
    ("/output", {}),
    ("/output/curve", {}),
    ("/output/series", {"from": "2026-11-01", "to": "2026-11-30"}),
    ("/output/completions", {}),
    ("/wip", {}),
    ("/wip/trucks", {}),
    ("/flow/lead-time", {}),
    ("/flow/cycle-times", {}),
    ("/quality", {}),
    ("/quality/pareto", {}),
    ("/andons", {}),
    ("/andons/open", {}),
    ("/oee", {}),
    ("/kits/held-trucks", {}),
    ("/localisation", {}),
    ("/people/staffing", {}),
]


async def snapshot_views(api: Api, line: str, kit_type: str) -> dict[str, Any]:
    out = {}
    for path, params in VIEWS:
        out[path] = await api.json(path, line=line, at=AT.isoformat(), **params)
    out["/kits"] = await api.json("/kits", line=line, kit_type=kit_type, at=AT.isoformat())
    out["/kits/discrepancies"] = await api.json("/kits/discrepancies", kit_type=kit_type, status="all")
    return out


async def dump(conn: asyncpg.Connection, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row of a schema, in key order (bookkeeping columns that hold `now()` left out)."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in PROJECTION_TABLES:
        keys = ", ".join(c.name for c in table.primary_key.columns)
        rows = await conn.fetch(f'SELECT * FROM "{schema}"."{table.name}" ORDER BY {keys}')
        tables[table.name] = [tuple(r.values()) for r in rows]
    inbox_rows = await conn.fetch(
        f'SELECT consumer, event_id, topic, "partition", "offset" FROM "{schema}".{inbox.name} ORDER BY event_id'
    )
    tables["inbox"] = [tuple(r.values()) for r in inbox_rows]
    return tables


def only(tables: dict[str, list[tuple[Any, ...]]], markers: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows that mention this test's lines, VINs, kits or andons."""
    return {
        name: [row for row in rows if any(isinstance(v, str) and v in markers for v in row)]
        for name, rows in tables.items()
        if name != "inbox"
    }


async def wait_swapped(admin: Api, rebuild_id: int) -> dict[str, Any]:
    async def swapped() -> dict[str, Any] | None:
        status = await admin.json(f"/admin/rebuilds/{rebuild_id}")
        assert status["status"] != "failed", status
        return status if status["status"] == "swapped" else None

    return await eventually(swapped, timeout_s=120, what=f"rebuild {rebuild_id} to swap in")


async def test_a_rebuild_equals_the_live_projection(
    bus: Bus, manager: Api, planner: Api, admin: Api, database_url: str
) -> None:
    story = build_story(unique("T-R"))
    story.add(*kit_events(story))
    # Redeliveries: the same events again, as after a relay crash; they must count once, live and rebuilt.
    story.add(*story.events[-5:], *story.events[10:14])
    # Torque checks: a rebuild reads only their id and type (reporting does not fold them).
    story.add(
        *(
            station_event(
                v.CheckRecorded,
                story.line,
                vin,
                "ST-01",
                t(8, n),
                characteristic="torque",
                value=41.5,
                nominal=42,
                tolerance=2,
                unit="Nm",
                passed=True,
            )
            for n, vin in enumerate(story.vins.values())
        )
    )
    await bus.publish(*story.events)
    assert (
        await planner.put(f"/targets/{story.line}/2026", {"annual": 2000, "monthly": {"11": 210}})
    ).status_code == 200
    live = await snapshot_views(manager, story.line, story.kit_type)
    markers = {story.line, story.kit_type, *story.vins.values(), *story.kits.values()}

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        before = await conn.fetchrow("SELECT generation, schema_name FROM projection_pointer")
        # The live views keep answering, with the same figures, while the rebuild runs.
        stop = asyncio.Event()
        answers: list[int] = []

        async def keep_reading() -> None:
            while not stop.is_set():
                view = await manager.json("/output", line=story.line, at=AT.isoformat())
                assert view == live["/output"]
                answers.append(1)
                await asyncio.sleep(0.02)

        reader = asyncio.create_task(keep_reading())
        response = await admin.client.post("/admin/rebuild", headers=admin.headers)
        assert response.status_code == 202, response.text
        started = response.json()
        assert response.headers["location"] == f"/admin/rebuilds/{started['id']}"
        assert started["schema_name"] == store.schema_for(started["id"])
        finished = await wait_swapped(admin, started["id"])
        stop.set()
        await reader
        assert answers, "the live views answered during the rebuild"
        assert finished["events_applied"] > 0 and finished["end_offsets"]

        after = await conn.fetchrow("SELECT generation, schema_name FROM projection_pointer")
        assert after["generation"] == started["id"] > before["generation"]
        old, new = await dump(conn, before["schema_name"]), await dump(conn, after["schema_name"])
        old_positions = dict(
            await conn.fetch(
                f'SELECT topic || \'/\' || "partition", next_offset FROM "{before["schema_name"]}".positions'
            )
        )
        new_positions = dict(
            await conn.fetch(
                f'SELECT topic || \'/\' || "partition", next_offset FROM "{after["schema_name"]}".positions'
            )
        )
    finally:
        await conn.close()

    # Every row about this test is identical; when nothing else was published meanwhile, every row is.
    assert only(new, markers) == only(old, markers)
    assert sum(len(rows) for rows in only(old, markers).values()) > 40
    if all(new_positions.get(k, 0) == v for k, v in old_positions.items()):
        assert new == old
    assert all(new_positions.get(k, 0) >= v for k, v in old_positions.items())

    rebuilt = await snapshot_views(manager, story.line, story.kit_type)
    assert rebuilt == live

    # And the live consumer goes on folding into the new schema.
    await bus.publish(completed(story.line, t(11, 50)))
    view = await manager.json("/output", line=story.line, at=AT.isoformat())
    assert {p["period"]: p["actual"] for p in view["periods"]}["day"] == 3


async def test_one_rebuild_at_a_time(admin: Api, database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", store.REBUILD_LOCK)  # another replica's rebuild
        response = await admin.client.post("/admin/rebuild", headers=admin.headers)
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["rule"] == "rebuild-running"
    finally:
        with contextlib.suppress(Exception):
            await conn.execute("SELECT pg_advisory_unlock($1)", store.REBUILD_LOCK)
        await conn.close()


async def test_only_admins_rebuild(manager: Api, planner: Api) -> None:
    for api in (manager, planner):
        r = await api.client.post("/admin/rebuild", headers=api.headers)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert (await api.get("/admin/projections")).status_code == 403


async def test_the_rebuild_command(bus: Bus, manager: Api, admin: Api, database_url: str, bootstrap: str) -> None:
    story = build_story(unique("T-C"))
    await bus.publish(*story.events)
    live = await manager.json("/quality", line=story.line, at=AT.isoformat())
    before = await admin.json("/admin/projections")
    env = dict(os.environ)
    env.update(
        REPORTING_DATABASE_URL=database_url,
        REPORTING_KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        REPORTING_AUTH_SECRET=SECRET,
        REPORTING_CONSUMER_GROUP_PREFIX=TEST_GROUP,
        REPORTING_ENVIRONMENT="test",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "reporting.rebuild",
        "--requested-by",
        "test",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, output.decode()
    assert b"swapped in" in output
    after = await admin.json("/admin/projections")
    assert after["generation"] > before["generation"]
    assert await manager.json("/quality", line=story.line, at=AT.isoformat()) == live
    rebuilds = await admin.json("/admin/rebuilds")
    assert rebuilds["items"][0]["requested_by"] == "test" and rebuilds["items"][0]["status"] == "swapped"


async def test_a_changed_projection_layout_is_rebuilt_by_itself(
    bus: Bus, manager: Api, admin: Api, database_url: str, new_line: Any
) -> None:
    """New code with other projection tables meets the old schema: the live consumer stops writing to it,
    the service rebuilds into the new layout beside it and swaps; nothing is lost meanwhile."""
    before = await admin.json("/admin/projections")
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("UPDATE projection_pointer SET layout = 'an-older-layout'")
    finally:
        await conn.close()
    line = new_line()
    await bus.send(calendar(line), completed(line, t(9)))

    async def rebuilt() -> dict[str, Any] | None:
        status = await admin.json("/admin/projections")
        return (
            status
            if status["generation"] > before["generation"] and status["layout"] == status["code_layout"]
            else None
        )

    await eventually(rebuilt, timeout_s=120, what="the automatic rebuild into the code's layout")
    await bus.folded()
    view = await manager.json("/output", line=line, at=AT.isoformat())
    assert {p["period"]: p["actual"] for p in view["periods"]}["day"] == 1

    async def ready() -> bool:
        return (await manager.client.get("/health/ready")).status_code == 200

    await eventually(ready, what="the service to be ready again")
