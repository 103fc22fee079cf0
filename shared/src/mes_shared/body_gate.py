"""Limits before work: a request's token is checked before its body is read, and its body is counted while it
is read, so neither an anonymous caller nor an oversized body costs the service more than a few kilobytes.

FastAPI reads and parses a body before it solves a route's dependencies (where the token is checked): without
this gate an anonymous 53 MB POST is held in memory before its 401. The gate, a pure ASGI middleware:
- calls `mes_shared.auth.authenticate` for every request that carries a body, except on public paths; a missing
  or bad token is answered 401 there and then (the principal is kept on the request, so the route's own
  dependency does not verify the token again);
- refuses a body whose Content-Length is over the route's limit with 413 before reading any of it, and counts
  the bytes of a body sent without one (chunked), refusing it with 413 as soon as the count passes the limit.
What the service has not read is left to the server, which discards it once the answer is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mes_shared.auth import authenticate
from mes_shared.problems import Problem, respond

# Paths any caller may reach without a token (none of them takes a body, but a body sent there is not read).
PUBLIC_PREFIXES = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json")


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes its limit: FastAPI lets an HTTPException from reading the body
    through (any other becomes a 400), and the shared handlers answer it as a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes, the limit of this route")


class BodyGate:
    """`limits`: route path templates (as the routes declare them) whose body may be larger than `default_limit`."""

    def __init__(self, app: ASGIApp, *, default_limit: int, limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default_limit = default_limit
        self._limits: list[tuple[re.Pattern[str], int]] = [
            (compile_path(template)[0], limit) for template, limit in (limits or {}).items()
        ]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self._limits:
            if pattern.match(path):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if (length is None or length.strip() == "0") and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: nothing to guard
            return
        path: str = scope["path"]
        if not path.startswith(PUBLIC_PREFIXES):
            try:
                await authenticate(Request(scope))
            except Problem as refused:
                await respond(refused, path)(scope, receive, send)
                return
        limit = self.limit_for(path)
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await respond(_too_large(limit), path)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Content too large",
        f"the request body is larger than {limit} bytes, the limit of this route; send less in one request",
        type_="/problems/content-too-large",
        limit_bytes=limit,
    )
