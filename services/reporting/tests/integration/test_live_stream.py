"""The live stream: a `change` event names the views a committed batch changed and the subjects its facts
touched; heartbeats keep it open; the token may come in the URL, read-only tokens only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from reporting_support import SECRET, Bus, Served, calendar, completed, free_port, token, unique, wrap

from mes_shared.auth import Role, issue_token
from mes_shared.db import asyncpg_dsn
from mes_shared.events import stations as s
from mes_shared.testing import eventually
from reporting.projections.runner import notice
from reporting.service.live import ChangeHub, event_stream

pytestmark = pytest.mark.integration


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """Parse a text/event-stream into (event, data) pairs."""
    name, data = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


async def next_event(stream: AsyncIterator[tuple[str, Any]], wanted: str, timeout_s: float = 10.0) -> Any:
    async def find() -> Any:
        async for name, data in stream:
            if name == wanted:
                return data
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), timeout_s)


async def test_a_committed_batch_is_announced_on_the_stream(served: Served, bus: Bus, new_line: Any) -> None:
    line = new_line()
    async with (
        httpx.AsyncClient(base_url=served.url, timeout=None) as client,
        client.stream("GET", "/stream", headers={"Authorization": f"Bearer {token(Role.MANAGER)}"}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        hello = await next_event(stream, "hello")
        assert "output" in hello["views"]
        now = datetime.now(UTC)
        truck, station = completed(line, now), unique(f"{line}-S")
        andon = s.AndonRaised(
            andon_id=unique("A"), line_id=line, station=station, reason="x", raised_by=None, stops_line=False, vin=None
        )
        await bus.send(calendar(line), truck, wrap(andon, station, now))
        named: set[str] = set()
        while not {truck.subject, station} <= named:  # the events may fold in different batches
            change = await next_event(stream, "change")
            assert change["generation"] is None or isinstance(change["generation"], int)
            assert change["subjects"] == sorted(change["subjects"]) and isinstance(change["more"], bool)
            named |= set(change["subjects"])
            if truck.subject in change["subjects"]:
                assert "output" in change["views"]
            if station in change["subjects"]:
                assert "andons" in change["views"]


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.MANAGER, 200), (Role.PLANNER, 403), (Role.ADMIN, 403), (Role.TERMINAL, 403)],
)
async def test_only_a_read_only_token_may_travel_in_the_url(served: Served, role: Role, status: int) -> None:
    stations = ["ST-01"] if role is Role.TERMINAL else None
    subject_token = issue_token(SECRET, subject="someone", role=role, stations=stations)
    async with (
        httpx.AsyncClient(base_url=served.url, timeout=None) as client,
        client.stream("GET", "/stream", params={"token": subject_token}) as response,
    ):
        assert response.status_code == status
        if status != 200:
            body = json.loads(await response.aread())
            assert response.headers["content-type"] == "application/problem+json"
            assert body["status"] == status


async def test_the_stream_needs_a_token(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        r = await client.get("/stream")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        bad = await client.get("/stream", params={"token": "nonsense"})
        assert bad.status_code == 401


async def test_heartbeats_and_notifications_reach_every_stream(database_url: str) -> None:
    dsn = asyncpg_dsn(database_url)
    marker = f"marker-{uuid.uuid4().hex[:8]}"
    channel = f"test_{uuid.uuid4().hex[:8]}"  # the app under test notifies on the real channel meanwhile
    hub = ChangeHub(dsn, channel=channel)
    await hub.start()
    try:
        await asyncio.wait_for(hub.listening.wait(), 10)
        first, second = event_stream(hub, heartbeat_s=0.2), event_stream(hub, heartbeat_s=0.2)
        assert (await anext(first)).startswith("retry: 2000\n\nevent: hello")
        assert (await anext(second)).startswith("retry: 2000\n\nevent: hello")
        assert (await asyncio.wait_for(anext(first), 2)).startswith("event: heartbeat")
        conn = await asyncpg.connect(dsn)
        try:
            # Another replica's consumer committing a batch.
            payload = notice([marker], 4, {"LINE-9-S01", "WDB00000000000009"})
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
        finally:
            await conn.close()
        for stream in (first, second):
            message = await asyncio.wait_for(anext(stream), 5)
            while message.startswith("event: heartbeat"):
                message = await asyncio.wait_for(anext(stream), 5)
            assert message.startswith("event: change")
            data = json.loads(message.split("data: ", 1)[1])
            assert data["views"] == [marker] and data["generation"] == 4
            assert data["subjects"] == ["LINE-9-S01", "WDB00000000000009"] and data["more"] is False
        assert hub.subscribers == 2
        await first.aclose()
        await second.aclose()
        assert hub.subscribers == 0
    finally:
        await hub.stop()


async def test_a_server_with_open_streams_stops_promptly(database_url: str, bootstrap: str) -> None:
    """SIGTERM ends the live streams first: uvicorn would otherwise wait for them forever."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        REPORTING_DATABASE_URL=database_url,
        REPORTING_KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        REPORTING_AUTH_SECRET=SECRET,
        REPORTING_ENVIRONMENT="test",
        REPORTING_RUN_WORKERS="false",
    )
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "--factory", "reporting.main:create_app", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning",
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=None) as client:

            async def up() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await client.get("/health/live")).status_code == 200
                return False

            await eventually(up, timeout_s=30, what="the server to start")
            headers = {"Authorization": f"Bearer {token(Role.MANAGER)}"}
            async with client.stream("GET", "/stream", headers=headers) as response:
                stream = events(response)
                await next_event(stream, "hello")
                started = time.monotonic()
                server.send_signal(signal.SIGTERM)

                async def until_ended() -> None:
                    async for _ in stream:
                        pass

                await asyncio.wait_for(until_ended(), 10)  # the server ends the stream
            await asyncio.wait_for(server.wait(), 15)
            assert time.monotonic() - started < 10
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
