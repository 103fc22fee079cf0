"""The server's own answers are problem+json too: a request uvicorn cannot parse (here a 100,000-character URL)
never reaches the app, and uvicorn's own 400 is text/plain unless the service runs with our protocol class."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI

from mes_shared.http_server import ProblemH11Protocol, ProblemHTTPProtocol
from mes_shared.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from mes_shared.testing import serving


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/kits/{serial}")
    async def kit(serial: str) -> dict[str, str]:
        return {"serial": serial}

    return app


async def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


LONG_URL = b"GET /kits/" + b"A" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
BROKEN_HEADER = b"GET /kits/K-1 HTTP/1.1\r\nHost x\r\n\r\n"


@pytest.mark.parametrize(
    ("protocol", "request_bytes"),
    [(ProblemHTTPProtocol, LONG_URL), (ProblemHTTPProtocol, BROKEN_HEADER), (ProblemH11Protocol, BROKEN_HEADER)],
    ids=["long-url", "broken-header", "broken-header-h11"],
)
async def test_a_request_the_server_cannot_parse_is_answered_with_a_problem(
    protocol: type[asyncio.Protocol], request_bytes: bytes
) -> None:
    async with serving(_app(), http=protocol) as url:
        port = int(url.rsplit(":", 1)[1])
        status, headers, body = await _raw(port, request_bytes)
        assert status == 400
        assert headers["content-type"] == PROBLEM_MEDIA_TYPE
        problem = json.loads(body)
        assert problem["status"] == 400 and problem["type"] == "/problems/bad-request" and problem["detail"]
        # A request it can parse still reaches the app.
        status, _, body = await _raw(port, b"GET /kits/K-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 200 and json.loads(body) == {"serial": "K-1"}
