"""A small plant set up through the public HTTP APIs for the benchmarks: a line of stations, a model and
its route, an operator clocked in and qualified at each station, released kits, build orders, and one truck
in progress at each station. Everything carries a run id so benchmark data never collides with other data.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.loadgen import MAX_RESENDS, MAX_RETRY_AFTER_S
from mes_shared.auth import Role, issue_token
from mes_shared.problems import retry_after_s

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # never I, O or Q


def vin(run: str, n: int) -> str:
    body = f"B{run}{n:06d}"
    return "".join(c if c in VIN_CHARS else "0" for c in body.upper()).ljust(17, "0")[:17]


@dataclass
class Plant:
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6].upper())
    stations: int = 32
    urls: dict[str, str] = field(default_factory=dict)
    secret: str = ""

    def __post_init__(self) -> None:
        self.urls = self.urls or {
            name: os.environ[f"MES_{name.upper().replace('-', '_')}_URL"]
            for name in ("kit-receiving", "assembly-line", "workforce", "reporting")
        }
        self.secret = self.secret or os.environ["MES_AUTH_SECRET"]
        self.line = f"LB-{self.run}"
        self.model = f"MB-{self.run}"
        self.station_ids = [f"{self.line}-S{n:02d}" for n in range(1, self.stations + 1)]
        self.badges = {s: f"BB-{self.run}-{n:02d}" for n, s in enumerate(self.station_ids, 1)}
        self.vins = [vin(self.run, n) for n in range(1, self.stations + 1)]

    def token(self, role: Role, *, stations: list[str] | None = None, sub: str | None = None) -> str:
        return issue_token(self.secret, subject=sub or f"bench-{role.value}", role=role, stations=stations)

    def headers(self, role: Role, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}", "Idempotency-Key": uuid.uuid4().hex}

    def terminal_headers(self, station: str, terminal: int = 0) -> dict[str, str]:
        token = self.token(Role.TERMINAL, stations=[station], sub=f"bench-term-{station}-{terminal}")
        return {"Authorization": f"Bearer {token}", "content-type": "application/json"}

    async def _call(
        self, client: httpx.AsyncClient, service: str, method: str, path: str, role: Role, body: Any = None, **kw: Any
    ) -> dict[str, Any]:
        headers = kw.pop("headers", None) or self.headers(role)
        r = await client.request(method, self.urls[service] + path, json=body, headers=headers)
        for _ in range(MAX_RESENDS):  # a 503 is not a refusal: the same request again after its Retry-After
            if r.status_code != 503:
                break
            await asyncio.sleep(retry_after_s(r.headers.get("Retry-After"), default_s=1.0, cap_s=MAX_RETRY_AFTER_S))
            r = await client.request(method, self.urls[service] + path, json=body, headers=headers)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path} -> {r.status_code}: {r.text[:500]}")
        return r.json()

    async def _until(self, what: str, probe: Any, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not await probe():
            if time.monotonic() > deadline:
                raise TimeoutError(f"benchmark setup: {what} not seen within {timeout_s}s")
            await asyncio.sleep(0.2)

    async def build(self) -> None:
        async with httpx.AsyncClient(timeout=60) as c:
            sup = Role.SUPERVISOR
            await self._call(
                c,
                "assembly-line",
                "PUT",
                f"/lines/{self.line}",
                sup,
                {
                    "name": f"bench line {self.run}",
                    "stations": [{"station_id": s, "name": s} for s in self.station_ids],
                },
            )
            await self._call(c, "assembly-line", "PUT", f"/models/{self.model}", sup, {"name": "bench truck"})
            await self._call(
                c,
                "assembly-line",
                "POST",
                f"/lines/{self.line}/routes",
                sup,
                {"model": self.model, "steps": [{"station_id": s, "standard_seconds": 600} for s in self.station_ids]},
            )
            await self._people(c)
            await self._kits_and_orders(c)
            await self._position_trucks(c)

    async def _people(self, c: httpx.AsyncClient) -> None:
        async def line_known() -> bool:
            r = await c.get(self.urls["workforce"] + "/lines", headers=self.headers(Role.SUPERVISOR))
            return self.line in r.text

        await self._until("workforce knowing the line", line_known)
        now = datetime.now(UTC)
        start = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
        end = (now + timedelta(hours=6)).replace(second=0, microsecond=0)
        await self._call(
            c,
            "workforce",
            "PUT",
            f"/lines/{self.line}/calendar",
            Role.SUPERVISOR,
            {
                "time_zone": "UTC",
                "valid_from": now.date().isoformat(),
                "working_days": [1, 2, 3, 4, 5, 6, 7],
                "shifts": [
                    {"code": "B", "start": start.time().isoformat("minutes"), "end": end.time().isoformat("minutes")}
                ],
            },
        )
        for station, badge in self.badges.items():
            await self._call(
                c,
                "workforce",
                "POST",
                "/employees",
                Role.SUPERVISOR,
                {
                    "employee_id": badge,
                    "badge_id": badge,
                    "name": f"Operator {badge}",
                    "origin": "transferred",
                    "status": "active",
                    "status_since": (now.date() - timedelta(days=30)).isoformat(),
                },
            )
            await self._call(
                c,
                "workforce",
                "POST",
                f"/employees/{badge}/qualifications",
                Role.SUPERVISOR,
                {
                    "station": station,
                    "level": "qualified",
                    "valid_from": (now - timedelta(days=1)).isoformat(),
                    "valid_until": (now + timedelta(days=30)).isoformat(),
                },
            )
            await self._call(
                c,
                "workforce",
                "POST",
                "/clock-ins",
                Role.TERMINAL,
                {
                    "terminal_event_id": f"ci-{badge}",
                    "badge_id": badge,
                    "station": station,
                    "at": datetime.now(UTC).isoformat(),
                },
                headers=self.headers(Role.TERMINAL, stations=[station]),
            )

    async def _kits_and_orders(self, c: httpx.AsyncClient) -> None:
        kit_type = f"KB-{self.run}"
        await self._call(
            c,
            "kit-receiving",
            "POST",
            "/kit-types",
            Role.LOGISTICS,
            {
                "code": kit_type,
                "model": self.model,
                "variant": "std",
                "lines": [
                    {"part_number": f"P-{s}", "description": "part", "quantity": 1, "station": s}
                    for s in self.station_ids
                ],
            },
        )
        serials = [f"KB-{self.run}-{n:04d}" for n in range(1, len(self.vins) + 1)]
        await self._call(
            c,
            "kit-receiving",
            "POST",
            "/shipments",
            Role.LOGISTICS,
            {
                "shipment_id": f"ASN-B-{self.run}",
                "carrier": "bench",
                "origin": "bench",
                "expected_arrival": datetime.now(UTC).isoformat(),
                "kits": [{"serial": s, "kit_type": kit_type} for s in serials],
            },
        )
        for serial in serials:
            await self._call(c, "kit-receiving", "POST", f"/kits/{serial}/receipt", Role.LOGISTICS, {"dock": "B"})
            await self._call(c, "kit-receiving", "POST", f"/kits/{serial}/release", Role.LOGISTICS)

        async def kits_released() -> bool:
            for serial in serials:  # kits are on different partitions: each may arrive at its own pace
                r = await c.get(self.urls["assembly-line"] + f"/kits/{serial}", headers=self.headers(Role.SUPERVISOR))
                if r.status_code != 200 or '"released"' not in r.text:
                    return False
            return True

        await self._until("assembly-line seeing the released kits", kits_released)
        for v, serial in zip(self.vins, serials, strict=True):
            await self._call(
                c,
                "assembly-line",
                "POST",
                "/build-orders",
                Role.SUPERVISOR,
                {"vin": v, "model": self.model, "line_id": self.line, "kit_serial": serial},
            )

        async def operators_known() -> bool:
            last = self.station_ids[-1]
            r = await c.get(self.urls["assembly-line"] + f"/stations/{last}", headers=self.headers(Role.SUPERVISOR))
            return r.status_code == 200 and self.badges[last] in r.text

        await self._until("assembly-line seeing the operators clocked in", operators_known)

    async def _position_trucks(self, c: httpx.AsyncClient) -> None:
        """Truck n walks stations 1..n and is left in progress at station n."""
        for n, v in enumerate(self.vins):
            for k, station in enumerate(self.station_ids[: n + 1]):
                kinds = ["arrived", "work_started"] + (["work_completed"] if k < n else [])
                for kind in kinds:
                    body = {
                        "type": kind,
                        "terminal_event_id": f"pos-{v}-{k}-{kind}",
                        "occurred_at": datetime.now(UTC).isoformat(),
                        "vin": v,
                    }
                    if kind != "arrived":
                        body["operator_badge"] = self.badges[station]
                    await self._call(
                        c,
                        "assembly-line",
                        "POST",
                        f"/stations/{station}/events",
                        Role.TERMINAL,
                        body,
                        headers=self.terminal_headers(station),
                    )
