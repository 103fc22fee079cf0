"""Bearer tokens: claims, audience, lifetimes, key rotation, revocation, roles and the `require` dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from mes_shared import auth
from mes_shared.auth import (
    ALGORITHM,
    ISSUER,
    MAX_LIFETIME,
    SERVICES,
    Principal,
    Role,
    TokenVerifier,
    issue_token,
    require,
)
from mes_shared.keys import KeySet, WatchedFile, fixed, key_id, parse_key_file, watched_revocations
from mes_shared.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers
from mes_shared.settings import ServiceSettings

SECRET = "unit-test-secret-Qm7Zr2Vx9Lk4Tp1Wd8Hs3Jc6Nb0Fy5Ga"
OTHER_SECRET = "another-secret-Ue4Oi8Xq2Rv6Mz0Kl3Pw7Yt1Bn5Cd9Hj"
SERVICE = "kit-receiving"


def verifier(secret: str = SECRET, service: str = SERVICE) -> TokenVerifier:
    return TokenVerifier(service, fixed(KeySet.of([secret])))


def raw_token(claims: dict[str, Any], secret: str = SECRET, headers: dict[str, Any] | None = None) -> str:
    """A token with exactly these claims changed from a valid logistics token (None: left out)."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "someone",
        "role": "logistics",
        "aud": [SERVICE],
        "iat": now,
        "exp": now + 3600,
        "jti": "0123456789abcdef",
    }
    base.update(claims)
    header = {"kid": key_id(secret)} if headers is None else headers
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm=ALGORITHM, headers=header)


def hand_made(header: dict[str, Any], payload: bytes, secret: str = SECRET) -> str:
    """A token built by hand, for headers and payloads a JWT library will not write."""

    def b64(raw: bytes) -> bytes:
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signed = b64(json.dumps({"alg": ALGORITHM, **header}).encode()) + b"." + b64(payload)
    return (signed + b"." + b64(hmac.new(secret.encode(), signed, hashlib.sha256).digest())).decode()


def refused(token: str, check: TokenVerifier | None = None) -> Problem:
    with pytest.raises(Problem) as raised:
        (check or verifier()).verify(token)
    problem = raised.value
    assert problem.status == 401
    assert problem.title == "Unauthorized"
    assert problem.type == "/problems/unauthorized"
    assert problem.headers == {"WWW-Authenticate": "Bearer"}
    return problem


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, SECRET, algorithms=[ALGORITHM], issuer=ISSUER, audience=SERVICE)


# --- issuing -------------------------------------------------------------------------------------


def test_round_trip_with_stations() -> None:
    token = issue_token(SECRET, subject="terminal-7", role=Role.TERMINAL, stations=["S2", "S1", "S2"])

    assert verifier().verify(token) == Principal("terminal-7", Role.TERMINAL, frozenset({"S1", "S2"}))
    assert claims_of(token)["stations"] == ["S1", "S2"]


def test_round_trip_without_stations() -> None:
    principal = verifier().verify(issue_token(SECRET, subject="sam", role=Role.SUPERVISOR))

    assert principal == Principal("sam", Role.SUPERVISOR)


def test_a_token_names_its_services_its_id_and_its_key() -> None:
    token = issue_token(SECRET, subject="pat", role=Role.PLANNER, ttl=timedelta(hours=2))

    claims = claims_of(token)
    assert claims["iss"] == "mes"
    assert claims["role"] == "planner"
    assert claims["aud"] == sorted(SERVICES)
    assert claims["exp"] - claims["iat"] == 2 * 3600
    assert len(claims["jti"]) == 32
    assert jwt.get_unverified_header(token)["kid"] == key_id(SECRET)
    assert claims_of(issue_token(SECRET, subject="pat", role=Role.PLANNER))["jti"] != claims["jti"]


def test_a_token_may_be_for_some_services_only() -> None:
    token = issue_token(SECRET, subject="dock", role=Role.LOGISTICS, audience=["kit-receiving"])
    assert verifier(service="kit-receiving").verify(token).subject == "dock"
    problem = refused(token, verifier(service="assembly-line"))
    assert "not for assembly-line" in problem.detail


@pytest.mark.parametrize("audience", [[], ["warehouse"]])
def test_a_token_for_no_known_service_is_not_issued(audience: list[str]) -> None:
    with pytest.raises(ValueError, match="service"):
        issue_token(SECRET, subject="x", role=Role.LOGISTICS, audience=audience)


@pytest.mark.parametrize("stations", [None, []])
def test_terminal_without_stations_is_refused(stations: list[str] | None) -> None:
    with pytest.raises(ValueError, match="station"):
        issue_token(SECRET, subject="t", role=Role.TERMINAL, stations=stations)


@pytest.mark.parametrize("role", list(Role))
def test_no_token_outlives_its_role(role: Role) -> None:
    issue_token(SECRET, subject="x", role=role, stations=["S1"], ttl=MAX_LIFETIME[role])
    with pytest.raises(ValueError, match="at most"):
        issue_token(SECRET, subject="x", role=role, stations=["S1"], ttl=MAX_LIFETIME[role] + timedelta(seconds=1))


