"""Bearer tokens, roles, station scoping and the `require` dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from mes_shared import auth
from mes_shared.auth import ALGORITHM, ISSUER, Principal, Role, issue_token, require, verify_token
from mes_shared.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers

SECRET = "unit-test-secret-0123456789abcdef-0123456789"
OTHER_SECRET = "another-secret-0123456789abcdef-0123456789ab"


def raw_token(claims: dict[str, Any], secret: str = SECRET) -> str:
    now = datetime.now(UTC)
    base: dict[str, Any] = {"iss": ISSUER, "sub": "someone", "role": "logistics", "iat": now, "exp": now + timedelta(1)}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm=ALGORITHM)


def assert_unauthorized(problem: Problem) -> None:
    assert problem.status == 401
    assert problem.title == "Unauthorized"
    assert problem.type == "/problems/unauthorized"
    assert problem.headers == {"WWW-Authenticate": "Bearer"}


def test_round_trip_with_stations() -> None:
    token = issue_token(SECRET, subject="terminal-7", role=Role.TERMINAL, stations=["S2", "S1", "S2"])

    principal = verify_token(SECRET, token)

    assert principal == Principal(subject="terminal-7", role=Role.TERMINAL, stations=frozenset({"S1", "S2"}))
    assert jwt.decode(token, SECRET, algorithms=[ALGORITHM], issuer=ISSUER)["stations"] == ["S1", "S2"]


def test_round_trip_without_stations() -> None:
    principal = verify_token(SECRET, issue_token(SECRET, subject="sam", role=Role.SUPERVISOR))

    assert principal.subject == "sam"
    assert principal.role is Role.SUPERVISOR
    assert principal.stations == frozenset()


def test_token_carries_issuer_and_expiry() -> None:
    token = issue_token(SECRET, subject="pat", role=Role.PLANNER, ttl=timedelta(hours=2))
    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], issuer=ISSUER)
    assert claims["iss"] == "mes"
    assert claims["role"] == "planner"
    assert claims["exp"] - claims["iat"] == 2 * 3600


@pytest.mark.parametrize("stations", [None, []])
def test_terminal_without_stations_is_refused(stations: list[str] | None) -> None:
    with pytest.raises(ValueError, match="station"):
        issue_token(SECRET, subject="t", role=Role.TERMINAL, stations=stations)


def test_expired_token_is_unauthorized() -> None:
    token = issue_token(SECRET, subject="old", role=Role.LOGISTICS, ttl=timedelta(seconds=-5))
    with pytest.raises(Problem) as raised:
        verify_token(SECRET, token)
    assert_unauthorized(raised.value)
    assert "expired" in raised.value.detail.lower()


def test_wrong_secret_is_unauthorized() -> None:
    token = issue_token(OTHER_SECRET, subject="x", role=Role.ADMIN)
    with pytest.raises(Problem) as raised:
        verify_token(SECRET, token)
    assert_unauthorized(raised.value)


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iss": "someone-else"}, "wrong issuer"),
        ({"role": None}, "missing role"),
        ({"role": "janitor"}, "unknown role"),
        ({"exp": None}, "missing exp"),
        ({"sub": None}, "missing sub"),
        ({"iss": None}, "missing iss"),
    ],
)
def test_invalid_claims_are_unauthorized(claims: dict[str, Any], why: str) -> None:
    with pytest.raises(Problem) as raised:
        verify_token(SECRET, raw_token(claims))
    assert_unauthorized(raised.value)


def test_unsigned_token_is_unauthorized() -> None:
    token = jwt.encode({"iss": ISSUER, "sub": "x", "role": "admin", "iat": 0, "exp": 2**40}, None, algorithm="none")
    with pytest.raises(Problem) as raised:
        verify_token(SECRET, token)
    assert_unauthorized(raised.value)


def test_garbage_token_is_unauthorized() -> None:
    with pytest.raises(Problem) as raised:
        verify_token(SECRET, "not-a-jwt")
    assert_unauthorized(raised.value)


def test_terminal_may_act_for_its_own_station() -> None:
    Principal("t-1", Role.TERMINAL, frozenset({"S1", "S2"})).ensure_station("S2")


def test_terminal_may_not_act_for_another_station() -> None:
    with pytest.raises(Problem) as raised:
        Principal("t-1", Role.TERMINAL, frozenset({"S1"})).ensure_station("S9")
    assert raised.value.status == 403
    assert raised.value.type == "/problems/station-not-allowed"
    assert raised.value.extensions == {"station": "S9"}
    assert "t-1" in raised.value.detail


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.TERMINAL])
def test_other_roles_are_not_station_bound(role: Role) -> None:
    Principal("u", role).ensure_station("S9")
    Principal("u", role, frozenset({"S1"})).ensure_station("S9")


# --- the FastAPI dependency ----------------------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.auth_secret = SECRET
    install_problem_handlers(app)

    @app.get("/logistics")
    async def logistics_only(principal: Annotated[Principal, Depends(require(Role.LOGISTICS))]) -> dict[str, Any]:
        return {"subject": principal.subject, "role": principal.role.value, "stations": sorted(principal.stations)}

    @app.get("/floor")
    async def floor(
        principal: Annotated[Principal, Depends(require(Role.TERMINAL, Role.SUPERVISOR))],
    ) -> dict[str, Any]:
        return {"subject": principal.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://unit") as c:
        yield c


def bearer(role: Role, subject: str = "u", stations: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, stations=stations)}"}


async def test_no_header_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/logistics")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["type"] == "/problems/unauthorized"
    assert body["status"] == 401
    assert body["instance"] == "/logistics"


async def test_other_scheme_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/logistics", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_invalid_token_is_401(client: httpx.AsyncClient) -> None:
    token = issue_token(OTHER_SECRET, subject="x", role=Role.LOGISTICS)
    response = await client.get("/logistics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/unauthorized"


async def test_allowed_role_passes(client: httpx.AsyncClient) -> None:
    response = await client.get("/logistics", headers=bearer(Role.LOGISTICS, subject="lou"))
    assert response.status_code == 200
    assert response.json() == {"subject": "lou", "role": "logistics", "stations": []}


async def test_wrong_role_is_403_listing_allowed_roles(client: httpx.AsyncClient) -> None:
    response = await client.get("/logistics", headers=bearer(Role.PLANNER))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "/problems/role-not-allowed"
    assert body["status"] == 403
    assert "planner" in body["detail"]
    assert body["detail"].endswith("allowed: admin, logistics")


async def test_403_lists_every_allowed_role(client: httpx.AsyncClient) -> None:
    response = await client.get("/floor", headers=bearer(Role.MANAGER))
    assert response.status_code == 403
    assert response.json()["detail"].endswith("allowed: admin, supervisor, terminal")


@pytest.mark.parametrize("path", ["/logistics", "/floor"])
async def test_admin_is_always_allowed(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=bearer(Role.ADMIN, subject="root"))
    assert response.status_code == 200
    assert response.json()["subject"] == "root"


async def test_terminal_token_reaches_the_route_with_its_stations(client: httpx.AsyncClient) -> None:
    response = await client.get("/floor", headers=bearer(Role.TERMINAL, subject="t-3", stations=["S4"]))
    assert response.status_code == 200
    assert response.json() == {"subject": "t-3"}


# --- the command line ----------------------------------------------------------------------------


def test_main_issue_prints_a_verifiable_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MES_AUTH_SECRET", SECRET)

    code = auth.main(["issue", "--role", "terminal", "--station", "S1", "--station", "S2", "--sub", "t-9"])

    assert code == 0
    out = capsys.readouterr().out.strip()
    assert verify_token(SECRET, out) == Principal("t-9", Role.TERMINAL, frozenset({"S1", "S2"}))


def test_main_issue_defaults_subject_to_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MES_AUTH_SECRET", SECRET)

    assert auth.main(["issue", "--role", "manager", "--ttl-hours", "0.5"]) == 0

    token = capsys.readouterr().out.strip()
    principal = verify_token(SECRET, token)
    assert (principal.subject, principal.role) == ("manager", Role.MANAGER)
    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], issuer=ISSUER)
    assert claims["exp"] - claims["iat"] == 1800


def test_main_without_secret_returns_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MES_AUTH_SECRET", raising=False)

    assert auth.main(["issue", "--role", "admin"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "MES_AUTH_SECRET" in captured.err


def test_main_terminal_without_station_returns_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MES_AUTH_SECRET", SECRET)

    assert auth.main(["issue", "--role", "terminal"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "station" in captured.err


def test_main_rejects_an_unknown_role(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MES_AUTH_SECRET", SECRET)
    with pytest.raises(SystemExit) as exited:
        auth.main(["issue", "--role", "janitor"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_cached_token_is_verified_again_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    import mes_shared.auth as auth

    secret = "c" * 40
    token = auth.issue_token(secret, subject="t-1", role=auth.Role.TERMINAL, stations=["S1"], ttl=timedelta(minutes=5))
    calls: list[str] = []
    real_verify = auth._verify

    def counting(secret_: str, token_: str) -> tuple[auth.Principal, float]:
        calls.append(token_)
        return real_verify(secret_, token_)

    monkeypatch.setattr(auth, "_verify", counting)
    assert auth.verify_token(secret, token).subject == "t-1"
    assert auth.verify_token(secret, token).stations == frozenset({"S1"})
    assert len(calls) == 1  # the second request was answered from the cache

    def expired(secret_: str, token_: str) -> tuple[auth.Principal, float]:
        raise auth.Problem(401, "Unauthorized", "the bearer token is not valid: Signature has expired")

    later = auth.time.time() + 600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr(auth, "_verify", expired)
    with pytest.raises(auth.Problem) as refused:
        auth.verify_token(secret, token)  # past its expiry the cache does not answer
    assert refused.value.status == 401
