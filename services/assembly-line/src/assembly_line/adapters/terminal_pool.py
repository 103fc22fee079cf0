"""The station-event hot path's own connections: a plain asyncpg pool beside the service's SQLAlchemy engine.

A terminal's event is a couple of statements on one connection, so the pool is kept as thin as asyncpg allows:
a fixed number of connections that are never churned (the engine's overflow connections are opened and closed
under load, and each new one prepares every statement again), no reset query when a connection is handed back
(asyncpg's default sends one, a round trip per event; a transaction left open is still rolled back), and no
SQLAlchemy checkout (greenlets) around it. json and jsonb travel as text, decoded with the standard library,
as the engine's asyncpg dialect does, so the hot path's SQL is the same on either.
"""

from __future__ import annotations

import json

import asyncpg

from mes_shared.db import asyncpg_dsn


async def open_terminal_pool(database_url: str, *, size: int, application_name: str) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        asyncpg_dsn(database_url),
        min_size=0,
        max_size=size,
        init=_init,
        reset=_keep,
        timeout=10,
        command_timeout=30,
        server_settings={"application_name": application_name},
    )
    return pool


async def _init(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, schema="pg_catalog", encoder=str, decoder=json.loads, format="text")


async def _keep(conn: asyncpg.Connection) -> None:
    """Nothing to reset: every event is its own transaction or statement, and none changes the session."""