def test_the_default_lifetime_is_a_working_day_or_the_roles_maximum() -> None:
    manager = claims_of(issue_token(SECRET, subject="m", role=Role.MANAGER))
    admin = claims_of(issue_token(SECRET, subject="a", role=Role.ADMIN))
    assert manager["exp"] - manager["iat"] == 12 * 3600
    assert admin["exp"] - admin["iat"] == 3600


# --- checking ------------------------------------------------------------------------------------


def test_expired_token_is_unauthorized() -> None:
    problem = refused(issue_token(SECRET, subject="old", role=Role.LOGISTICS, ttl=timedelta(seconds=-5)))
    assert "expired" in problem.detail.lower()


def test_a_token_signed_with_an_unknown_key_is_unauthorized() -> None:
    refused(issue_token(OTHER_SECRET, subject="x", role=Role.ADMIN))


def test_a_forged_token_claiming_a_known_kid_is_unauthorized() -> None:
    refused(raw_token({"role": "admin"}, secret=OTHER_SECRET, headers={"kid": key_id(SECRET)}))


@pytest.mark.parametrize("header", [{}, {"kid": 7}, {"kid": ["a"]}], ids=repr)
def test_a_token_without_a_usable_kid_is_unauthorized(header: dict[str, Any]) -> None:
    payload = jwt.decode(raw_token({}), SECRET, algorithms=[ALGORITHM], audience=SERVICE)
    refused(hand_made(header, json.dumps(payload).encode()))


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "someone-else"},
        {"iss": None},
        {"role": None},
        {"role": "janitor"},
        {"role": 3},
        {"sub": None},
        {"sub": 42},
        {"sub": ""},
        {"exp": None},
        {"exp": "9999999999"},
        {"exp": 99999999999.5},
        {"exp": True},
        {"iat": None},
        {"iat": "0"},
        {"aud": None},
        {"aud": "kit-receiving"},
        {"aud": []},
        {"aud": [1]},
        {"jti": None},
        {"jti": 12345678901},
        {"jti": "short"},
        {"stations": 5},
        {"stations": "ST1"},
        {"stations": [5]},
        {"stations": {"S1": True}},
        {"role": "terminal"},
        {"role": "terminal", "stations": []},
        {"admin": True},
    ],
    ids=repr,
)
def test_malformed_claims_are_unauthorized_never_a_crash(claims: dict[str, Any]) -> None:
    refused(raw_token(claims))


