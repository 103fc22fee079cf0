"""Signed bearer tokens with roles; terminal tokens are scoped to their stations.

A token names the services it is for (`aud`), carries an id (`jti`) that can be revoked and the id of the
key that signed it (`kid` header); its lifetime is bounded by its role. Each service checks tokens with a
`TokenVerifier` built from its settings. `python -m mes_shared.token_command` (`./mes token`) issues and
revokes tokens.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

import jwt
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from mes_shared.keys import KeySet, fixed, watched_keys, watched_revocations
from mes_shared.problems import Problem

if TYPE_CHECKING:
    from mes_shared.settings import ServiceSettings

ISSUER = "mes"
ALGORITHM = "HS256"
# The services a token may name in `aud`; a token names those it is for, each service accepts only those.
SERVICES = ("kit-receiving", "assembly-line", "workforce", "reporting")
# How far ahead of a service's clock an issuer's clock may be.
CLOCK_SKEW_S = 60


class Role(StrEnum):
    TERMINAL = "terminal"
    LOGISTICS = "logistics"
    SUPERVISOR = "supervisor"
    PLANNER = "planner"
    MANAGER = "manager"
    ADMIN = "admin"


# The longest a token of each role may live (exp - iat). Terminals and dock scanners are devices on the floor
# whose tokens are renewed monthly; people's tokens last a working day; a wall-screen dashboard's read-only
# token a week; an admin token an hour, because it may do anything.
MAX_LIFETIME: dict[Role, timedelta] = {
    Role.TERMINAL: timedelta(days=30),
    Role.LOGISTICS: timedelta(days=30),
    Role.SUPERVISOR: timedelta(hours=24),
    Role.PLANNER: timedelta(hours=24),
    Role.MANAGER: timedelta(days=7),
    Role.ADMIN: timedelta(hours=1),
}
DEFAULT_TTL = timedelta(hours=12)


def default_ttl(role: Role) -> timedelta:
    return min(DEFAULT_TTL, MAX_LIFETIME[role])


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


Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Claims(BaseModel):
    """A token's claims, checked strictly from its JSON: the right types (no string for a number, no string
    for a list), no unknown role, no claim we do not know."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    iss: Literal["mes"]
    sub: Name
    role: Role
    aud: list[Name] = Field(min_length=1, max_length=len(SERVICES))
    iat: int = Field(ge=0, le=2**40)
    exp: int = Field(ge=0, le=2**40)
    jti: Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    stations: list[Name] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _terminal_names_its_stations(self) -> Claims:
        if self.role is Role.TERMINAL and not self.stations:
            raise ValueError("a terminal token names its stations")
        return self

    @property
    def principal(self) -> Principal:
        return Principal(subject=self.sub, role=self.role, stations=frozenset(self.stations))


def issue_token(
    keys: str | KeySet,
    *,
    subject: str,
    role: Role,
    stations: list[str] | None = None,
    ttl: timedelta | None = None,
    audience: Iterable[str] = SERVICES,
) -> str:
    """A token signed with the key set's signing key (or the one secret given). It is for the services named
    in `audience` (all of them unless told), lives `ttl` (the role's default unless told, never more than the
    role's maximum) and has a fresh `jti`."""
    key_set = keys if isinstance(keys, KeySet) else KeySet.of([keys])
    if role is Role.TERMINAL and not stations:
        raise ValueError("a terminal token needs at least one station")
    ttl = default_ttl(role) if ttl is None else ttl
    if ttl > MAX_LIFETIME[role]:
        raise ValueError(f"a token of role {role.value} may live at most {MAX_LIFETIME[role]}, not {ttl}")
    aud = sorted(set(audience))
    if unknown := set(aud) - set(SERVICES):
        raise ValueError(f"unknown service(s) {', '.join(sorted(unknown))}; known: {', '.join(SERVICES)}")
    if not aud:
        raise ValueError("a token must name at least one service it is for")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "role": role.value,
        "aud": aud,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    if stations:
        claims["stations"] = sorted(set(stations))
    return jwt.encode(claims, key_set.signing_secret, algorithm=ALGORITHM, headers={"kid": key_set.signing_kid})


