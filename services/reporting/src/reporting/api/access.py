"""Who may do what in reporting: managers and planners read, planners set targets, admins rebuild.

The dashboard runs on a wall screen with a read token. A browser's EventSource cannot send headers, so
the live stream and the dashboard's data also accept `?token=`; only a read-only (manager) token is
accepted there, because a URL ends up in histories and logs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from mes_shared.auth import Principal, Role, require, verify_token
from mes_shared.problems import Problem
from mes_shared.service_app import command

READ_ROLES = (Role.MANAGER, Role.PLANNER)

Reader = Annotated[Principal, Depends(require(*READ_ROLES))]
Planner = command(Role.PLANNER)
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
AdminCommand = command(Role.ADMIN)

_read = require(*READ_ROLES)


async def _reader_or_url_token(
    request: Request,
    token: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="A read-only (manager) token, for clients that cannot send an Authorization header",
        ),
    ] = None,
) -> Principal:
    if request.headers.get("authorization") or token is None:
        return await _read(request)
    principal = verify_token(request, token)
    if principal.role is not Role.MANAGER:
        raise Problem(
            403,
            "Forbidden",
            f"a token in the URL must be a read-only manager token, not {principal.role.value}: "
            "send other tokens in the Authorization header",
            type_="/problems/url-token-not-read-only",
        )
    return principal


_reader_or_url_token.allowed_roles = _read.allowed_roles  # type: ignore[attr-defined]  # for the OpenAPI document
StreamReader = Annotated[Principal, Depends(_reader_or_url_token)]
