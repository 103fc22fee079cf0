"""RFC 9457 problem responses produced by `install_problem_handlers`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from mes_shared.observability import CorrelationAndMetricsMiddleware
from mes_shared.problems import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, Problem, ProblemDetails, install_problem_handlers

LEAKY_TEXT = "password=hunter2 at db-7.internal"


class Line(BaseModel):
    part_number: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class Receipt(BaseModel):
    serial: str
    dock: str
    lines: list[Line]


class Inner(BaseModel):
    body: str


class Wrapper(BaseModel):
    inner: Inner


def build_app(*, with_middleware: bool) -> FastAPI:
    app = FastAPI()
    if with_middleware:
        app.add_middleware(CorrelationAndMetricsMiddleware)
    install_problem_handlers(app)

    @app.get("/kits/{serial}")
    async def refuse(serial: str) -> dict[str, str]:
        raise Problem(
            409,
            "Kit already received",
            f"kit {serial} was received at dock D1",
            headers={"Retry-After": "5"},
            serial=serial,
            received_at="D1",
        )

    @app.post("/receipts")
    async def receipt(body: Receipt) -> dict[str, str]:
        return {"serial": body.serial}

    @app.post("/wrapped")
    async def wrapped(body: Wrapper) -> dict[str, str]:
        return {}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(LEAKY_TEXT)

    @app.get("/race")
    async def race() -> None:
        raise IntegrityError("INSERT INTO kits ...", {"serial": "K-1"}, Exception(LEAKY_TEXT))

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(with_middleware=True), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://unit") as c:
        yield c


def assert_problem(response: httpx.Response, status: int, type_: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == status
    assert body["type"] == type_
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    ProblemDetails.model_validate(body)
    return body


async def test_raised_problem_with_extensions(client: httpx.AsyncClient) -> None:
    response = await client.get("/kits/K-1", headers={"X-Correlation-ID": "corr-1"})

    body = assert_problem(response, 409, "/problems/kit-already-received")
    assert body == {
        "type": "/problems/kit-already-received",
        "title": "Kit already received",
        "status": 409,
        "detail": "kit K-1 was received at dock D1",
        "instance": "/kits/K-1",
        "correlation_id": "corr-1",
        "serial": "K-1",
        "received_at": "D1",
    }
    assert response.headers["retry-after"] == "5"


def test_problem_type_defaults_to_a_slug_of_the_title() -> None:
    assert Problem(409, "Kit Already Received", "d").type == "/problems/kit-already-received"
    assert Problem(409, "Conflict", "d", type_="/problems/custom").type == "/problems/custom"
    problem = Problem(400, "Bad", "what went wrong", extra=1)
    assert str(problem) == "what went wrong"
    assert problem.extensions == {"extra": 1}
    assert problem.headers is None


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/receipts", content=b'{"serial": "K-1", ', headers={"Content-Type": "application/json"}
    )

    body = assert_problem(response, 400, "/problems/malformed-json")
    assert body["title"] == "Malformed JSON"
    assert body["instance"] == "/receipts"
    assert "not valid JSON" in str(body["detail"])


async def test_validation_failure_is_422_listing_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/receipts", json={"serial": "K-1", "lines": [{"part_number": "", "quantity": 0}], "note": "x"}
    )

    body = assert_problem(response, 422, "/problems/invalid-request")
    assert body["title"] == "Invalid request"
    errors = body["errors"]
    assert isinstance(errors, list)
    fields = {e["field"] for e in errors}
    assert fields == {"dock", "lines.0.part_number", "lines.0.quantity"}
    assert all(set(e) == {"field", "message", "type"} for e in errors)
    assert {e["type"] for e in errors} == {"missing", "string_too_short", "greater_than"}
    for field in fields:
        assert field in str(body["detail"])


async def test_missing_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/receipts")
    body = assert_problem(response, 422, "/problems/invalid-request")
    assert [e["field"] for e in body["errors"]] == ["body"]  # type: ignore[union-attr]


async def test_validation_error_path_keeps_a_field_named_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/wrapped", json={"inner": {}})
    body = assert_problem(response, 422, "/problems/invalid-request")
    assert [e["field"] for e in body["errors"]] == ["inner.body"]  # type: ignore[union-attr]


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    body = assert_problem(response, 404, "/problems/not-found")
    assert body["title"] == "Not found"
    assert body["instance"] == "/nowhere"


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/receipts")
    body = assert_problem(response, 405, "/problems/method-not-allowed")
    assert body["title"] == "Method not allowed"
    assert response.headers["allow"] == "POST"


async def test_unexpected_exception_is_500_without_leaking(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/boom")

    body = assert_problem(response, 500, "/problems/internal-error")
    assert body["title"] == "Internal error"
    assert body["instance"] == "/boom"
    assert "hunter2" not in response.text
    assert LEAKY_TEXT not in str(body["detail"])
    assert any(r.exc_info and LEAKY_TEXT in str(r.exc_info[1]) for r in caplog.records), "the error is logged"


async def test_unexpected_exception_keeps_the_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Correlation-ID": "corr-500"})
    assert response.status_code == 500
    assert response.json()["correlation_id"] == "corr-500"
    assert response.headers.get("x-correlation-id") == "corr-500"


async def test_integrity_error_is_409(client: httpx.AsyncClient) -> None:
    response = await client.get("/race")

    body = assert_problem(response, 409, "/problems/concurrent-conflict")
    assert body["title"] == "Conflict"
    assert body["instance"] == "/race"
    assert "hunter2" not in response.text


async def test_without_middleware_correlation_id_is_null() -> None:
    transport = httpx.ASGITransport(app=build_app(with_middleware=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://unit") as c:
        response = await c.get("/kits/K-2")
    body = assert_problem(response, 409, "/problems/kit-already-received")
    assert body["correlation_id"] is None


def test_documented_responses_use_the_problem_media_type() -> None:
    assert set(PROBLEM_RESPONSES) == {400, 401, 403, 404, 409, 422}
    for spec in PROBLEM_RESPONSES.values():
        # The schema under problem+json only: never an application/json the services do not send.
        assert spec["content"] == {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
