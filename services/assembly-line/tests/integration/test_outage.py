"""Honest answers while the database is away: every kind of path (a SQLAlchemy command, a query, the terminals'
raw-asyncpg fast path and its batch) answers 503 problem+json with Retry-After, within seconds, never 500;
readiness says not ready while liveness stays up; with only the broker away the service is ready, degraded.

The app here has a database of its own (made to refuse connections, as `ALTER DATABASE ... ALLOW_CONNECTIONS
false` does during a restore) and no workers, so the session's other tests never see the outage."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from assembly_line.main import create_app
from mes_shared.auth import Role
from mes_shared.testing import eventually, migrate, recreate_database, require_env

from .conftest import PROBLEM, SERVICE_DIR, make_settings, now, token, unique

pytestmark = pytest.mark.integration

DATABASE = "assembly_line_outage_test"
# A request waiting for a database that does not answer hears 503 within this (connect timeout 3 s, plus room
# for a slow CI machine), never after a driver's default minutes.
BOUND_S = 8.0


@pytest.fixture(scope="module")
async def outage_database_url() -> str:
    url = await recreate_database(require_env("MES_PG_URL"), DATABASE)
    await migrate(SERVICE_DIR, url)
    return url


@contextlib.asynccontextmanager
async def running(database_url: str, bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, bootstrap, run_workers=False, retry_after_s=3))
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assembly-line", timeout=60) as c,
    ):
        yield c


@contextlib.asynccontextmanager
async def refusing_connections(name: str) -> AsyncIterator[None]:
    """The database refuses new connections and its open ones are cut; restored afterwards whatever happens."""
    admin = await asyncpg.connect(f"{require_env('MES_PG_URL')}/postgres", timeout=10)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


@contextlib.asynccontextmanager
async def silent_database() -> AsyncIterator[str]:
    """A database host that accepts connections and never answers (a hung server, a network black hole)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql+asyncpg://mes:mes@127.0.0.1:{port}/{DATABASE}"
    finally:
        for writer in held:
            writer.close()
        server.close()


class Paths:
    """One request of each kind of path; `line` is a line the database knows (for the warm-up)."""

    def __init__(self, client: httpx.AsyncClient, line: str) -> None:
        self.client, self.line, self.station = client, line, f"{line}-S1"
        self.supervisor = {"Authorization": f"Bearer {token(Role.SUPERVISOR)}"}
        self.terminal = {"Authorization": f"Bearer {token(Role.TERMINAL, unique('terminal'), [self.station])}"}

    def line_body(self) -> dict[str, Any]:
        return {"name": f"Line {self.line}", "stations": [{"station_id": self.station, "name": "Station 1"}]}

    def andon(self) -> dict[str, Any]:
        return {"type": "andon_raised", "terminal_event_id": uuid.uuid4().hex, "occurred_at": now().isoformat()}

    def all(self) -> dict[str, Callable[[], Awaitable[httpx.Response]]]:
        c, key = self.client, {"Idempotency-Key": uuid.uuid4().hex}
        return {
            "command": lambda: c.put(f"/lines/{self.line}", json=self.line_body(), headers=self.supervisor | key),
            "query": lambda: c.get("/lines", headers=self.supervisor),
            "station event": lambda: c.post(
                f"/stations/{self.station}/events", json=self.andon() | {"reason": "air"}, headers=self.terminal
            ),
            "batch": lambda: c.post(
                f"/stations/{self.station}/events:batch",
                json={"events": [self.andon() | {"reason": "air"}]},
                headers=self.terminal,
            ),
        }


async def assert_unavailable(name: str, call: Callable[[], Awaitable[httpx.Response]]) -> None:
    began = time.monotonic()
    r = await call()
    took = time.monotonic() - began
    assert r.status_code == 503, (name, r.status_code, r.text)
    assert took < BOUND_S, (name, took)
    assert r.headers["content-type"] == PROBLEM, (name, r.headers)
    assert int(r.headers["retry-after"]) > 0, name
    body = r.json()
    assert body["status"] == 503 and body["retryable"] is True, (name, body)


async def test_every_path_answers_503_to_resend_while_the_database_refuses_connections(
    outage_database_url: str, bootstrap: str
) -> None:
    async with running(outage_database_url, bootstrap) as client:
        paths = Paths(client, unique("L"))
        # Warm up: every pool holds connections, which the outage then cuts.
        assert (await paths.all()["command"]()).status_code in (200, 201)
        for name, call in paths.all().items():
            assert (await call()).status_code < 500, name
        async with refusing_connections(DATABASE):
            for name, call in paths.all().items():
                await assert_unavailable(name, call)
                await assert_unavailable(f"{name} again", call)
            ready = await client.get("/health/ready")
            assert ready.status_code == 503 and ready.headers["content-type"] == PROBLEM, ready.text
            assert ready.json()["checks"]["database"]["ok"] is False and "retry-after" in ready.headers
            assert (await client.get("/health/live")).status_code == 200

        async def back() -> bool:
            return (await client.get("/health/ready")).status_code == 200

        await eventually(back, what="readiness after the database came back")
        for name, call in paths.all().items():
            assert (await call()).status_code < 500, name


async def test_a_database_that_does_not_answer_is_a_503_within_seconds(bootstrap: str) -> None:
    async with silent_database() as url, running(url, bootstrap) as client:
        for name, call in Paths(client, unique("L")).all().items():
            await assert_unavailable(name, call)
        began = time.monotonic()
        assert (await client.get("/health/ready")).status_code == 503
        assert time.monotonic() - began < BOUND_S
        assert (await client.get("/health/live")).status_code == 200


async def test_with_the_broker_away_the_service_is_ready_but_degraded(outage_database_url: str) -> None:
    async with running(outage_database_url, "127.0.0.1:1") as client:
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "degraded" and body["ready"] is True
        assert body["checks"]["broker"]["ok"] is False and body["checks"]["database"]["ok"] is True
        metrics = (await client.get("/metrics")).text
        assert 'mes_health_check_ok{check="broker"} 0.0' in metrics
        assert 'mes_health_check_ok{check="database"} 1.0' in metrics
