"""Readiness means "can accept writes": only a required check (the database) makes a service unready; the
broker, consumers and a service's own extras (reporting's live-stream listener, workforce's sweeper) make it
degraded, reported in the body and the metrics with status 200. Liveness never looks at any of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mes_shared.runtime import CheckResult
from mes_shared.service_app import create_service_app
from mes_shared.settings import ServiceSettings


class FixedRuntime:
    def __init__(self) -> None:
        self.checks: list[CheckResult] = []

    async def readiness(self) -> list[CheckResult]:
        return self.checks


@pytest.fixture
def app() -> FastAPI:
    settings = ServiceSettings(
        database_url="postgresql+asyncpg://mes:mes@127.0.0.1:1/none",
        kafka_bootstrap_servers="127.0.0.1:1",
        auth_secret="readiness-unit-tests-ICJVNZWoJ4TaFo8WyShs0jsII2w1BNkgEjU5HtNnucb-QPUAMESssQ",
    )
    application = create_service_app(
        service="probe",
        settings=settings,
        title="probe",
        description="probe",
        routers=[],
        runtime_factory=lambda _: FixedRuntime(),  # type: ignore[arg-type, return-value]
    )
    application.state.runtime = FixedRuntime()
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as c:
        yield c


def checks(app: FastAPI, *found: CheckResult) -> None:
    app.state.runtime.checks = list(found)


DATABASE_OK = CheckResult("database", True, "ok", required=True)


async def test_all_well_is_ready_and_ok(app: FastAPI, client: httpx.AsyncClient) -> None:
    checks(app, DATABASE_OK, CheckResult("broker", True, "ok"))
    r = await client.get("/health/ready")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["ready"] is True


@pytest.mark.parametrize(
    "failing",
    [
        CheckResult("broker", False, "degraded: KafkaConnectionError"),
        CheckResult("consumer:probe.people", False, "degraded: lag 20000"),
        CheckResult("live-stream", False, "degraded: not listening"),
    ],
    ids=lambda c: c.name,
)
async def test_broker_consumers_and_extras_only_degrade(
    app: FastAPI, client: httpx.AsyncClient, failing: CheckResult
) -> None:
    checks(app, DATABASE_OK, failing)
    r = await client.get("/health/ready")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "degraded" and body["ready"] is True
    assert body["checks"][failing.name] == {"ok": False, "required": False, "detail": failing.detail}
    metrics = (await client.get("/metrics")).text
    assert f'mes_health_check_ok{{check="{failing.name}"}} 0.0' in metrics


async def test_without_the_database_the_service_is_not_ready_but_alive(app: FastAPI, client: httpx.AsyncClient) -> None:
    checks(
        app, CheckResult("database", False, "ConnectionRefusedError", required=True), CheckResult("broker", True, "ok")
    )
    r = await client.get("/health/ready")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json" and "retry-after" in r.headers
    assert r.json()["ready"] is False and "ConnectionRefusedError" in r.json()["detail"]
    assert (await client.get("/health/live")).status_code == 200
