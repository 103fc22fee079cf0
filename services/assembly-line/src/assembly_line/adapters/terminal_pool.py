"""The station-event hot path's own connections: a plain asyncpg pool beside the service's SQLAlchemy engine.

A terminal's event is a couple of statements on one connection, so the pool is kept as thin as asyncpg allows:
a fixed number of connections that are never churned (the engine's overflow connections are opened and closed
under load, and each new one prepares every statement again), no reset query when a connection is handed back
(asyncpg's default sends one, a round trip per event; a transaction left open is still rolled back), and no
SQLAlchemy checkout (greenlets) around it. json and jsonb travel as text, decoded with the standard library,
as the engine's asyncpg dialect does, so the hot path's SQL is the same on either.

Every wait is bounded, so that a terminal hears 503 + Retry-After within seconds when the database is away: a
new connection (CONNECT_TIMEOUT_S, as the engine's), a free connection of the pool (ACQUIRE_TIMEOUT_S) and a
statement (COMMAND_TIMEOUT_S: an event's statements take milliseconds).
"""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolAcquireContext

from mes_shared.db import CONNECT_TIMEOUT_S, POOL_TIMEOUT_S, asyncpg_dsn

ACQUIRE_TIMEOUT_S = POOL_TIMEOUT_S
COMMAND_TIMEOUT_S = 5.0


class TerminalPool(asyncpg.Pool):
    """asyncpg's pool whose `acquire()` waits at most ACQUIRE_TIMEOUT_S unless told otherwise (its own default
    is forever: a request would hang while every connection waits on a database that does not answer)."""

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=ACQUIRE_TIMEOUT_S if timeout is None else timeout)


async def open_terminal_pool(database_url: str, *, size: int, application_name: str) -> asyncpg.Pool:
    # What asyncpg.create_pool does, with this pool class (create_pool has no parameter for it).
    pool = TerminalPool(
        asyncpg_dsn(database_url),
        min_size=0,
        max_size=size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        init=_init,
        reset=_keep,
        timeout=CONNECT_TIMEOUT_S,
        command_timeout=COMMAND_TIMEOUT_S,
        server_settings={"application_name": application_name},
    )
    await pool
    return pool


async def _init(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, schema="pg_catalog", encoder=str, decoder=json.loads, format="text")


async def _keep(conn: asyncpg.Connection) -> None:
    """Nothing to reset: every event is its own transaction or statement, and none changes the session."""
