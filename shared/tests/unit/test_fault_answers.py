"""The shared handlers' answer to errors nobody raised on purpose: an unreachable database is a 503 the caller
may resend (Retry-After, `retryable`), logged in a few lines per outage; a value the database refused is a 422;
anything else stays a 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, OperationalError

from mes_shared.observability import CorrelationAndMetricsMiddleware
from mes_shared.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers, retry_after_s


class _Refused(Exception):
    """What SQLAlchemy's asyncpg adapter puts in `orig`: the driver's error as its cause."""


def _wrapped(driver_error: Exception) -> DBAPIError:
    adapted = _Refused(str(driver_error))
    adapted.__cause__ = driver_error
    return OperationalError("SELECT 1", {}, adapted)


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationAndMetricsMiddleware)
    install_problem_handlers(app, retry_after_s=7)

    @app.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    @app.get("/not-accepting")
    async def not_accepting() -> None:
        # ALLOW_CONNECTIONS false, through SQLAlchemy.
        raise _wrapped(asyncpg.ObjectNotInPrerequisiteStateError('database "x" is not currently accepting connections'))

    @app.get("/terminated")
    async def terminated() -> None:
        # pg_terminate_backend on a raw asyncpg connection (the station-event fast path).
        raise asyncpg.AdminShutdownError("terminating connection due to administrator command")

    @app.get("/nul")
    async def nul() -> None:
        raise _wrapped(asyncpg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00'))

    @app.get("/out-of-range")
    async def out_of_range() -> None:
        raise asyncpg.exceptions._base.DataError("invalid input for query argument $1: 10**30 (value out of range)")

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("a bug")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://unit") as c:
        yield c


@pytest.mark.parametrize("path", ["/refused", "/not-accepting", "/terminated"])
async def test_a_database_outage_is_a_503_to_resend(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert r.headers["retry-after"] == "7"
    body = r.json()
    assert body["retryable"] is True and body["type"] == "/problems/service-unavailable"
    assert body["correlation_id"] == r.headers["x-correlation-id"]


async def test_an_outage_is_logged_once_not_per_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="mes_shared.problems"):
        for _ in range(20):
            assert (await client.get("/refused")).status_code == 503
    lines = [r for r in caplog.records if r.name == "mes_shared.problems"]
    assert len(lines) == 1 and not lines[0].exc_info, [r.getMessage() for r in lines]
    assert "unavailable" in lines[0].getMessage()


@pytest.mark.parametrize("path", ["/nul", "/out-of-range"])
async def test_a_value_the_database_refuses_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert r.json()["type"] == "/problems/invalid-value"
    assert "cannot be stored" in r.json()["detail"]


async def test_anything_else_stays_a_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/bug")
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "retry-after" not in r.headers


def test_retry_after_is_read_in_seconds_or_as_a_date_and_bounded() -> None:
    assert retry_after_s("5", default_s=1, cap_s=30) == 5
    assert retry_after_s("3600", default_s=1, cap_s=30) == 30
    assert retry_after_s(None, default_s=1, cap_s=30) == 1
    assert retry_after_s("soon", default_s=1, cap_s=30) == 1
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", default_s=1, cap_s=30) == 0
