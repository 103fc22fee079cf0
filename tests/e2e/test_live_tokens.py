"""Tokens against the services `./mes up` started: each accepts only tokens naming it, and a token revoked with
`./mes token revoke` is refused by every one of them from the next request, with no restart."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import jwt
import pytest

from mes_shared.auth import SERVICES, Role, issue_token
from mes_shared.testing import require_env

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
# A read each service guards with a token (admin may read everything).
GUARDED_READ = {"kit-receiving": "/kit-types", "assembly-line": "/lines", "workforce": "/lines", "reporting": "/lines"}


def url_of(service: str) -> str:
    return require_env(f"MES_{service.upper().replace('-', '_')}_URL")


async def read(service: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url_of(service), timeout=10) as client:
        return await client.get(GUARDED_READ[service], headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_refuses_a_token_not_naming_it(service: str) -> None:
    secret = require_env("MES_AUTH_SECRET")
    others = [s for s in SERVICES if s != service]
    elsewhere = issue_token(secret, subject="e2e-elsewhere", role=Role.ADMIN, audience=others)
    here = issue_token(secret, subject="e2e-here", role=Role.ADMIN, audience=[service])

    refused = await read(service, elsewhere)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"].startswith(f"the bearer token is not for {service}")
    assert (await read(service, here)).status_code == 200


async def test_a_revoked_token_is_refused_by_every_service_at_once() -> None:
    token = issue_token(require_env("MES_AUTH_SECRET"), subject="e2e-lost-terminal", role=Role.ADMIN)
    for service in SERVICES:
        assert (await read(service, token)).status_code == 200  # now verified and cached in each service

    assert await asyncio.to_thread(revoke, token) == parse_jti(token)
    for service in SERVICES:
        answer = await read(service, token)
        assert answer.status_code == 401, service
        assert answer.json()["detail"] == "the bearer token was revoked"


def revoke(token: str) -> str:
    """As an operator does: `./mes token revoke`; answers the id it revoked."""
    done = subprocess.run(
        [str(ROOT / "mes"), "token", "revoke", token, "--reason", "e2e test"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return done.stderr.strip().removeprefix("revoked ")


def parse_jti(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])
