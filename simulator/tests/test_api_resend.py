"""The simulator's HTTP client against a real local HTTP server: a 503 is sent again after its Retry-After, never
returned as an answer (so never counted as a refusal), and a service that stays away past the resend deadline
is reported unavailable."""

from __future__ import annotations

import itertools
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mes_shared.auth import Role
from mes_shared.testing import serving
from plant_sim.api import Api, ServiceUnavailable
from plant_sim.requests import SERVICES, Call

SECRET = "simulator-resend-tests-sq8czAF6H7xpXFicCE5yecrugws7sx1TxOFM9aay7kji08pOBNeNog"
RETRY_AFTER_S = 1


def plant_server(unavailable_for: int) -> tuple[Starlette, list[float]]:
    """Answers 503 (Retry-After 1) to the first `unavailable_for` requests, then 201; records when each came."""
    arrivals: list[float] = []

    async def lines(request: Request) -> JSONResponse:
        arrivals.append(time.monotonic())
        if len(arrivals) <= unavailable_for:
            problem = {"type": "/problems/service-unavailable", "status": 503, "retryable": True}
            return JSONResponse(
                problem, 503, headers={"Retry-After": str(RETRY_AFTER_S)}, media_type="application/problem+json"
            )
        return JSONResponse({"line_id": request.path_params["line"]}, 201)

    return Starlette(routes=[Route("/lines/{line}", lines, methods=["PUT"])]), arrivals


CALL = Call("assembly-line", "PUT", "/lines/L1", "line-supervisor", Role.SUPERVISOR, json={}, idempotency_key="k1")


async def test_a_503_is_sent_again_after_its_retry_after() -> None:
    app, arrivals = plant_server(unavailable_for=2)
    async with serving(app) as url:
        api = Api(dict.fromkeys(SERVICES, url), SECRET, resend_for_s=30)
        try:
            answer = await api.send(CALL)
        finally:
            await api.close()
    assert answer.status == 201 and answer.body == {"line_id": "L1"}
    assert api.resends == 2 and len(arrivals) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= RETRY_AFTER_S * 0.95 for gap in gaps), gaps


async def test_a_service_away_past_the_deadline_is_unavailable_not_an_answer() -> None:
    app, arrivals = plant_server(unavailable_for=1_000)
    async with serving(app) as url:
        api = Api(dict.fromkeys(SERVICES, url), SECRET, resend_for_s=1.5)
        try:
            with pytest.raises(ServiceUnavailable, match="503"):
                await api.send(CALL)
        finally:
            await api.close()
    assert len(arrivals) >= 2
