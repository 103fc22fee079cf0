"""Workforce against the real PostgreSQL and Kafka started by `./mes`.

The app runs in-process (ASGI transport) with its lifespan: its relay publishes to the real broker and
its consumer reads the real `mes.stations` topic, where these tests publish the line configurations
assembly-line would. Events are read back with a tap on `mes.people`; every wait has a deadline.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from mes_shared.auth import Role, issue_token
from mes_shared.envelope import Envelope
from mes_shared.events.stations import LineConfigured, StationDefinition
from mes_shared.kafka import make_producer, start_with_timeout, stop_quietly
from mes_shared.testing import KafkaTap, eventually, migrate, recreate_database, require_env
from mes_shared.topics import CATALOGUE, PEOPLE, STATIONS, ensure_topics
from workforce.main import create_app
from workforce.settings import Settings

SERVICE_DIR = Path(__file__).resolve().parents[2]
SECRET = "integration-tests-pGZeigzOXmBY5TgAvgkm7q3J-xAg1inOY9WJXGClw5B4"
PROBLEM = "application/problem+json"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def bootstrap() -> str:
    servers = require_env("MES_KAFKA_BOOTSTRAP")
    await ensure_topics(servers, CATALOGUE)
    return servers


@pytest.fixture(scope="session")
async def database_url() -> str:
    url = await recreate_database(require_env("MES_PG_URL"), "workforce_test")
    await migrate(SERVICE_DIR, url)
    return url


def make_settings(database_url: str, bootstrap: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "auth_secret": SECRET,
        "environment": "test",
        # Never join the consumer groups of the service `./mes up` runs.
        "consumer_group_prefix": f"test-{uuid.uuid4().hex}",
        # The production limit, whatever a local stack's .run/env says (it allows replays of the past).
        "terminal_max_delay_minutes": 24 * 60,
        # The tests run the sweeps themselves with an explicit "now".
        "sweep_interval_s": 3600,
    }
    return Settings(**(fields | overrides))


@pytest.fixture(scope="session")
async def app(database_url: str, bootstrap: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, bootstrap))
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://workforce") as c:
        yield c


@pytest.fixture(scope="session")
async def tap(bootstrap: str) -> AsyncIterator[KafkaTap]:
    people = KafkaTap(bootstrap, PEOPLE.name)
    await people.start()
    yield people
    await people.stop()


@pytest.fixture(scope="session")
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(bootstrap, client_id="workforce-tests")
    await start_with_timeout(p, 15)
    yield p
    await stop_quietly(p)


def token(role: Role, subject: str | None = None, stations: list[str] | None = None) -> str:
    return issue_token(SECRET, subject=subject or f"{role.value}-tester", role=role, stations=stations)


class Api:
    """A caller with one role: every write carries a fresh Idempotency-Key unless one is given."""

    def __init__(self, client: httpx.AsyncClient, role: Role = Role.SUPERVISOR, **token_args: Any) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token(role, **token_args)}"}

    def _headers(self, key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        return self.headers | {"Idempotency-Key": key or str(uuid.uuid4())} | (extra or {})

    async def post(
        self, path: str, body: Any = None, *, key: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self._headers(key, headers))

    async def put(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self._headers(key, None))

    async def patch(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        return await self.client.patch(path, json=body, headers=self._headers(key, None))

    async def post_csv(
        self, path: str, raw: bytes, *, key: str | None = None, content_type: str = "text/csv"
    ) -> httpx.Response:
        return await self.client.post(path, content=raw, headers=self._headers(key, {"Content-Type": content_type}))

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, params=params)


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
def api_as(client: httpx.AsyncClient) -> Callable[..., Api]:
    """api_as(role, stations=[...], subject=...)"""
    return lambda role, **kw: Api(client, role, **kw)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture
def new_id() -> Callable[[str], str]:
    return unique


# ---- lines from "assembly-line" -----------------------------------------------------------------


async def publish_line(
    producer: AIOKafkaProducer, line_id: str, stations: list[str], *, at: datetime | None = None
) -> Envelope:
    envelope = Envelope.wrap(
        LineConfigured(
            line_id=line_id,
            name=f"Line {line_id}",
            stations=[
                StationDefinition(station_id=s, name=f"Station {s}", position=n) for n, s in enumerate(stations, 1)
            ],
        ),
        source="/mes/assembly-line",
        subject=line_id,
        time=at or datetime.now(UTC),
    )
    await producer.send_and_wait(STATIONS.name, envelope.to_bytes(), key=line_id.encode())
    return envelope


async def wait_for_line(api: Api, line_id: str, stations: list[str]) -> dict[str, Any]:
    async def configured() -> dict[str, Any] | None:
        r = await api.get("/lines")
        assert r.status_code == 200, r.text
        line = next((x for x in r.json() if x["line_id"] == line_id), None)
        active = [s["station_id"] for s in line["stations"] if s["active"]] if line else None
        return line if active == stations else None

    return await eventually(configured, timeout_s=30, what=f"line {line_id} in the read model")


@dataclass
class Line:
    line_id: str
    stations: list[str]
    shift: str
    shift_date: str
    shift_start: datetime
    shift_end: datetime


def shift_around_now(hours_before: float = 2, hours_after: float = 6) -> tuple[str, str, datetime, datetime]:
    """A UTC shift "A" that is under way now, in whole minutes: (start HH:MM, end HH:MM, start, end)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = now - timedelta(hours=hours_before), now + timedelta(hours=hours_after)
    return start.strftime("%H:%M"), end.strftime("%H:%M"), start, end


