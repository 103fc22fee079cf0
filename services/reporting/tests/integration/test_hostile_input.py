"""Hostile input at the mechanism: every body field and every query and path parameter the service's
OpenAPI document declares gets NUL and other control characters, instants that overflow by their offset
or lie before the plant's years, and numbers past what PostgreSQL holds. Each is a 4xx problem, never a
5xx, and nothing hostile is accepted."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from reporting_support import Api

from mes_shared import hostile

pytestmark = pytest.mark.integration


async def test_every_field_and_parameter_refuses_hostile_input(
    app: FastAPI, client: httpx.AsyncClient, admin: Api
) -> None:
    wrong = await hostile.attack(
        client, app.openapi(), admin.headers, skip=(r"/stream", r"^GET /dashboard$", r"^POST /admin/rebuild")
    )
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)
