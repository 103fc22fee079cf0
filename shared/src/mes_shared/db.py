"""Engine and session factory. One place decides pool size, timeouts and session behaviour."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]

# A request waiting for a database that does not answer gets its 503 within seconds, not minutes: a new
# connection gets CONNECT_TIMEOUT_S, a wait for a free pooled one POOL_TIMEOUT_S, a statement COMMAND_TIMEOUT_S
# (that one is longer: a report over a year of facts, a rebuild's batch, may take a while on a healthy database).
CONNECT_TIMEOUT_S = 3.0
POOL_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 30.0


def make_engine(url: str, *, pool_size: int = 10, application_name: str = "mes") -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every request. After a database restart the first statement on
        # a dead connection fails, SQLAlchemy then discards the whole pool, and the caller (a terminal) resends.
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={
            "timeout": CONNECT_TIMEOUT_S,
            "command_timeout": COMMAND_TIMEOUT_S,
            "server_settings": {"application_name": application_name},
        },
    )


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN asyncpg wants for a raw connection (LISTEN needs one)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
