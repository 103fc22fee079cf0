"""Kit-receiving against the real PostgreSQL and Kafka started by `./mes test`.

The app runs in-process (ASGI transport) with its lifespan, so its outbox relay publishes to the real
broker; tests read the events back with a tap on the topic.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from kit_receiving.main import create_app
from kit_receiving.settings import Settings
from mes_shared.auth import Role, issue_token
from mes_shared.testing import KafkaTap, eventually, migrate, recreate_database, require_env
from mes_shared.topics import CATALOGUE, KITS, ensure_topics

SERVICE_DIR = Path(__file__).resolve().parents[2]
SECRET = "integration-tests-JzIuwDCVxTcRy9mdLI2IlN7YLddT_Y6NBdvBP3dva1uo"
TEST_GROUP = f"test-{uuid.uuid4().hex[:8]}"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def bootstrap() -> str:
    servers = require_env("MES_KAFKA_BOOTSTRAP")
    await ensure_topics(servers, CATALOGUE)
    return servers


@pytest.fixture(scope="session")
async def database_url() -> str:
    url = await recreate_database(require_env("MES_PG_URL"), "kit_receiving_test")
    await migrate(SERVICE_DIR, url)
    return url


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


@pytest.fixture(scope="session")
async def app(database_url: str, bootstrap: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, bootstrap))
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        # A fresh consumer group reads the topics from the start: on a long-lived local stack that is a lot.
        await eventually(lambda: _caught_up(application), timeout_s=600, what="the app's consumers catching up")
        yield application


async def _caught_up(application: FastAPI) -> bool:
    consumers = application.state.runtime.consumers
    return all(c.health.running and c.health.lag_known and c.health.lag == 0 for c in consumers)


@pytest.fixture(scope="session")
async def tap(bootstrap: str) -> AsyncIterator[KafkaTap]:
    kits_tap = KafkaTap(bootstrap, KITS.name)
    await kits_tap.start()
    yield kits_tap
    await kits_tap.stop()


def token(role: Role, subject: str | None = None) -> str:
    return issue_token(
        SECRET,
        subject=subject or f"{role.value}-tester",
        role=role,
        stations=["ST-01"] if role is Role.TERMINAL else None,
    )


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit-receiving") as c:
        yield c


class Api:
    """A logistics caller: every write carries a fresh Idempotency-Key unless one is given."""

    def __init__(self, client: httpx.AsyncClient, role: Role = Role.LOGISTICS) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token(role)}"}

    async def post(self, path: str, body: Any = None, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = self.headers | {"Idempotency-Key": key or str(uuid.uuid4())} | kw.pop("headers", {})
        return await self.client.post(path, json=body, headers=headers, **kw)

    async def put(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        return await self.client.put(
            path, json=body, headers=self.headers | {"Idempotency-Key": key or str(uuid.uuid4())}
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, params=params)


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
def api_as(client: httpx.AsyncClient) -> Callable[[Role], Api]:
    return lambda role: Api(client, role)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


BOM = [
    {"part_number": "CAB-100", "description": "Cab shell", "quantity": 1, "station": "ST-01"},
    {"part_number": "AXL-200", "description": "Rear axle", "quantity": 2, "station": "ST-02"},
    {"part_number": "BLT-M12", "description": "Bolt M12x40", "quantity": 48, "station": "ST-03"},
    {"part_number": "HRN-300", "description": "Main harness", "quantity": 1, "station": "ST-04"},
]


@pytest.fixture
async def kit_type(api: Api) -> str:
    code = unique("HTX")
    r = await api.post("/kit-types", {"code": code, "model": "HTX-6x4", "variant": "tractor", "lines": BOM})
    assert r.status_code == 201, r.text
    return code


def _asn(shipment_id: str, kit_type: str, serials: list[str]) -> dict[str, Any]:
    return {
        "shipment_id": shipment_id,
        "carrier": "RailCargo",
        "origin": "Sister plant",
        "expected_arrival": "2026-12-01T08:00:00+00:00",
        "kits": [{"serial": s, "kit_type": kit_type, "cases": [f"{s}-C1", f"{s}-C2"]} for s in serials],
    }


@pytest.fixture
def asn() -> Callable[[str, str, list[str]], dict[str, Any]]:
    """Builds an ASN body: asn(shipment_id, kit_type, serials)."""
    return _asn


@pytest.fixture
def new_id() -> Callable[[str], str]:
    return unique


@pytest.fixture(name="make_settings")
def make_settings_fixture() -> Callable[..., Settings]:
    return make_settings


@pytest.fixture
def bom_lines() -> list[dict[str, Any]]:
    return [dict(line) for line in BOM]
