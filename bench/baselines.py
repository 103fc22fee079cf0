"""Baseline servers for the ingest benchmark, run by the same web server (uvicorn with the same flags)
as the services: an empty endpoint, and one INSERT plus COMMIT per request on the same PostgreSQL.

    uvicorn --factory bench.baselines:empty_app
    BENCH_DATABASE_URL=postgresql://... uvicorn --factory bench.baselines:insert_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request


def empty_app() -> FastAPI:
    app = FastAPI()

    @app.post("/empty")
    async def empty() -> dict[str, bool]:
        return {"ok": True}

    return app


def insert_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=4, max_size=20)
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, body jsonb)")
        app.state.pool = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/insert")
    async def insert(request: Request) -> dict[str, bool]:
        body = await request.body()
        async with request.app.state.pool.acquire() as conn:
            # One INSERT and its COMMIT (autocommit): the floor any durable write pays.
            await conn.execute("INSERT INTO bench_insert (body) VALUES ($1::jsonb)", body.decode())
        return {"ok": True}

    return app
