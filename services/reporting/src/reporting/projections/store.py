"""Projection schemas: create, point at, swap, drop; and the log positions each schema has reached.

The live projections are in the schema named by the single `projection_pointer` row. Writers that fold
into the live schema read the pointer `FOR SHARE` in their batch transaction; a swap updates it under
`FOR UPDATE`, so it waits for the batch in flight and every later batch sees the new schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiokafka import TopicPartition
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from reporting.adapters.tables import projection_pointer, rebuilds
from reporting.projections.tables import LAYOUT, PLACEHOLDER, metadata, positions

SCHEMA_PREFIX = "reporting_p"
_SCHEMA_NAME = re.compile(r"^reporting_p[0-9]+$")
# Transaction-scoped advisory lock around creating the first schema; session-scoped one for rebuilds.
BOOTSTRAP_LOCK = 0x7265705F626F6F74  # "rep_boot"
REBUILD_LOCK = 0x7265705F72656275  # "rep_rebu"


@dataclass(frozen=True)
class Pointer:
    generation: int
    schema: str
    layout: str
    swapped_at: datetime


def schema_for(generation: int) -> str:
    return f"{SCHEMA_PREFIX}{generation}"


def translate(schema: str) -> dict[str, Any]:
    """Execution options that point the projection tables at `schema`."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"not a projection schema name: {schema!r}")
    return {"schema_translate_map": {PLACEHOLDER: schema}}


async def use_schema(conn: AsyncConnection, schema: str) -> AsyncConnection:
    return await conn.execution_options(**translate(schema))


async def create_schema(conn: AsyncConnection, schema: str) -> None:
    """A fresh schema with every projection table (empty) and its indexes."""
    options = translate(schema)
    await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    await conn.run_sync(lambda sync: metadata.create_all(sync.execution_options(**options), checkfirst=False))


async def drop_schema(conn: AsyncConnection, schema: str) -> None:
    translate(schema)  # refuses anything but a projection schema
    await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


async def projection_schemas(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'reporting\\_p%'"))
    return sorted((r[0] for r in rows if _SCHEMA_NAME.fullmatch(r[0])), key=lambda n: int(n[len(SCHEMA_PREFIX) :]))


def _pointer(row: Any) -> Pointer:
    return Pointer(row.generation, row.schema_name, row.layout, row.swapped_at)


async def read_pointer(conn: AsyncConnection, *, lock: str | None = None) -> Pointer | None:
    """The active schema; `lock="share"` keeps a swap out until the transaction ends, `"update"` is the swap's."""
    query = sa.select(projection_pointer).where(projection_pointer.c.id == 1)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    return _pointer(row) if row is not None else None


async def ensure_active(engine: AsyncEngine) -> Pointer:
    """The active projection schema, creating the first one (empty, generation 1) if there is none."""
    async with engine.begin() as conn:
        pointer = await read_pointer(conn)
        if pointer is not None:
            return pointer
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(BOOTSTRAP_LOCK)))
        pointer = await read_pointer(conn)
        if pointer is not None:
            return pointer
        schema = schema_for(1)
        await drop_schema(conn, schema)  # a leftover of an interrupted first start
        await create_schema(conn, schema)
        now = datetime.now(UTC)
        await conn.execute(
            sa.insert(projection_pointer).values(id=1, generation=1, schema_name=schema, layout=LAYOUT, swapped_at=now)
        )
        return Pointer(1, schema, LAYOUT, now)


async def swap(conn: AsyncConnection, *, generation: int, schema: str) -> None:
    """Point the live projections at `schema` (the caller holds the pointer row FOR UPDATE)."""
    await conn.execute(
        sa.update(projection_pointer)
        .where(projection_pointer.c.id == 1)
        .values(generation=generation, schema_name=schema, layout=LAYOUT, swapped_at=datetime.now(UTC))
    )


async def next_generation(conn: AsyncConnection) -> int:
    pointer = await read_pointer(conn)
    used = await conn.scalar(sa.select(sa.func.max(rebuilds.c.id)))
    return max(pointer.generation if pointer else 0, used or 0) + 1


async def read_positions(conn: AsyncConnection, schema: str) -> dict[TopicPartition, int]:
    """Next offset to fold per partition in `schema` (absent: nothing folded yet)."""
    scoped = await use_schema(conn, schema)
    rows = await scoped.execute(sa.select(positions))
    return {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}


async def lock_positions(conn: AsyncConnection, topics: list[str]) -> dict[TopicPartition, int]:
    """Positions of the batch's topics, locked until the transaction ends (one writer per partition)."""
    rows = await conn.execute(sa.select(positions).where(positions.c.topic.in_(topics)).with_for_update())
    return {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}


async def save_positions(conn: AsyncConnection, reached: dict[TopicPartition, int]) -> None:
    if not reached:
        return
    stmt = insert(positions)
    stmt = stmt.on_conflict_do_update(
        index_elements=[positions.c.topic, positions.c.partition],
        set_={"next_offset": sa.func.greatest(positions.c.next_offset, stmt.excluded.next_offset)},
    )
    await conn.execute(
        stmt, [{"topic": tp.topic, "partition": tp.partition, "next_offset": n} for tp, n in sorted(reached.items())]
    )
