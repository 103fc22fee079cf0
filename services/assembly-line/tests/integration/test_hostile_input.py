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

from .conftest import Plant, Terminal

pytestmark = pytest.mark.integration


async def test_every_field_and_parameter_refuses_hostile_input(
    app: FastAPI, client: httpx.AsyncClient, api_as: Callable[..., Any]
) -> None:
    wrong = await hostile.attack(client, app.openapi(), api_as(Role.ADMIN).headers)
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)


async def test_a_hostile_item_of_a_backlog_is_refused_alone_naming_its_field(
    client: httpx.AsyncClient, plant: Plant
) -> None:
    line = await plant.line(stations=2)
    terminal = Terminal(client, line.stations[0])
    r = await terminal.batch(
        line.stations[0],
        [
            terminal.event("andon_raised", reason="jam\x00"),
            terminal.event("andon_raised", reason="jam") | {"occurred_at": "9999-12-31T23:59:59-14:00"},
            terminal.event("andon_raised", reason="jam") | {"occurred_at": "0001-01-01T00:00:00Z"},
            terminal.event("andon_raised", reason="conveyor jam"),
        ],
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [res["status"] for res in results] == [422, 422, 422, 201], results
    # The field's path starts with the event's type: "andon_raised.reason".
    assert [[e["field"].rsplit(".", 1)[-1] for e in res["problem"]["errors"]] for res in results[:3]] == [
        ["reason"],
        ["occurred_at"],
        ["occurred_at"],
    ]
    assert results[0]["problem"]["errors"][0]["type"] == "text.control-characters"
