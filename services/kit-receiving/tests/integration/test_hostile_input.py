"""Hostile input at the mechanism: every body field and every query and path parameter the service's
OpenAPI document declares gets NUL and other control characters, instants that overflow by their offset
or lie before the plant's years, and numbers past what PostgreSQL holds. Each is a 4xx problem, never a
5xx, and nothing hostile is accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mes_shared import hostile
from mes_shared.auth import Role

pytestmark = pytest.mark.integration


async def test_every_field_and_parameter_refuses_hostile_input(
    app: FastAPI, client: httpx.AsyncClient, api_as: Callable[..., Any]
) -> None:
    wrong = await hostile.attack(client, app.openapi(), api_as(Role.ADMIN).headers)
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expected_arrival", "9999-12-31T23:59:59-14:00"),  # year 10000 in UTC: overflow
        ("expected_arrival", "0001-01-01T00:00:00+14:00"),  # year 0 in UTC: overflow
        ("announced_at", "0001-01-01T00:00:00Z"),  # was stored as -infinity
        ("expected_arrival", "2026-12-01T08:00:00"),  # no offset
    ],
)
async def test_a_shipment_at_an_impossible_instant_is_refused_naming_the_field(
    api: Any, kit_type: str, asn: Callable[..., dict[str, Any]], new_id: Callable[[str], str], field: str, value: str
) -> None:
    shipment = new_id("ASN")
    body = asn(shipment, kit_type, [new_id("KIT")]) | {field: value}
    r = await api.post("/shipments", body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == hostile.PROBLEM
    assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    assert (await api.get(f"/shipments/{shipment}")).status_code == 404
