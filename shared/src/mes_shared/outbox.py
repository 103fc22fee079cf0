"""Transactional outbox: events are rows written in the same transaction as the state they describe."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared.envelope import Envelope
from mes_shared.platform_tables import outbox

NOTIFY_CHANNEL = "mes_outbox"


async def append(session: AsyncSession, envelopes: Iterable[Envelope]) -> int:
    rows = [
        {
            "event_id": e.id,
            "topic": e.topic,
            "key": e.subject,
            "event_type": e.type,
            "payload": e.to_bytes(),
        }
        for e in envelopes
    ]
    if not rows:
        return 0
    await session.execute(sa.insert(outbox), rows)
    # Delivered only if the transaction commits, so the relay wakes exactly when there is work.
    await session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))
    return len(rows)


async def pending_count(session: AsyncSession) -> int:
    return (
        await session.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) or 0
    )
