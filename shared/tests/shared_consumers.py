"""What the shared consumer tests have in common: publishing records, running a consumer for a while, a
handler that records what it applied (and refuses probes marked poison), and reading that back.

(Imported by its unique module name: `conftest.py` puts this directory on sys.path.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from mes_shared.consumer import ConsumerRunner
from mes_shared.db import SessionFactory
from mes_shared.envelope import Envelope
from mes_shared.kafka import make_producer


async def publish(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = make_producer(bootstrap, client_id="test-publisher")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key.encode())
    finally:
        await producer.stop()


@asynccontextmanager
async def running(runner: ConsumerRunner) -> AsyncIterator[ConsumerRunner]:
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


def recorder(applied: sa.Table, name: str) -> Callable[[AsyncSession, Envelope], Awaitable[None]]:
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        if envelope.data.get("poison"):
            raise ValueError(f"cannot apply probe {envelope.data['seq']}: it is poison")
        await session.execute(
            sa.insert(applied).values(
                consumer=name, event_id=envelope.id, subject=envelope.subject, seq=envelope.data["seq"]
            )
        )

    return handle


async def applied_rows(sessions: SessionFactory, applied: sa.Table, name: str) -> list[sa.Row]:
    async with sessions() as session:
        return list(await session.execute(sa.select(applied).where(applied.c.consumer == name).order_by(applied.c.id)))


async def at_least(sessions: SessionFactory, applied: sa.Table, name: str, n: int) -> list[sa.Row] | None:
    rows = await applied_rows(sessions, applied, name)
    return rows if len(rows) >= n else None