def calendar_body(shifts: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "time_zone": "UTC",
        "valid_from": (today - timedelta(days=7)).isoformat(),
        "working_days": [1, 2, 3, 4, 5, 6, 7],
        "holidays": [],
        "shifts": shifts,
    } | overrides


@pytest.fixture
async def make_line(api: Api, producer: AIOKafkaProducer) -> Callable[..., Any]:
    """make_line(stations=3, calendar=True): a fresh line configured through Kafka, with a calendar whose
    one shift "A" runs from 2 hours ago to 6 hours ahead (every day, UTC)."""

    async def build(stations: int = 3, calendar: bool = True) -> Line:
        line_id = unique("L")
        ids = [f"{line_id}-ST{n:02d}" for n in range(1, stations + 1)]
        await publish_line(producer, line_id, ids)
        await wait_for_line(api, line_id, ids)
        start_hm, end_hm, start, end = shift_around_now()
        if calendar:
            body = calendar_body([{"code": "A", "start": start_hm, "end": end_hm, "breaks": []}])
            r = await api.put(f"/lines/{line_id}/calendar", body)
            assert r.status_code == 201, r.text
        return Line(line_id, ids, "A", start.date().isoformat(), start, end)

    return build


# ---- people -------------------------------------------------------------------------------------


@pytest.fixture
def make_employee(api: Api) -> Callable[..., Any]:
    """make_employee(status="active", origin="transferred") -> the registered employee's JSON."""

    async def build(status: str = "active", origin: str = "transferred", **extra: Any) -> dict[str, Any]:
        employee_id = unique("E")
        body = {
            "employee_id": employee_id,
            "badge_id": "B" + employee_id[1:],
            "name": f"Operator {employee_id}",
            "origin": origin,
            "status": status,
            "status_since": "2025-06-01",
        } | extra
        r = await api.post("/employees", body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    return build


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# ---- the database, to prove that refusals wrote nothing -----------------------------------------


class Db:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def outbox_mark(self) -> int:
        return int(await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))

    async def outbox_since(self, mark: int) -> list[str]:
        rows = await self.conn.fetch("SELECT event_type, key FROM outbox WHERE id > $1 ORDER BY id", mark)
        return [f"{r['event_type']} {r['key']}" for r in rows]

    async def count(self, table: str, where: str = "true", *args: Any) -> int:
        return int(await self.conn.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args))

    async def rows(self, query: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.conn.fetch(query, *args)]

    async def idempotency_keys(self, key: str) -> int:
        return await self.count("idempotency_keys", "key = $1", key)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
    try:
        yield Db(conn)
    finally:
        await conn.close()


def assert_problem(
    r: httpx.Response, status: int, *, rule: str | None = None, type_: str | None = None, mentions: tuple[str, ...] = ()
) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM, r.headers.get("content-type")
    body = dict(r.json())
    assert body["status"] == status and body["title"] and body["detail"]
    if rule is not None:
        assert body["rule"] == rule, body
        assert body["type"] == f"/problems/{rule}"
    if type_ is not None:
        assert body["type"] == type_, body
    for name in mentions:
        assert name in body["detail"], f"{name!r} not in {body['detail']!r}"
    return body


@pytest.fixture(name="make_settings")
def make_settings_fixture() -> Callable[..., Settings]:
    return make_settings


@pytest.fixture
def tools() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import conftest)."""
    return SimpleNamespace(
        assert_problem=assert_problem,
        publish_line=publish_line,
        wait_for_line=wait_for_line,
        calendar_body=calendar_body,
        shift_around_now=shift_around_now,
        in_days=in_days,
        unique=unique,
        token=token,
        Api=Api,
    )
