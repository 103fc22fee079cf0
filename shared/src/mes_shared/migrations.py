"""The Alembic environment every service uses, so each service's env.py is three lines.

The database URL comes from `config.attributes["database_url"]` (tests), `-x database_url=...`, or the
service's `<PREFIX>DATABASE_URL` environment variable, in that order.
"""

from __future__ import annotations

import asyncio
import os

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def _database_url(env_var: str) -> str:
    config = context.config
    url = config.attributes.get("database_url") or context.get_x_argument(as_dictionary=True).get("database_url")
    url = url or os.environ.get(env_var)
    if not url:
        raise SystemExit(f"{env_var} is not set: source .run/env (./mes up writes it) or pass -x database_url=...")
    return url


def run_migrations(target_metadata: sa.MetaData, *, database_url_env: str) -> None:
    url = _database_url(database_url_env)

    def apply(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(apply)
                await connection.commit()
        finally:
            await engine.dispose()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        apply(connection)
    else:
        asyncio.run(run())
