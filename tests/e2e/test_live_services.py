"""Every service `./mes up` started answers health, docs, metrics and refuses an anonymous caller."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from mes_shared.testing import require_env

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


@pytest.mark.parametrize("service", SERVICES)
async def test_the_service_is_up_documented_and_guarded(service: str) -> None:
    url = require_env(f"MES_{service.upper().replace('-', '_')}_URL")
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert all(check["ok"] for check in ready.json()["checks"].values())
        assert (await client.get("/docs")).status_code == 200
        spec = (await client.get("/openapi.json")).json()
        assert spec["info"]["title"].endswith(service)
        assert "mes_http_requests_total" in (await client.get("/metrics")).text
        guarded = next(
            path
            for path, ops in spec["paths"].items()
            if "get" in ops and "{" not in path and not path.startswith(("/health", "/dashboard"))
        )
        anonymous = await client.get(guarded)
        assert anonymous.status_code == 401, (guarded, anonymous.text)
        assert anonymous.headers["content-type"] == "application/problem+json"


async def raw_get(url: str, target: bytes) -> tuple[int, str, bytes]:
    """A GET httpx would refuse to send (its URLs stop at 64 KB): status, content type and body."""
    parsed = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    try:
        writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: mes\r\nConnection: close\r\n\r\n")
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers.get("content-type", ""), body


@pytest.mark.parametrize("service", SERVICES)
async def test_every_error_the_service_or_its_server_answers_is_a_problem(service: str) -> None:
    url = require_env(f"MES_{service.upper().replace('-', '_')}_URL")
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
        for what, r in {
            "unknown route": await client.get("/no-such-thing"),
            "method not allowed": await client.delete("/health/live"),
            "websocket upgrade": await client.get("/health/live/ws", headers=upgrade | {"Sec-WebSocket-Key": "a" * 22}),
        }.items():
            assert r.headers["content-type"] == "application/problem+json", (what, r.status_code, r.text[:200])
            assert r.json()["status"] == r.status_code in (404, 405), what
    # Longer than the server's parser takes: answered by the server itself, not the app.
    status, content_type, body = await raw_get(url, b"/" + b"a" * 100_000)
    assert status == 400 and content_type == "application/problem+json", (status, content_type, body[:200])
    assert json.loads(body)["status"] == 400
