"""Assembly-line against the real PostgreSQL and Kafka started by `./mes test`.

The app runs in-process (ASGI transport) with its lifespan: its relay publishes to the real broker and
its consumers read `mes.kits` and `mes.people`, where these tests put kit-receiving's and workforce's
events as those services would. Its consumer groups carry a prefix of their own (never the live
service's groups) whose offsets start at the topics' ends, so the session reads only what it produced.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from assembly_line.main import create_app
from assembly_line.settings import Settings
from mes_shared.auth import Role, issue_token
from mes_shared.envelope import Envelope, EventData
from mes_shared.events import kits as k
from mes_shared.events import people as p
from mes_shared.kafka import make_consumer, make_producer, start_with_timeout, stop_quietly, topic_partitions
from mes_shared.testing import KafkaTap, eventually, migrate, recreate_database, require_env
from mes_shared.topics import CATALOGUE, KITS, PEOPLE, STATIONS, VEHICLES, ensure_topics

SERVICE_DIR = Path(__file__).resolve().parents[2]
SECRET = "integration-tests-KBgGAeSfyuKyK2IHunP9ignSdmaiuK806SxelBDm3sDm"
PROBLEM = "application/problem+json"
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def new_vin() -> str:
    return "".join(random.choice(VIN_CHARS) for _ in range(17))


def now() -> datetime:
    return datetime.now(UTC)


# ---- infrastructure -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def bootstrap() -> str:
    servers = require_env("MES_KAFKA_BOOTSTRAP")
    await ensure_topics(servers, CATALOGUE)
    return servers


@pytest.fixture(scope="session")
async def database_url() -> str:
    url = await recreate_database(require_env("MES_PG_URL"), "assembly_line_test")
    await migrate(SERVICE_DIR, url)
    return url


async def start_groups_at_end(bootstrap: str, prefix: str) -> None:
    """Commit the topics' end offsets for this session's consumer groups before they first start."""
    for name, topic in (("kits", KITS.name), ("people", PEOPLE.name)):
        partitions = await topic_partitions(bootstrap, topic)
        consumer = make_consumer(bootstrap, group_id=f"{prefix}.{name}", client_id=f"{prefix}-offsets")
        await start_with_timeout(consumer, 15)
        try:
            consumer.assign(partitions)
            await consumer.commit(dict(await consumer.end_offsets(partitions)))
        finally:
            await stop_quietly(consumer)


def make_settings(database_url: str, bootstrap: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        auth_secret=SECRET,
        environment="test",
        # The production limit, whatever a local stack's .run/env says (it allows replays of the past).
        max_event_age_days=30,
        **overrides,
    )


@pytest.fixture(scope="session")
async def app(database_url: str, bootstrap: str) -> AsyncIterator[FastAPI]:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    await start_groups_at_end(bootstrap, prefix)
    application = create_app(make_settings(database_url, bootstrap, consumer_group_prefix=prefix))
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assembly-line") as c:
        yield c


@pytest.fixture(scope="session")
async def tap(bootstrap: str) -> AsyncIterator[KafkaTap]:
    line_tap = KafkaTap(bootstrap, VEHICLES.name, STATIONS.name)
    await line_tap.start()
    yield line_tap
    await line_tap.stop()


@pytest.fixture(scope="session")
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka = make_producer(bootstrap, client_id="assembly-line-tests")
    await start_with_timeout(kafka, 15)
    yield kafka
    await stop_quietly(kafka)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


# ---- callers ------------------------------------------------------------------------------------


def token(role: Role, subject: str | None = None, stations: Iterable[str] = ()) -> str:
    return issue_token(SECRET, subject=subject or f"{role.value}-tester", role=role, stations=list(stations) or None)


class Api:
    """A caller with a role: every write carries a fresh Idempotency-Key unless one is given."""

    def __init__(self, client: httpx.AsyncClient, role: Role = Role.SUPERVISOR, subject: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token(role, subject)}"}

    async def post(self, path: str, body: Any = None, *, key: str | None = None) -> httpx.Response:
        headers = self.headers | {"Idempotency-Key": key or str(uuid.uuid4())}
        return await self.client.post(path, json=body, headers=headers)

    async def put(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        return await self.client.put(
            path, json=body, headers=self.headers | {"Idempotency-Key": key or str(uuid.uuid4())}
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, params=params)


class Terminal:
    """A line terminal scoped to some stations; it stamps each event with its own id and clock."""

    def __init__(self, client: httpx.AsyncClient, *stations: str, subject: str | None = None) -> None:
        self.client = client
        self.subject = subject or unique("terminal")
        self.headers = {"Authorization": f"Bearer {token(Role.TERMINAL, self.subject, stations)}"}

    def event(
        self, kind: str, at: datetime | None = None, *, event_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return {
            "type": kind,
            "terminal_event_id": event_id or uuid.uuid4().hex,
            "occurred_at": (at or now()).isoformat(),
            **fields,
        }

    async def send(self, station: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/stations/{station}/events", json=body, headers=self.headers)

    async def post(self, station: str, kind: str, at: datetime | None = None, **fields: Any) -> httpx.Response:
        return await self.send(station, self.event(kind, at, **fields))

    async def batch(self, station: str, events: list[dict[str, Any]]) -> httpx.Response:
        return await self.client.post(
            f"/stations/{station}/events:batch", json={"events": events}, headers=self.headers
        )


def assert_problem(r: httpx.Response, status: int, rule: str | None = None, *mentions: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM, r.headers.get("content-type")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    if rule is not None:
        assert body["rule"] == rule, body
        assert body["type"] == f"/problems/{rule}"
    for text in mentions:
        assert text in body["detail"], (text, body["detail"])
    return dict(body)


# ---- the plant as other services describe it ------------------------------------------------------


@dataclass
class LineSetup:
    line_id: str
    stations: list[str]
    model: str
    variant: str
    standard_seconds: list[float]


@dataclass
class Operator:
    employee_id: str
    badge: str
    stations: list[str]


@dataclass
class Plant:
    """Builds what a test needs: a line with a route, released kits, clocked-in qualified operators."""

    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    supervisor: Api = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Api(self.client, Role.SUPERVISOR)

    async def publish(self, data: EventData, subject: str, *, time: datetime | None = None) -> Envelope:
        source = "/mes/kit-receiving" if data.topic == KITS.name else "/mes/workforce"
        envelope = Envelope.wrap(data, source=source, subject=subject, time=time or now())
        await (await self.producer.send(data.topic, value=envelope.to_bytes(), key=subject.encode()))
        return envelope

    async def line(
        self, stations: int = 4, *, standard: float = 600.0, route_from: datetime | None = None
    ) -> LineSetup:
        """A line, a model and its route v1 (in force from `route_from`, default now)."""
        line_id, model = unique("L"), unique("HTX")
        ids = [f"{line_id}-S{i + 1}" for i in range(stations)]
        body = {"name": f"Line {line_id}", "stations": [{"station_id": s, "name": f"Station {s}"} for s in ids]}
        r = await self.supervisor.put(f"/lines/{line_id}", body)
        assert r.status_code == 201, r.text
        r = await self.supervisor.put(
            f"/models/{model}", {"name": "Heavy tractor", "variants": [{"code": "6x4", "name": "6x4"}]}
        )
        assert r.status_code == 201, r.text
        standards = [standard + 60 * i for i in range(stations)]
        steps = [{"station_id": s, "standard_seconds": t} for s, t in zip(ids, standards, strict=True)]
        dated = {"effective_from": route_from.isoformat()} if route_from else {}
        r = await self.supervisor.post(f"/lines/{line_id}/routes", {"model": model, "steps": steps} | dated)
        assert r.status_code == 201, r.text
        return LineSetup(line_id, ids, model, "6x4", standards)

    async def kit(
        self,
        setup: LineSetup,
        *,
        short_at: dict[str, str] | None = None,
        status: str = "released",
        parts: Iterable[str] = ("ECU-1",),
    ) -> str:
        """Publish a kit type and a kit as kit-receiving would; wait until the read model has it."""
        kit_type, serial = f"KT-{setup.model}", unique("KIT")
        lines = [k.BomLine(part_number=pn, description=pn, quantity=1, station=setup.stations[0]) for pn in parts]
        await self.publish(
            k.KitTypeBomPublished(kit_type=kit_type, model=setup.model, variant=setup.variant, version=1, lines=lines),
            kit_type,
        )
        await self.publish(
            k.KitAnnounced(
                serial=serial,
                kit_type=kit_type,
                bom_version=1,
                shipment_id="ASN-1",
                cases=["C1"],
                expected_arrival=now(),
            ),
            serial,
        )
        short_at = short_at or {}
        if status in ("received", "quarantined", "released"):
            await self.publish(
                k.KitReceived(
                    serial=serial,
                    kit_type=kit_type,
                    bom_version=1,
                    shipment_id="ASN-1",
                    unannounced=False,
                    dock="D1",
                    received_by="dock",
                    discrepancy_count=len(short_at) if status != "received" else 0,
                    status="quarantined" if status == "quarantined" or short_at else "received",
                ),
                serial,
            )
        if status == "released":
            missing = [
                k.MissingPart(
                    discrepancy_id=f"{serial}-D{i + 1}", part_number=part, quantity=1, station=station, claim_code="M"
                )
                for i, (station, part) in enumerate(sorted(short_at.items()))
            ]
            if short_at:
                await self.publish(k.KitQuarantineLifted(serial=serial, accepted_shortages=missing), serial)
            await self.publish(
                k.KitReleased(
                    serial=serial,
                    kit_type=kit_type,
                    bom_version=1,
                    build_short=bool(short_at),
                    waiting_stations=sorted(short_at),
                    missing_parts=missing,
                    released_by="dock",
                ),
                serial,
            )
        elif status == "quarantined":
            await self.publish(k.KitQuarantined(serial=serial, open_discrepancy_ids=["D1"], claim_codes=["D"]), serial)

        async def known() -> bool:
            r = await self.supervisor.get(f"/kits/{serial}")
            return r.status_code == 200 and r.json()["status"] == status and r.json()["model"] == setup.model

        # A deadline, not a wait: a test publishing dozens of kits at once on a loaded 2-core machine needs more
        # than the default 20 s for the consumer to apply them all.
        await eventually(known, timeout_s=60, what=f"kit {serial} {status} in the read model")
        return serial

    async def part_arrived(self, serial: str, station: str, part: str, *, still_waiting: Iterable[str] = ()) -> None:
        waiting = sorted(still_waiting)
        await self.publish(
            k.DiscrepancyResolved(
                serial=serial,
                discrepancy_id=f"{serial}-D1",
                claim_code="M",
                part_number=part,
                quantity=1,
                station=station,
                resolution="replacement_received",
                discrepancy_status="resolved",
                resolved_by="dock",
                note="came by air",
                kit_status="released",
                build_short=bool(waiting),
                waiting_stations=waiting,
            ),
            serial,
        )

    async def operator(
        self,
        setup: LineSetup,
        stations: Iterable[str] | None = None,
        *,
        clocked_in_at: datetime | None = None,
        qualified: bool = True,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> Operator:
        """An employee qualified at `stations` and clocked in at the first of them (its badge is unique)."""
        employee, badge = unique("E"), unique("B")
        chosen = list(stations if stations is not None else setup.stations)
        start = clocked_in_at or now() - timedelta(hours=2)
        await self.publish(
            p.EmployeeRegistered(
                employee_id=employee,
                badge_id=badge,
                name=f"Operator {employee}",
                origin="transferred",
                status="active",
                status_since=date(2025, 1, 6),
            ),
            employee,
        )
        if qualified:
            for station in chosen:
                await self.publish(
                    p.QualificationGranted(
                        employee_id=employee,
                        station=station,
                        level="qualified",
                        valid_from=valid_from or now() - timedelta(days=30),
                        valid_until=valid_until or now() + timedelta(days=300),
                    ),
                    employee,
                )
        operator = Operator(employee, badge, chosen)
        await self.clock_in(setup, operator, chosen[0], at=start)
        return operator

    async def crew(self, setup: LineSetup) -> dict[str, str]:
        """One qualified operator clocked in at each station: station -> badge."""
        return {station: (await self.operator(setup, [station])).badge for station in setup.stations}

    async def clock_in(self, setup: LineSetup, operator: Operator, station: str, *, at: datetime) -> None:
        await self._scan(p.ClockedIn, setup, operator, station, at=at)
        await self.wait_present(station, operator.badge)

    async def clock_out(self, setup: LineSetup, operator: Operator, station: str, *, at: datetime) -> None:
        await self._scan(p.ClockedOut, setup, operator, station, at=at, automatic=False)
        await self.wait_present(station, operator.badge, present=False)

    async def _scan(
        self, kind: type[EventData], setup: LineSetup, operator: Operator, station: str, *, at: datetime, **extra: Any
    ) -> None:
        scan = kind(
            employee_id=operator.employee_id,
            badge_id=operator.badge,
            station=station,
            line_id=setup.line_id,
            shift_date=at.date(),
            shift="A",
            at=at,
            terminal_event_id=uuid.uuid4().hex,
            **extra,
        )
        await self.publish(scan, operator.employee_id)

    async def wait_present(self, station: str, badge: str, *, present: bool = True) -> None:
        async def seen() -> bool:
            r = await self.supervisor.get(f"/stations/{station}")
            badges = {o["badge_id"] for o in r.json()["operators"]} if r.status_code == 200 else set()
            return (badge in badges) is present

        await eventually(seen, what=f"badge {badge} {'at' if present else 'gone from'} {station}")

    async def build_order(self, setup: LineSetup, kit: str, vin: str | None = None) -> str:
        vin = vin or new_vin()
        r = await self.supervisor.post(
            "/build-orders", {"vin": vin, "model": setup.model, "line_id": setup.line_id, "kit_serial": kit}
        )
        assert r.status_code == 201, r.text
        return vin


@pytest.fixture
def plant(client: httpx.AsyncClient, producer: AIOKafkaProducer) -> Plant:
    return Plant(client, producer)


@pytest.fixture
def supervisor(client: httpx.AsyncClient) -> Api:
    return Api(client, Role.SUPERVISOR)


@pytest.fixture
def api_as(client: httpx.AsyncClient) -> Any:
    return lambda role, subject=None: Api(client, role, subject)


@pytest.fixture
def terminal_for(client: httpx.AsyncClient) -> Any:
    return lambda *stations, subject=None: Terminal(client, *stations, subject=subject)


class Clock:
    """The terminals' clock in a test: starts in the past and moves forward a minute per event."""

    def __init__(self, start: datetime | None = None, step_minutes: float = 1.0) -> None:
        self.t = start or now() - timedelta(minutes=90)
        self.step = step_minutes

    def tick(self, minutes: float | None = None) -> datetime:
        self.t += timedelta(minutes=self.step if minutes is None else minutes)
        return self.t

    def catch_up(self, step_minutes: float = 0.05) -> None:
        """Move to the server's now (after a supervisor's action), then on in small steps (the terminals'
        times may not run ahead of the server by more than the allowed skew)."""
        self.t, self.step = now(), step_minutes


async def run_through(
    terminal: Terminal, vin: str, stations: Iterable[str], crew: dict[str, str], clock: Clock
) -> None:
    """Arrive, start and complete each station in turn (crew: station -> badge); every event must be accepted."""
    for station in stations:
        badge = crew[station]
        for kind, extra in (
            ("arrived", {}),
            ("work_started", {"operator_badge": badge}),
            ("work_completed", {"operator_badge": badge}),
        ):
            r = await terminal.post(station, kind, clock.tick(), vin=vin, **extra)
            assert r.status_code == 201, r.text