def unverified_token_id(token: str) -> str:
    """The `jti` of a token, read without checking its signature (to revoke a token one holds)."""
    try:
        token_id = jwt.decode(token, options={"verify_signature": False}).get("jti")
    except jwt.PyJWTError as exc:
        raise ValueError(f"not a token: {exc}") from exc
    if not isinstance(token_id, str):
        raise ValueError("the token has no jti")
    return token_id


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires: float
    kid: str
    token_id: str


_NOTHING_REVOKED = fixed(frozenset[str]())


class TokenVerifier:
    """Checks tokens for one service: signed by a key of the current key set, naming this service, claims of
    the right shape, within their role's lifetime, not revoked.

    Terminals send the same token with every event: a verified token is kept (up to `cache_size` of them,
    until its expiry) so its signature and JSON are checked once, not per request. A kept token is still
    checked on each use against the current key set and revocation list (two set lookups), so a retired key
    or a revoked token is refused at once."""

    def __init__(
        self,
        audience: str,
        keys: Callable[[], KeySet],
        revoked: Callable[[], frozenset[str]] = _NOTHING_REVOKED,
        *,
        cache_size: int = 4096,
    ) -> None:
        self.audience = audience
        self._keys = keys
        self._revoked = revoked
        self._cache: OrderedDict[str, _Verified] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def for_service(cls, service: str, settings: ServiceSettings) -> TokenVerifier:
        if settings.auth_keys_file is not None:
            keys = watched_keys(settings.auth_keys_file)
        else:
            assert settings.auth_secret is not None  # the settings require one or the other
            keys = fixed(KeySet.of([settings.auth_secret.get_secret_value()]))
        return cls(service, keys, watched_revocations(settings.auth_revoked_file))

    @property
    def keys(self) -> KeySet:
        """The keys accepted now (tests sign their tokens with them)."""
        return self._keys()

    def verify(self, token: str) -> Principal:
        key_set, revoked = self._keys(), self._revoked()
        verified = self._cache.get(token)
        if verified is None or verified.expires <= time.time():
            self._cache.pop(token, None)
            verified = self._verify(token, key_set)
            self._cache[token] = verified
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(token)
        if verified.kid not in key_set.by_kid:
            raise _unauthorized("the bearer token was signed with a key that is no longer accepted")
        if verified.token_id in revoked:
            raise _unauthorized("the bearer token was revoked")
        return verified.principal

    def _verify(self, token: str, key_set: KeySet) -> _Verified:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str) or kid not in key_set.by_kid:
                raise _unauthorized("the bearer token was not signed with a key this service accepts")
            payload = jwt.api_jws.decode_complete(token, key_set.by_kid[kid], algorithms=[ALGORITHM])["payload"]
            claims = Claims.model_validate_json(payload)
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"the bearer token is not valid: {exc}") from exc
        except ValidationError as exc:
            wrong = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'claims'}: {e['msg']}" for e in exc.errors())
            raise _unauthorized(f"the bearer token's claims are not valid: {wrong}") from exc
        now = time.time()
        if claims.exp <= now:
            raise _unauthorized("the bearer token is not valid: Signature has expired")
        if claims.iat > now + CLOCK_SKEW_S:
            raise _unauthorized("the bearer token is not valid: it was issued in the future")
        if self.audience not in claims.aud:
            raise _unauthorized(f"the bearer token is not for {self.audience} (it is for {', '.join(claims.aud)})")
        if timedelta(seconds=claims.exp - claims.iat) > MAX_LIFETIME[claims.role]:
            most = MAX_LIFETIME[claims.role]
            raise _unauthorized(f"the bearer token lives longer than a token of role {claims.role.value} may ({most})")
        return _Verified(claims.principal, float(claims.exp), kid, claims.jti)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, type_="/problems/unauthorized", headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False)


def verify_token(request: Request, token: str) -> Principal:
    """A token that reached this service some other way than the Authorization header (reporting's `?token=`),
    checked exactly as a bearer token is."""
    verifier: TokenVerifier = request.app.state.tokens
    return verifier.verify(token)


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
    principal = verify_token(request, credentials.credentials)
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
