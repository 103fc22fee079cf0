"""What reporting's integration tests share: the settings and the served app, API callers, a bus that
publishes envelopes as the other services would and waits until the projection folded them, and builders
of events from the shared contracts.

(Imported by its unique module name: `conftest.py` puts this directory on sys.path.)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from fastapi import FastAPI

from mes_shared.auth import Role, issue_token
from mes_shared.envelope import Envelope, EventData
from mes_shared.events import people as p
from mes_shared.events import stations as s
from mes_shared.events import vehicles as v
from mes_shared.testing import eventually
from reporting.settings import Settings

SERVICE_DIR = Path(__file__).resolve().parents[2]
REPO = SERVICE_DIR.parents[1]
SECRET = "integration-tests-aKd1f1A_BefVzYOWmNwCtF3R_i2yQ-Eb7F1jYcBGz42S"
TEST_GROUP = f"test-{uuid.uuid4().hex[:8]}"
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def make_settings(database_url: str, bootstrap: str, **overrides: Any) -> Settings:
    # A group prefix of its own: the in-process app must never join the live service's consumer groups.
    overrides.setdefault("consumer_group_prefix", TEST_GROUP)
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        auth_secret=SECRET,
        environment="test",
        **overrides,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """An app behind a real uvicorn server on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, lifespan="on", log_level="warning", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Served:
        self._task = asyncio.create_task(self.server.serve())
        await eventually(self._started, timeout_s=60, what="the reporting app to start")
        return self

    async def _started(self) -> bool:
        if self._task is not None and self._task.done():
            self._task.result()  # raise the start-up error
        return self.server.started

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 30)


def token(role: Role, subject: str | None = None) -> str:
    return issue_token(SECRET, subject=subject or f"{role.value}-tester", role=role)


class Api:
    def __init__(self, client: httpx.AsyncClient, role: Role = Role.MANAGER) -> None:
        self.client = client
        self.role = role
        self.headers = {"Authorization": f"Bearer {token(role)}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.client.get(path, headers=self.headers, params=clean)

    async def json(self, path: str, **params: Any) -> Any:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def put(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        headers = self.headers | {"Idempotency-Key": key or str(uuid.uuid4())}
        return await self.client.put(path, json=body, headers=headers)


# ---- publishing events as the other services do ----------------------------------------------------


class Bus:
    """Publishes envelopes to their topics (keyed by subject) and waits for the projection to fold them."""

    def __init__(self, producer: AIOKafkaProducer, admin_api: Api) -> None:
        self.producer = producer
        self.admin = admin_api
        self.sent: list[RecordMetadata] = []

    async def send(self, *envelopes: Envelope) -> list[RecordMetadata]:
        out = []
        for e in envelopes:
            out.append(await self.producer.send_and_wait(e.topic, e.to_bytes(), key=e.subject.encode()))
        self.sent.extend(out)
        return out

    async def folded(self, metadata: Iterable[RecordMetadata] | None = None, timeout_s: float = 60.0) -> None:
        """Wait until the live projection's positions are past every given record (default: all sent)."""
        wanted: dict[str, int] = {}
        for m in metadata if metadata is not None else self.sent:
            key = f"{m.topic}/{m.partition}"
            wanted[key] = max(wanted.get(key, 0), m.offset + 1)

        async def caught_up() -> bool:
            status = await self.admin.json("/admin/projections")
            return all(status["positions"].get(k, 0) >= n for k, n in wanted.items())

        await eventually(caught_up, timeout_s=timeout_s, what=f"the projection to fold {wanted}")

    async def publish(self, *envelopes: Envelope) -> None:
        await self.folded(await self.send(*envelopes))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def new_vin() -> str:
    raw = uuid.uuid4().int
    chars = []
    for _ in range(17):
        raw, digit = divmod(raw, len(VIN_CHARS))
        chars.append(VIN_CHARS[digit])
    return "".join(chars)


def wrap(data: EventData, subject: str, at: datetime) -> Envelope:
    return Envelope.wrap(data, source=f"/mes/{data.producer}", subject=subject, time=at)


def calendar(
    line_id: str,
    *,
    zone: str = "Europe/Berlin",
    valid_from: date = date(2026, 1, 1),
    holidays: tuple[date, ...] = (),
    version: int = 1,
    at: datetime | None = None,
) -> Envelope:
    """Mon-Fri, one shift 06:00-14:30 with a 30-minute break: 480 planned minutes a day."""
    data = p.CalendarPublished(
        line_id=line_id,
        version=version,
        time_zone=zone,
        valid_from=valid_from,
        working_days=[1, 2, 3, 4, 5],
        holidays=list(holidays),
        shifts=[
            p.ShiftDefinition(
                code="A", start=time(6), end=time(14, 30), breaks=[p.BreakWindow(start=time(10), end=time(10, 30))]
            )
        ],
    )
    return wrap(data, line_id, at or datetime(2025, 12, 1, tzinfo=UTC))


def line_configured(line_id: str, stations: list[str], at: datetime | None = None) -> Envelope:
    data = s.LineConfigured(
        line_id=line_id,
        name=f"Line {line_id}",
        stations=[
            s.StationDefinition(station_id=st, name=f"Station {st}", position=i + 1) for i, st in enumerate(stations)
        ],
    )
    return wrap(data, line_id, at or datetime(2025, 12, 1, tzinfo=UTC))


def route(line_id: str, model: str, standards: dict[str, float], at: datetime | None = None) -> Envelope:
    data = s.RoutePublished(
        line_id=line_id,
        model=model,
        version=1,
        steps=[s.RouteStep(station_id=st, standard_seconds=sec) for st, sec in standards.items()],
    )
    return wrap(data, line_id, at or datetime(2025, 12, 1, tzinfo=UTC))


def completed(
    line_id: str, at: datetime, *, vin: str | None = None, first_pass: bool = True, defects: int = 0, model: str = "HTX"
) -> Envelope:
    vin = vin or new_vin()
    data = v.VehicleCompleted(
        vin=vin,
        model=model,
        line_id=line_id,
        station="EOL",
        kit_serial=f"KIT-{vin}",
        started_at=at - timedelta(hours=20),
        lead_time_seconds=72_000,
        defect_count=defects,
        first_pass=first_pass,
    )
    return wrap(data, vin, at)


def station_event(
    kind: type[v._StationEvent], line_id: str, vin: str, station: str, at: datetime, **extra: Any
) -> Envelope:
    data = kind(
        vin=vin, line_id=line_id, station=station, terminal_event_id=str(uuid.uuid4()), operator_id="op-1", **extra
    )
    return wrap(data, vin, at)


async def caught_up_with_the_log(served: Served, bootstrap: str, timeout_s: float = 900.0) -> None:
    """Wait until the served app's projection has folded the domain topics up to their current ends."""
    from mes_shared.kafka import make_consumer, topic_partitions
    from reporting.projections.runner import TOPICS

    partitions = await topic_partitions(bootstrap, *TOPICS)
    consumer = make_consumer(bootstrap, group_id=None, client_id="reporting-tests-ends")
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    wanted = {f"{tp.topic}/{tp.partition}": n for tp, n in ends.items() if n > 0}
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {token(Role.ADMIN)}"}

        async def done() -> bool:
            status = (await client.get("/admin/projections", headers=headers)).json()
            return all(status["positions"].get(k, 0) >= n for k, n in wanted.items())

        await eventually(done, timeout_s=timeout_s, what="the projection to fold the topics' history")
