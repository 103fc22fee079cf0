"""Bulk writes of a batch's rows: one set-based statement per table, inside the SQLAlchemy transaction.

A rebuild folds well over ten thousand events a second, so rows never go one statement each: every upsert
is compiled once per schema (the projection tables qualified with the real schema name) and its VALUES
clause becomes `SELECT * FROM unnest($1::type[], $2::type[], ...)`. The batch's rows travel as one array
per column in a single statement on the transaction's own asyncpg connection, and PostgreSQL applies the
ON CONFLICT merge rules to them all at once (the caller has merged rows with the same key beforehand).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from reporting.projections.merge import Merger
from reporting.projections.tables import PLACEHOLDER, inbox

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_PARAMETER = re.compile(r"\$(\d+)::([A-Z][A-Z ]*[A-Z])")


@dataclass(frozen=True)
class Compiled:
    sql: str
    columns: tuple[str, ...]
    json_columns: frozenset[str]

    def args(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        """One array per column, in the statement's parameter order."""
        arrays: list[list[Any]] = []
        for column in self.columns:
            if column in self.json_columns:
                arrays.append(
                    [None if r[column] is None else json.dumps(r[column], separators=(",", ":")) for r in rows]
                )
            else:
                arrays.append([r[column] for r in rows])
        return arrays


def _in_schema(table: sa.Table, schema: str) -> sa.Table:
    return table.to_metadata(sa.MetaData(schema=schema), schema=schema)


def _compile(stmt: sa.Insert, table: sa.Table) -> Compiled:
    compiled = stmt.compile(dialect=_DIALECT)
    order = tuple(compiled.positiontup or [])
    head, rest = str(compiled).split(" VALUES (", 1)
    values, tail = rest.split(")", 1)
    parameters = _PARAMETER.findall(values)
    if [int(n) for n, _ in parameters] != list(range(1, len(order) + 1)):
        raise RuntimeError(f"unexpected VALUES clause for {table.name}: {values}")
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in parameters)
    json_columns = frozenset(c.name for c in table.columns if isinstance(c.type, JSONB))
    return Compiled(f"{head} SELECT * FROM unnest({arrays}){tail}", order, json_columns)


_cache: dict[tuple[str, str], Compiled] = {}


def upsert_for(merger: Merger, schema: str) -> Compiled:
    key = (schema, merger.table.name)
    found = _cache.get(key)
    if found is None:
        table = _in_schema(merger.table, schema)
        found = _cache[key] = _compile(Merger.of(table).statement(), table)
    return found


def inbox_insert_for(schema: str) -> Compiled:
    key = (schema, "inbox")
    found = _cache.get(key)
    if found is None:
        table = _in_schema(inbox, schema)
        columns = ("consumer", "event_id", "topic", "partition", "offset")  # processed_at: the server's now()
        stmt = insert(table).values({c: sa.bindparam(c) for c in columns}).on_conflict_do_nothing()
        found = _cache[key] = _compile(stmt, table)
    return found


async def _driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under `conn`, inside its transaction."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:
        raise RuntimeError("the database connection is closed")
    return driver


async def execute_many(conn: AsyncConnection, compiled: Compiled, rows: Sequence[dict[str, Any]]) -> None:
    """Write `rows` with one statement on the connection (and transaction) of `conn`."""
    if rows:
        await (await _driver(conn)).execute(compiled.sql, *compiled.args(rows))


async def already_folded(conn: AsyncConnection, schema: str, consumer: str, event_ids: list[Any]) -> set[Any]:
    """The event ids among `event_ids` that the schema's inbox already holds."""
    rows = await (await _driver(conn)).fetch(
        f'SELECT event_id FROM "{schema}".inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])', consumer, event_ids
    )
    return {r[0] for r in rows}


def schema_of(conn: AsyncConnection) -> str:
    """The projection schema `conn` is pointed at (see `store.use_schema`)."""
    sync = conn.sync_connection
    options = sync.get_execution_options() if sync is not None else {}
    schema = (options.get("schema_translate_map") or {}).get(PLACEHOLDER)
    if not schema:
        raise RuntimeError("the connection is not pointed at a projection schema")
    return str(schema)
