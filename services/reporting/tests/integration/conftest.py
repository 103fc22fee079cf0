"""Reporting against the real PostgreSQL and Kafka started by `./mes test`.

The app is served by a real uvicorn server in this process (the live stream and the browser need a real
HTTP connection), with its lifespan: its projection consumer folds every domain topic from the start into
the database `reporting_test`. Tests publish envelopes built from the shared contracts, as the other
services would, with line ids and VINs of their own, and wait until the projection has folded the
offsets they produced; they never sleep a fixed time.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

# The helpers beside this file have names no other service's tests use (reporting_*), so they can be
# imported as top-level modules without clashing under pytest's importlib mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reporting_support import SERVICE_DIR, Api, Bus, Served, caught_up_with_the_log, make_settings, unique

from mes_shared.auth import Role
from mes_shared.kafka import make_producer
from mes_shared.testing import migrate, recreate_database, require_env
from mes_shared.topics import CATALOGUE, ensure_topics
from reporting.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def bootstrap() -> str:
    servers = require_env("MES_KAFKA_BOOTSTRAP")
    await ensure_topics(servers, CATALOGUE)
    return servers


@pytest.fixture(scope="session")
async def database_url() -> str:
    url = await recreate_database(require_env("MES_PG_URL"), "reporting_test")
    await migrate(SERVICE_DIR, url)
    return url


@pytest.fixture(scope="session")
async def served(database_url: str, bootstrap: str) -> AsyncIterator[Served]:
    async with Served(create_app(make_settings(database_url, bootstrap))) as running:
        # The test database starts empty: the consumer first folds everything the topics already hold
        # (every earlier run's events too). Wait for that once here, so tests wait only for their own.
        await caught_up_with_the_log(running, bootstrap)
        yield running


@pytest.fixture(scope="session")
async def app(served: Served) -> FastAPI:
    return served.app


@pytest.fixture(scope="session")
async def client(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as c:
        yield c


@pytest.fixture
def manager(client: httpx.AsyncClient) -> Api:
    return Api(client, Role.MANAGER)


@pytest.fixture
def planner(client: httpx.AsyncClient) -> Api:
    return Api(client, Role.PLANNER)


@pytest.fixture
def admin(client: httpx.AsyncClient) -> Api:
    return Api(client, Role.ADMIN)


@pytest.fixture(scope="session")
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka = make_producer(bootstrap, client_id="reporting-tests")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture
def bus(producer: AIOKafkaProducer, admin: Api) -> Bus:
    return Bus(producer, admin)


@pytest.fixture
def new_line() -> Callable[[], str]:
    return lambda: unique("T-L")
