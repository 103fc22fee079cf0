"""Limits before work: an anonymous body is refused 401 before any of it is read, an oversized one 413 while it
is read (never buffered whole); a terminal's backlog may be larger than a single request. The bytes the app
pulls from the server are counted at the app's edge, which is what the service holds in memory."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from mes_shared.auth import Role

from .conftest import Plant, assert_problem, now, token, unique

pytestmark = pytest.mark.integration

MB = 1024 * 1024
HUGE = 53 * MB
CHUNK = 64 * 1024


class CountingEdge:
    """The app as the server sees it, counting the body bytes the app reads."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
async def edge(app: FastAPI) -> AsyncIterator[tuple[CountingEdge, httpx.AsyncClient]]:
    counting = CountingEdge(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=counting), base_url="http://assembly-line") as c:
        yield counting, c


async def chunks(total: int) -> AsyncIterator[bytes]:
    """A body sent without Content-Length (chunked), as a client streaming an upload does."""
    block = b" " * CHUNK
    for _ in range(total // CHUNK):
        yield block


SUPERVISOR = {"Idempotency-Key": "limits", "Content-Type": "application/json"}


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_anonymous_53_mb_body_is_refused_401_before_it_is_read(
    edge: tuple[CountingEdge, httpx.AsyncClient], declared: bool
) -> None:
    counting, client = edge
    body: Any = b"x" * HUGE if declared else chunks(HUGE)
    r = await client.post("/build-orders", content=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 401)
    assert counting.read == 0


async def test_a_bad_token_is_refused_before_the_body_is_read(edge: tuple[CountingEdge, httpx.AsyncClient]) -> None:
    counting, client = edge
    r = await client.post("/build-orders", content=chunks(4 * MB), headers={"Authorization": "Bearer forged"})
    assert_problem(r, 401)
    assert counting.read == 0


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_authenticated_oversized_body_is_413_without_reading_it_whole(
    edge: tuple[CountingEdge, httpx.AsyncClient], declared: bool
) -> None:
    counting, client = edge
    headers = SUPERVISOR | {"Authorization": f"Bearer {token(Role.SUPERVISOR)}"}
    body: Any = b" " * HUGE if declared else chunks(HUGE)
    r = await client.post("/build-orders", content=body, headers=headers)
    assert_problem(r, 413)
    assert r.json()["type"] == "/problems/content-too-large"
    assert counting.read <= (0 if declared else MB + CHUNK)


async def test_a_backlog_may_be_larger_than_a_single_request(
    plant: Plant, edge: tuple[CountingEdge, httpx.AsyncClient]
) -> None:
    _, client = edge
    line = await plant.line(1)
    station = line.stations[0]
    event = {
        "type": "andon_raised",
        "terminal_event_id": uuid.uuid4().hex,
        "occurred_at": now().isoformat(),
        "reason": "air",
    }
    padded = json.dumps({"events": [event]}).encode()[:-1] + b" " * (2 * MB) + b"}"  # 2 MB of JSON whitespace
    headers = {"Authorization": f"Bearer {token(Role.TERMINAL, unique('terminal'), [station])}"}
    r = await client.post(
        f"/stations/{station}/events:batch", content=padded, headers=headers | {"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    single = await client.post(
        f"/stations/{station}/events", content=padded, headers=headers | {"Content-Type": "application/json"}
    )
    assert_problem(single, 413)


async def test_a_value_the_database_refuses_is_a_422_on_either_path(plant: Plant, terminal_for: Any) -> None:
    """The safety net under the input checks: NUL in text reaches PostgreSQL, which refuses it (SQLSTATE 22021),
    through SQLAlchemy (a command) and through the terminals' raw asyncpg path alike."""
    line_id = unique("L")
    body = {"name": "Line\u0000one", "stations": [{"station_id": f"{line_id}-S1", "name": "Station 1"}]}
    assert_problem(await plant.supervisor.put(f"/lines/{line_id}", body), 422)
    line = await plant.line(1)
    terminal = terminal_for(line.stations[0])
    assert_problem(await terminal.post(line.stations[0], "andon_raised", reason="no\u0000air"), 422)
