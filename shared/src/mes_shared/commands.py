"""One way to run a write: idempotency key, unit of work, outbox, commit.

A command claims its (caller, Idempotency-Key) row, runs the handler, appends the handler's events to
the outbox and stores the response, all in one transaction. A resend with the same key and body gets
the stored response; the same key with another body is refused. A handler that raises rolls back
everything, so a refused request never half-writes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared import outbox
from mes_shared.auth import Principal
from mes_shared.correlation import correlation_id_var
from mes_shared.db import SessionFactory
from mes_shared.envelope import Envelope, EventData
from mes_shared.platform_tables import idempotency_keys
from mes_shared.problems import Problem

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass
class UnitOfWork:
    session: AsyncSession
    source: str
    principal: Principal
    correlation_id: str | None
    events: list[Envelope] = field(default_factory=list)

    def emit(self, data: EventData, *, subject: str, time: datetime | None = None) -> None:
        self.events.append(
            Envelope.wrap(data, source=self.source, subject=subject, time=time, correlation_id=self.correlation_id)
        )


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any


CommandHandler = Callable[[UnitOfWork], Awaitable[Outcome]]


def fingerprint(method: str, path: str, body: BaseModel | None, query: str = "") -> str:
    raw = f"{method} {path}?{query}\n{body.model_dump_json() if body is not None else ''}"
    return hashlib.sha256(raw.encode()).hexdigest()


async def execute(
    sessions: SessionFactory,
    *,
    source: str,
    principal: Principal,
    idempotency_key: str,
    request_hash: str,
    handler: CommandHandler,
) -> tuple[Outcome, bool]:
    """Run `handler` once per (caller, key). Returns the outcome and whether it was a replay."""
    async with sessions() as session, session.begin():
        claimed = await session.scalar(
            insert(idempotency_keys)
            .values(
                caller=principal.subject, key=idempotency_key, request_hash=request_hash, status_code=0, response={}
            )
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        )
        if claimed is None:
            stored = (
                await session.execute(
                    sa.select(idempotency_keys).where(
                        idempotency_keys.c.caller == principal.subject, idempotency_keys.c.key == idempotency_key
                    )
                )
            ).one()
            if stored.request_hash != request_hash:
                raise Problem(
                    422,
                    "Idempotency key reused",
                    f"Idempotency-Key {idempotency_key!r} was already used by {principal.subject} for a different "
                    "request; use a new key for a new request",
                    type_="/problems/idempotency-key-reused",
                )
            return Outcome(stored.status_code, stored.response), True
        uow = UnitOfWork(session, source, principal, correlation_id_var.get())
        outcome = await handler(uow)
        body = jsonable_encoder(outcome.body)
        await outbox.append(session, uow.events)
        await session.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.caller == principal.subject, idempotency_keys.c.key == idempotency_key)
            .values(status_code=outcome.status_code, response=body)
        )
        return Outcome(outcome.status_code, body), False


@dataclass(frozen=True)
class CommandContext:
    """What a write route needs, built by a dependency: the caller, the request, the session factory."""

    request: Request
    principal: Principal
    sessions: SessionFactory
    source: str

    async def run(self, handler: CommandHandler, body: BaseModel | None = None) -> JSONResponse:
        key = self.request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key or len(key) > 200:
            raise Problem(
                400,
                "Idempotency key required",
                f"every write carries the caller's own id in the {IDEMPOTENCY_HEADER} header (1-200 characters), "
                "so that a resend is harmless",
                type_="/problems/idempotency-key-required",
            )
        outcome, replayed = await execute(
            self.sessions,
            source=self.source,
            principal=self.principal,
            idempotency_key=key,
            request_hash=fingerprint(self.request.method, self.request.url.path, body, self.request.url.query),
            handler=handler,
        )
        log.info(
            "%s %s by %s -> %d%s",
            self.request.method,
            self.request.url.path,
            self.principal.subject,
            outcome.status_code,
            " (replayed)" if replayed else "",
        )
        return JSONResponse(
            outcome.body, status_code=outcome.status_code, headers={REPLAYED_HEADER: "true"} if replayed else None
        )


def idempotency_header_doc() -> dict[str, Any]:
    """OpenAPI parameter documenting the header on write routes."""
    return {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "required": True,
        "description": "The caller's own id for this write; a resend with the same id is answered from the "
        "first response and changes nothing.",
        "schema": {"type": "string", "maxLength": 200},
    }
