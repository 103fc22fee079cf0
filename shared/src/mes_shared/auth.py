"""Signed bearer tokens with roles; terminal tokens are scoped to their stations.

`python -m mes_shared.auth issue --role R [--station S]` prints a token (`./mes token` wraps it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mes_shared.problems import Problem

ISSUER = "mes"
ALGORITHM = "HS256"


class Role(StrEnum):
    TERMINAL = "terminal"
    LOGISTICS = "logistics"
    SUPERVISOR = "supervisor"
    PLANNER = "planner"
    MANAGER = "manager"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    stations: frozenset[str] = frozenset()

    def ensure_station(self, station: str) -> None:
        """A terminal may only act for its own stations; other roles are not station-bound."""
        if self.role is Role.TERMINAL and station not in self.stations:
            raise Problem(
                403,
                "Forbidden",
                f"terminal {self.subject} is not scoped to station {station}",
                type_="/problems/station-not-allowed",
                station=station,
            )


def issue_token(
    secret: str, *, subject: str, role: Role, stations: list[str] | None = None, ttl: timedelta = timedelta(hours=12)
) -> str:
    if role is Role.TERMINAL and not stations:
        raise ValueError("a terminal token needs at least one station")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"iss": ISSUER, "sub": subject, "role": role.value, "iat": now, "exp": now + ttl}
    if stations:
        claims["stations"] = sorted(set(stations))
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# Terminals send the same token with every event: verifying its signature once per token, not per request,
# takes HMAC and JSON work off the hot path. Entries are dropped at the token's own expiry.
_VERIFIED: OrderedDict[tuple[str, str], tuple[Principal, float]] = OrderedDict()
_VERIFIED_MAX = 4096


def verify_token(secret: str, token: str) -> Principal:
    key = (secret, token)
    cached = _VERIFIED.get(key)
    if cached is not None and cached[1] > time.time():
        _VERIFIED.move_to_end(key)
        return cached[0]
    principal, expires = _verify(secret, token)
    _VERIFIED[key] = (principal, expires)
    if len(_VERIFIED) > _VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return principal


def _verify(secret: str, token: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "iat", "sub", "iss"]}
        )
        role = Role(claims["role"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise _unauthorized(f"the bearer token is not valid: {exc}") from exc
    principal = Principal(subject=str(claims["sub"]), role=role, stations=frozenset(claims.get("stations", [])))
    return principal, float(claims["exp"])


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, type_="/problems/unauthorized", headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False)


async def authenticate(request: Request) -> Principal:
    """The request's verified principal (401 problem otherwise). The one place a request's token is checked:
    route dependencies and the gate that runs before a body is read both call it; the answer is kept on the
    request so a token is verified once per request."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
    if credentials is None:
        raise _unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    principal = verify_token(request.app.state.auth_secret, credentials.credentials)
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: a valid token whose role is one of `roles` (admin is always allowed)."""
    allowed = {*roles, Role.ADMIN}

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if principal.role not in allowed:
            raise Problem(
                403,
                "Forbidden",
                f"role {principal.role.value} may not do this; allowed: " + ", ".join(sorted(r.value for r in allowed)),
                type_="/problems/role-not-allowed",
            )
        return principal

    dependency.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]  # documented by mes_shared.openapi
    return dependency


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mes_shared.auth")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="print a signed bearer token")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--station", action="append", default=[], help="repeat for each station (terminal)")
    issue.add_argument("--sub", default=None, help="who the token is for (default: role name)")
    issue.add_argument("--ttl-hours", type=float, default=12.0)
    args = parser.parse_args(argv)
    secret = os.environ.get("MES_AUTH_SECRET")
    if not secret:
        print("MES_AUTH_SECRET is not set: run `./mes up` once, or export it", file=sys.stderr)
        return 2
    role = Role(args.role)
    try:
        token = issue_token(
            secret,
            subject=args.sub or role.value,
            role=role,
            stations=args.station,
            ttl=timedelta(hours=args.ttl_hours),
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
