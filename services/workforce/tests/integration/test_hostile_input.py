"""Hostile input at the mechanism: every body field and every query and path parameter the service's
OpenAPI document declares gets NUL and other control characters, instants that overflow by their offset
or lie before the plant's years, and numbers past what PostgreSQL holds. Each is a 4xx problem, never a
5xx, and nothing hostile is accepted."""

from __future__ import annotations

import uuid
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


async def test_a_hostile_cell_of_the_employee_csv_is_a_rejected_row_and_the_others_are_taken(
    api_as: Callable[..., Any],
) -> None:
    p = uuid.uuid4().hex[:6].upper()
    rows = [
        f"H{p}-1,BH{p}-1,Ana\x01Lima,transferred,active,2025-06-01",
        f"H{p}-2,BH{p}-2,Bruno\x85Costa,transferred,active,2025-06-01",
        f"H{p}-3,BH{p}-3,Carla Dias,transferred,active,0001-01-01",
        f"H{p}-4,BH{p}-4,Davi\x1bReis,transferred,active,2025-06-01",
        f"H{p}-5,BH{p}-5,Eva Melo,transferred,active,1987-03-02",
    ]
    raw = ("employee_id,badge_id,name,origin,status,status_since\n" + "\n".join(rows) + "\n").encode()
    r = await api_as(Role.SUPERVISOR).post_csv("/employees/import", raw)
    assert r.status_code == 200, r.text
    outcomes = {row["line"]: (row["outcome"], row["reason"] or "") for row in r.json()["rows"]}
    assert [outcome for outcome, _ in outcomes.values()] == ["rejected"] * 4 + ["created"], outcomes
    assert all("control characters" in outcomes[line][1] for line in (2, 3, 5)), outcomes
    assert "status_since" in outcomes[4][1], outcomes


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("valid_until", "9999-12-31T23:59:59-14:00"),  # year 10000 in UTC: overflow
        ("valid_from", "0001-01-01T00:00:00+14:00"),  # year 0 in UTC: overflow
        ("valid_from", "0001-01-01T00:00:00Z"),  # would be stored as -infinity
        ("valid_until", "2027-01-01T00:00:00"),  # no offset
    ],
)
async def test_a_qualification_at_an_impossible_instant_is_refused_naming_the_field(
    api_as: Callable[..., Any], make_employee: Callable[..., Any], field: str, value: str
) -> None:
    supervisor = api_as(Role.SUPERVISOR)
    employee = (await make_employee())["employee_id"]
    body = {"station": "skill:forklift", "level": "qualified", "valid_until": "2030-01-01T00:00:00Z"} | {field: value}
    r = await supervisor.post(f"/employees/{employee}/qualifications", body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    renewal = {"valid_until": value} if field == "valid_until" else {"valid_until": "2030-01-01T00:00:00Z"}
    r = await supervisor.post(f"/employees/{employee}/qualifications/skill:forklift/renewal", renewal)
    assert r.status_code in (404, 422), r.text  # nothing to renew; an impossible instant is refused first
    assert (await supervisor.get(f"/employees/{employee}")).json()["qualifications"] == []
