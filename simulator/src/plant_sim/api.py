"""The services' public HTTP APIs, as the simulator's users reach them: a bearer token per user, JSON in and
out, and patience with the network (a dropped connection or a 502/503/504 is sent again, after the answer's
`Retry-After` when it has one; the request's own id makes that harmless). A service that stays unavailable
past the resend deadline raises `ServiceUnavailable`: its 503 is never an answer, so never a refusal."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from mes_shared.auth import Role, issue_token
from mes_shared.problems import retry_after_s
from plant_sim.requests import SERVICES, Call

TOKEN_TTL = timedelta(hours=12)
RESEND_STATUSES = frozenset({502, 503, 504})
# The longest a Retry-After is taken at its word: a wait is also cut short at the resend deadline.
MAX_RETRY_AFTER_S = 30.0
CORRELATION_HEADER = "X-Correlation-ID"

# Told of every HTTP answer, resends included: (service, status, the request's correlation id or None).
Observer = Callable[[str, int, str | None], None]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) and not self.ok else {}


class ServiceUnavailable(Exception):
    """A service did not answer within the deadline."""


class Api:
    def __init__(
        self,
        urls: dict[str, str],
        secret: str,
        *,
        timeout_s: float = 30.0,
        max_connections: int = 64,
        resend_for_s: float = 120.0,
        observe: Observer | None = None,
    ) -> None:
        missing = [s for s in SERVICES if not urls.get(s)]
        if missing:
            raise ValueError(f"no URL for {', '.join(missing)}")
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self.urls = dict(urls)
        self._clients = {
            s: httpx.AsyncClient(
                base_url=urls[s].rstrip("/"),
                timeout=timeout_s,
                limits=limits,
                event_hooks={"response": [_watch(s, observe)]} if observe is not None else None,
            )
            for s in SERVICES
        }
        self._secret = secret
        self._tokens: dict[tuple[str, Role, tuple[str, ...]], tuple[str, float]] = {}
        self._resend_for_s = resend_for_s
        self.resends = 0

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients.values()))

    def token(self, subject: str, role: Role, stations: tuple[str, ...] = ()) -> str:
        key = (subject, role, stations)
        found = self._tokens.get(key)
        if found is not None and time.monotonic() - found[1] < TOKEN_TTL.total_seconds() / 2:
            return found[0]
        token = issue_token(self._secret, subject=subject, role=role, stations=list(stations) or None, ttl=TOKEN_TTL)
        self._tokens[key] = (token, time.monotonic())
        return token

    async def send(self, call: Call, *, correlation_id: str | None = None) -> Answer:
        headers = {"Authorization": f"Bearer {self.token(call.subject, call.role, call.stations)}"}
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        if correlation_id is not None:
            headers[CORRELATION_HEADER] = correlation_id
        if call.content is not None:
            headers["Content-Type"] = call.content_type or "application/octet-stream"
        return await self._request(
            call.service, call.method, call.path, headers=headers, json=call.json, content=call.content
        )

    async def get(
        self, service: str, path: str, *, params: dict[str, Any] | None = None, role: Role = Role.MANAGER
    ) -> Answer:
        headers = {"Authorization": f"Bearer {self.token('plant-simulator-reader', role)}"}
        return await self._request(service, "GET", path, headers=headers, params=params)

    async def _request(self, service: str, method: str, path: str, **kwargs: Any) -> Answer:
        client = self._clients[service]
        deadline = time.monotonic() + self._resend_for_s
        delay = 0.2
        while True:
            try:
                response = await client.request(method, path, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(f"{service} {method} {path}: {exc!r}") from exc
                wait = delay
            else:
                if response.status_code not in RESEND_STATUSES:
                    return Answer(response.status_code, _body(response))
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(
                        f"{service} {method} {path}: still {response.status_code} after {self._resend_for_s:.0f} s: "
                        + str(_body(response))[:300]
                    )
                wait = retry_after_s(response.headers.get("retry-after"), default_s=delay, cap_s=MAX_RETRY_AFTER_S)
            self.resends += 1
            await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))
            delay = min(delay * 2, 5.0)

    async def wait_ready(self, *, timeout_s: float = 60.0) -> None:
        """Every service answers 200 on /health/ready (or the deadline passes)."""
        deadline = time.monotonic() + timeout_s
        for service, client in self._clients.items():
            while True:
                try:
                    if (await client.get("/health/ready", timeout=5)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(f"{service} at {self.urls[service]} is not ready after {timeout_s:.0f} s")
                await asyncio.sleep(0.5)

    async def openapi(self, service: str) -> dict[str, Any]:
        answer = await self._request(service, "GET", "/openapi.json")
        return answer.body if answer.ok and isinstance(answer.body, dict) else {}


def _watch(service: str, observe: Observer) -> Callable[[httpx.Response], Awaitable[None]]:
    async def hook(response: httpx.Response) -> None:
        observe(service, response.status_code, response.request.headers.get(CORRELATION_HEADER))

    return hook


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except json.JSONDecodeError:
            return response.text
    return response.text