def test_a_station_string_is_not_read_as_its_characters() -> None:
    problem = refused(raw_token({"role": "terminal", "stations": "ST1"}))
    assert "stations" in problem.detail


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"a"', b"not json", b'{"iss": "mes", "iss": "mes"'], ids=repr)
def test_a_payload_that_is_not_a_claims_object_is_unauthorized(payload: bytes) -> None:
    refused(hand_made({"kid": key_id(SECRET)}, payload))


def test_a_token_for_another_service_is_unauthorized() -> None:
    problem = refused(raw_token({"aud": ["reporting", "workforce"]}))
    assert problem.detail == "the bearer token is not for kit-receiving (it is for reporting, workforce)"


def test_a_token_living_longer_than_its_role_may_is_unauthorized() -> None:
    now = int(time.time())
    week = int(MAX_LIFETIME[Role.MANAGER].total_seconds())
    assert verifier().verify(raw_token({"role": "manager", "iat": now, "exp": now + week}))
    problem = refused(raw_token({"role": "manager", "iat": now, "exp": now + week + 1}))
    assert "longer than a token of role manager may" in problem.detail
    refused(raw_token({"role": "admin", "iat": now - 60, "exp": now + 3600}))


def test_a_token_issued_in_the_future_is_unauthorized() -> None:
    now = int(time.time())
    verifier().verify(raw_token({"iat": now + 30, "exp": now + 600}))  # a little clock skew is fine
    refused(raw_token({"iat": now + 600, "exp": now + 1200}))


def test_unsigned_token_is_unauthorized() -> None:
    claims = {"iss": ISSUER, "sub": "x", "role": "admin", "aud": [SERVICE], "iat": 0, "exp": 2**40, "jti": "x" * 16}
    refused(jwt.encode(claims, None, algorithm="none", headers={"kid": key_id(SECRET)}))


def test_garbage_token_is_unauthorized() -> None:
    refused("not-a-jwt")


# --- the cache, key rotation and revocation ------------------------------------------------------


def test_a_token_is_checked_once_then_answered_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    check = verifier()
    token = issue_token(SECRET, subject="t-1", role=Role.TERMINAL, stations=["S1"], ttl=timedelta(minutes=5))
    calls: list[str] = []
    real_verify = check._verify

    def counting(token_: str, keys: KeySet) -> Any:
        calls.append(token_)
        return real_verify(token_, keys)

    monkeypatch.setattr(check, "_verify", counting)
    assert check.verify(token).subject == "t-1"
    assert check.verify(token).stations == frozenset({"S1"})
    assert len(calls) == 1

    later = time.time() + 600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert "expired" in refused(token, check).detail  # past its expiry the cache does not answer
    assert len(calls) == 2


def write_atomically(path: Path, text: str) -> None:
    """As an operator (or a ConfigMap) replaces a file: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def test_a_new_key_is_rolled_out_beside_the_old_and_the_old_retired(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"# signing key first\n{SECRET}\n")
    check = TokenVerifier(SERVICE, WatchedFile(key_file, parse_key_file).current)
    old = issue_token(SECRET, subject="t-old", role=Role.TERMINAL, stations=["S1"])
    assert check.verify(old).subject == "t-old"
    refused(issue_token(OTHER_SECRET, subject="t-new", role=Role.LOGISTICS), check)

    write_atomically(key_file, f"{OTHER_SECRET}\n{SECRET}\n")  # the new key signs, the old one still counts
    new = issue_token(parse_key_file(key_file.read_text()), subject="t-new", role=Role.LOGISTICS)
    assert jwt.get_unverified_header(new)["kid"] == key_id(OTHER_SECRET)
    assert check.verify(new).subject == "t-new"
    assert check.verify(old).subject == "t-old"

    write_atomically(key_file, f"{OTHER_SECRET}\n")  # the old key retired: refused at once, cached or not
    assert "no longer accepted" in refused(old, check).detail
    assert check.verify(new).subject == "t-new"


def test_a_broken_key_file_keeps_the_keys_it_held(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(SECRET)
    check = TokenVerifier(SERVICE, WatchedFile(key_file, parse_key_file).current)
    token = issue_token(SECRET, subject="dock", role=Role.LOGISTICS)

    for broken in ("", "a" * 40):
        write_atomically(key_file, broken)
        assert check.verify(token).subject == "dock"
    assert "could not be used" in caplog.text


def test_a_revoked_token_is_refused_at_once_even_when_cached(tmp_path: Path) -> None:
    revoked_file = tmp_path / "revoked"  # not there yet: nothing is revoked
    check = TokenVerifier(SERVICE, fixed(KeySet.of([SECRET])), watched_revocations(revoked_file))
    lost = issue_token(SECRET, subject="t-lost", role=Role.TERMINAL, stations=["S1"])
    kept = issue_token(SECRET, subject="t-kept", role=Role.TERMINAL, stations=["S1"])
    assert check.verify(lost).subject == "t-lost"
    assert check.verify(kept).subject == "t-kept"

    revoked_file.write_text(f"{claims_of(lost)['jti']}  # revoked: terminal stolen\n")

    assert refused(lost, check).detail == "the bearer token was revoked"
    assert check.verify(kept).subject == "t-kept"
    revoked_file.unlink()  # an emptied list lifts the revocation
    assert check.verify(lost).subject == "t-lost"


def test_no_revocation_file_revokes_nothing() -> None:
    assert watched_revocations(None)() == frozenset()


# --- roles and stations --------------------------------------------------------------------------


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
    app.state.tokens = verifier()
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


@pytest.mark.parametrize(
    "claims",
    [{"stations": 5}, {"stations": "ST1", "role": "terminal"}, {"exp": "9999999999"}, {"sub": 7}, {"aud": ["x"]}],
    ids=repr,
)
async def test_a_malformed_token_is_a_401_problem(client: httpx.AsyncClient, claims: dict[str, Any]) -> None:
    response = await client.get("/floor", headers={"Authorization": f"Bearer {raw_token(claims)}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/unauthorized"


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


# --- built from a service's settings -------------------------------------------------------------


def test_a_service_checks_tokens_with_the_keys_and_revocations_of_its_settings(tmp_path: Path) -> None:
    key_file, revoked_file = tmp_path / "keys", tmp_path / "revoked"
    key_file.write_text(f"{SECRET}\n")
    settings = ServiceSettings(
        database_url="postgresql+asyncpg://u:p@h/db",
        kafka_bootstrap_servers="h:1",
        auth_keys_file=key_file,
        auth_revoked_file=revoked_file,
    )
    check = TokenVerifier.for_service("workforce", settings)
    token = issue_token(SECRET, subject="sam", role=Role.SUPERVISOR, audience=["workforce"])
    assert check.verify(token).subject == "sam"
    refused(issue_token(SECRET, subject="sam", role=Role.SUPERVISOR, audience=["reporting"]), check)

    revoked_file.write_text(claims_of_any(token)["jti"] + "\n")
    assert refused(token, check).detail == "the bearer token was revoked"


def test_a_service_on_one_secret_checks_tokens_signed_with_it() -> None:
    settings = ServiceSettings(
        database_url="postgresql+asyncpg://u:p@h/db", kafka_bootstrap_servers="h:1", auth_secret=SECRET
    )
    check = TokenVerifier.for_service("reporting", settings)
    assert check.verify(issue_token(SECRET, subject="m", role=Role.MANAGER)).role is Role.MANAGER
    refused(issue_token(OTHER_SECRET, subject="m", role=Role.MANAGER), check)


def claims_of_any(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
