"""Every service `./mes up` started answers health, docs, metrics and refuses an anonymous caller."""

from __future__ import annotations

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
