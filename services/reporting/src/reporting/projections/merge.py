"""How a projection row absorbs a new fact: one merge rule per column, applied alike in memory and in SQL.

Every projection table row is the merge of the rows its events produced. Each column declares its rule
in `Column.info["merge"]`:

- `first`: the first non-null value (facts that never change, or that all events state alike).
- `min` / `max`: the earliest / latest instant (order of arrival does not matter).
- `latest`: the value from the newest event of the column's group, by (event time, log position). A group
  has two version columns `<group>_at` and `<group>_seq`; a row that does not speak for a group leaves
  its version null and never wins.

These rules are associative and do not depend on how events are split into batches, so a projection
rebuilt from the log with other batch sizes ends with exactly the same rows. Within a batch, rows with
the same key are merged in memory with the same rules first, because one INSERT ... ON CONFLICT cannot
touch a row twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert, insert


class Rule(StrEnum):
    FIRST = "first"
    MIN = "min"
    MAX = "max"
    LATEST = "latest"
    VERSION = "version"  # the `<group>_at` / `<group>_seq` columns of a latest group


def first(merge: str = Rule.FIRST) -> dict[str, Any]:
    return {"merge": merge}


def latest(group: str) -> dict[str, Any]:
    return {"merge": Rule.LATEST, "group": group}


def version_columns(group: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(f"{group}_at", sa.DateTime(timezone=True), info={"merge": Rule.VERSION, "group": group}),
        sa.Column(f"{group}_seq", sa.BigInteger, info={"merge": Rule.VERSION, "group": group}),
    ]


def _smaller(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _larger(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass(frozen=True)
class Merger:
    table: sa.Table
    key: tuple[str, ...]
    rules: Mapping[str, Rule]  # every non-key column
    groups: Mapping[str, tuple[str, ...]]  # group -> its value and version columns
    insert_only: bool
    columns: tuple[str, ...]  # the key's, then the others'
    column_set: frozenset[str]

    @classmethod
    def of(cls, table: sa.Table) -> Merger:
        key = tuple(c.name for c in table.primary_key.columns)
        rules: dict[str, Rule] = {}
        groups: dict[str, list[str]] = {}
        for column in table.columns:
            if column.name in key:
                continue
            rule = Rule(column.info.get("merge", Rule.FIRST))
            rules[column.name] = rule
            if rule in (Rule.LATEST, Rule.VERSION):
                groups.setdefault(column.info["group"], []).append(column.name)
        for group, columns in groups.items():
            missing = {f"{group}_at", f"{group}_seq"} - set(columns)
            if missing:
                raise TypeError(f"{table.name}: latest group {group!r} lacks {sorted(missing)}")
        insert_only = all(rule is Rule.FIRST for rule in rules.values())
        columns = (*key, *rules)
        return cls(
            table, key, rules, {g: tuple(c) for g, c in groups.items()}, insert_only, columns, frozenset(columns)
        )

    def complete(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A full row: columns the event does not speak for are null (no information)."""
        # Called for every folded row: the checks and the fill are set and dict operations, no Python loop.
        if not values.keys() <= self.column_set:
            raise KeyError(f"{self.table.name} has no column(s) {sorted(values.keys() - self.column_set)}")
        row = dict.fromkeys(self.columns)
        row.update(values)
        if None in self.key_of(row):
            raise ValueError(f"{self.table.name} row lacks its key {[k for k in self.key if row[k] is None]}")
        return row

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.key)

    def merge(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """`old` (earlier in the log) absorbing `new`, by the same rules as the SQL upsert."""
        out = dict(old)
        for column, rule in self.rules.items():
            if rule is Rule.FIRST:
                out[column] = old[column] if old[column] is not None else new[column]
            elif rule is Rule.MIN:
                out[column] = _smaller(old[column], new[column])
            elif rule is Rule.MAX:
                out[column] = _larger(old[column], new[column])
        for group, columns in self.groups.items():
            at, seq = f"{group}_at", f"{group}_seq"
            if new[at] is not None and (old[at] is None or (new[at], new[seq]) > (old[at], old[seq])):
                for column in columns:
                    out[column] = new[column]
        return out

    def statement(self) -> Insert:
        stmt = insert(self.table)
        if self.insert_only:
            return stmt.on_conflict_do_nothing(index_elements=list(self.key))
        t, ex = self.table.c, stmt.excluded
        assignments: dict[str, Any] = {}
        for column, rule in self.rules.items():
            if rule is Rule.FIRST:
                assignments[column] = sa.func.coalesce(t[column], ex[column])
            elif rule is Rule.MIN:
                assignments[column] = sa.func.least(t[column], ex[column])
            elif rule is Rule.MAX:
                assignments[column] = sa.func.greatest(t[column], ex[column])
        for group, columns in self.groups.items():
            at, seq = f"{group}_at", f"{group}_seq"
            newer = sa.and_(
                ex[at].is_not(None),
                sa.or_(t[at].is_(None), sa.tuple_(ex[at], ex[seq]) > sa.tuple_(t[at], t[seq])),
            )
            for column in columns:
                assignments[column] = sa.case((newer, ex[column]), else_=t[column])
        return stmt.on_conflict_do_update(index_elements=list(self.key), set_=assignments)


class RowBuffer:
    """Rows of one batch, merged per table and key in log order, ready for one upsert per table."""

    def __init__(self, mergers: Mapping[str, Merger]) -> None:
        self._mergers = mergers
        self._rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def add(self, table: str, values: Mapping[str, Any]) -> None:
        merger = self._mergers[table]
        row = merger.complete(values)
        rows = self._rows.setdefault(table, {})
        key = merger.key_of(row)
        old = rows.get(key)
        rows[key] = row if old is None else merger.merge(old, row)

    def extend(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        for table, values in rows:
            self.add(table, values)

    def tables(self) -> list[tuple[Merger, list[dict[str, Any]]]]:
        return [(self._mergers[name], list(rows.values())) for name, rows in sorted(self._rows.items())]

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())
