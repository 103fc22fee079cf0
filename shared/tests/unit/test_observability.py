"""Correlation-id middleware, HTTP metrics and JSON log lines."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from mes_shared.observability import CorrelationAndMetricsMiddleware, JsonFormatter, correlation_id_var


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationAndMetricsMiddleware)

    @app.get("/cid")
    async def cid() -> dict[str, str | None]:
        return {"seen": correlation_id_var.get()}

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app()), base_url="http://unit") as c:
        yield c


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@pytest.mark.parametrize("incoming", ["abc-123", "req.42:retry_1", "A" * 128, str(uuid.uuid4())])
async def test_safe_incoming_id_is_echoed_and_visible_in_the_route(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/cid", headers={"X-Correlation-ID": incoming})

    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == incoming
    assert response.json() == {"seen": incoming}


@pytest.mark.parametrize("incoming", ["has spaces in it", "A" * 129, "x" * 200, "semi;colon", "<script>", "é"])
async def test_unsafe_incoming_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/cid", headers={"X-Correlation-ID": incoming.encode("latin-1")})

    replaced = response.headers["x-correlation-id"]
    assert replaced != incoming
    assert is_uuid(replaced)
    assert response.json() == {"seen": replaced}


async def test_missing_id_is_generated_fresh_each_time(client: httpx.AsyncClient) -> None:
    first = await client.get("/cid")
    second = await client.get("/cid")

    assert is_uuid(first.headers["x-correlation-id"])
    assert first.json()["seen"] == first.headers["x-correlation-id"]
    assert first.headers["x-correlation-id"] != second.headers["x-correlation-id"]


async def test_correlation_id_is_reset_after_the_request(client: httpx.AsyncClient) -> None:
    await client.get("/cid", headers={"X-Correlation-ID": "gone-after"})
    assert correlation_id_var.get() is None


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    def count(route: str, status: str) -> float:
        labels = {"method": "GET", "route": route, "status": status}
        return REGISTRY.get_sample_value("mes_http_requests_total", labels) or 0.0

    before_ok = count("/items/{item_id}", "200")
    before_missing = count("unmatched", "404")

    await client.get("/items/a")
    await client.get("/items/b")
    await client.get("/not-a-route")

    assert count("/items/{item_id}", "200") == before_ok + 2
    assert count("unmatched", "404") == before_missing + 1


async def call_raw(header_value: bytes) -> tuple[str | None, list[Message]]:
    """Drive the middleware directly with a raw header value, as a server would hand it over."""
    seen: list[str | None] = []
    sent: list[Message] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(correlation_id_var.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"x-correlation-id", header_value)],
    }
    await CorrelationAndMetricsMiddleware(inner)(scope, receive, send)
    return seen[0], sent


async def test_raw_middleware_echoes_a_safe_id() -> None:
    seen, sent = await call_raw(b"raw-1")
    assert seen == "raw-1"
    assert (b"x-correlation-id", b"raw-1") in sent[0]["headers"]


async def test_raw_middleware_replaces_an_id_with_a_trailing_newline() -> None:
    seen, sent = await call_raw(b"abc\n")
    assert seen is not None
    assert is_uuid(seen)
    assert (b"x-correlation-id", seen.encode()) in sent[0]["headers"]


async def test_non_http_scopes_pass_through() -> None:
    called: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["type"])
        assert correlation_id_var.get() is None

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent")

    await CorrelationAndMetricsMiddleware(inner)({"type": "lifespan"}, receive, send)
    assert called == ["lifespan"]


def make_record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.getLogger("mes.unit").makeRecord(
        "mes.unit",
        logging.WARNING,
        __file__,
        1,
        message,
        args,
        exc_info,  # type: ignore[arg-type]
    )


def test_json_formatter_emits_service_level_message_and_correlation_id() -> None:
    token = correlation_id_var.set("corr-log")
    try:
        line = JsonFormatter("kit-receiving").format(make_record("kit %s received at %s", "K-1", "D1"))
    finally:
        correlation_id_var.reset(token)

    entry = json.loads(line)
    assert entry["service"] == "kit-receiving"
    assert entry["level"] == "WARNING"
    assert entry["message"] == "kit K-1 received at D1"
    assert entry["correlation_id"] == "corr-log"
    assert entry["logger"] == "mes.unit"
    assert entry["time"].endswith("+00:00")
    assert "exception" not in entry
    assert "\n" not in line


def test_json_formatter_without_correlation_id_and_with_exception() -> None:
    try:
        raise ValueError('bad "quoted" thing\nsecond line')
    except ValueError:
        record = make_record("failed", exc_info=sys.exc_info())

    line = JsonFormatter("svc").format(record)

    entry = json.loads(line)
    assert entry["correlation_id"] is None
    assert entry["message"] == "failed"
    assert "ValueError" in entry["exception"]
    assert "\n" not in line
