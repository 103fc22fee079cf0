"""The kit-receiving process that `./mes up` started, over real HTTP, Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mes_shared.auth import Role, issue_token
from mes_shared.testing import KafkaTap, eventually, require_env
from mes_shared.topics import KITS

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=require_env("MES_KIT_RECEIVING_URL"), timeout=10) as client:
        yield client


def bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(require_env('MES_AUTH_SECRET'), subject='e2e-dock', role=role)}"}


async def test_a_write_reaches_the_topic_and_the_log_with_its_correlation_id(live: httpx.AsyncClient) -> None:
    code, correlation = f"E2E-{uuid.uuid4().hex[:8].upper()}", f"e2e-{uuid.uuid4().hex}"
    tap = KafkaTap(require_env("MES_KAFKA_BOOTSTRAP"), KITS.name)
    await tap.start()
    try:
        r = await live.post(
            "/kit-types",
            json={
                "code": code,
                "model": "HTX",
                "variant": "tipper",
                "lines": [{"part_number": "P-1", "description": "cab", "quantity": 1, "station": "ST-01"}],
            },
            headers=bearer(Role.LOGISTICS) | {"Idempotency-Key": correlation, "X-Correlation-ID": correlation},
        )
        assert r.status_code == 201, r.text
        assert r.headers["x-correlation-id"] == correlation
        [event] = await tap.wait_for(code, 1)
    finally:
        await tap.stop()
    assert event.type == "mes.kit-type.bom-published.v1" and event.correlationid == correlation

    log = ROOT / ".run" / "logs" / "kit-receiving.log"

    async def logged() -> list[dict[str, object]]:
        entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [e for e in entries if e.get("correlation_id") == correlation]

    [entry] = await eventually(logged, what="the request's JSON log line")
    assert entry["service"] == "kit-receiving" and "POST /kit-types" in str(entry["message"])


async def test_problems_from_the_live_service(live: httpx.AsyncClient) -> None:
    r = await live.get("/kits")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = await live.post(
        "/shipments",
        content=b'{"shipment_id": ',
        headers=bearer(Role.LOGISTICS) | {"Idempotency-Key": "x", "content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["type"] == "/problems/malformed-json"
