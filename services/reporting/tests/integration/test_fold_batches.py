"""The fold is deterministic in the database too: the same log folded in one batch, one event per batch or
any split in between gives the same rows; redeliveries and republished events change nothing."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from reporting_story import build_story, kit_events, people_story
from reporting_support import unique
from sqlalchemy.ext.asyncio import AsyncEngine

from mes_shared.db import asyncpg_dsn, make_engine
from mes_shared.envelope import Envelope
from reporting.projections import store
from reporting.projections.runner import BatchOutcome, fold_batch, subjects_of
from reporting.projections.tables import PROJECTION_TABLES
from reporting.service import kits, people
from reporting.service.context import Reader

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Record:
    """What fold_batch reads of an aiokafka ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes


def as_log(envelopes: list[Envelope], partitions: int = 3) -> list[Record]:
    """The envelopes as a log: keyed by subject into partitions, in order per partition."""
    offsets: dict[tuple[str, int], int] = {}
    out = []
    for e in envelopes:
        partition = sum(e.subject.encode()) % partitions
        offset = offsets.get((e.topic, partition), 0)
        offsets[(e.topic, partition)] = offset + 1
        out.append(Record(e.topic, partition, offset, e.to_bytes(), e.subject.encode()))
    return out


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url, pool_size=2)
    yield eng
    await eng.dispose()


async def fold_in(engine: AsyncEngine, schema: str, batches: list[list[Record]]) -> BatchOutcome:
    total = BatchOutcome()
    for batch in batches:
        async with engine.connect() as conn, conn.begin():
            await store.use_schema(conn, schema)
            total.add(await fold_batch(conn, batch))
    return total


async def dump(database_url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        out = {}
        for table in PROJECTION_TABLES:
            keys = ", ".join(c.name for c in table.primary_key.columns)
            out[table.name] = [
                tuple(r.values()) for r in await conn.fetch(f'SELECT * FROM "{schema}"."{table.name}" ORDER BY {keys}')
            ]
        return out
    finally:
        await conn.close()


async def fresh_schema(engine: AsyncEngine) -> str:
    schema = store.schema_for(900_000 + random.randrange(99_999))
    async with engine.begin() as conn:
        await store.drop_schema(conn, schema)
        await store.create_schema(conn, schema)
    return schema


async def test_any_batching_folds_to_the_same_rows(engine: AsyncEngine, database_url: str) -> None:
    story = build_story(unique("T-B"))
    story.add(*kit_events(story))
    log = as_log(story.events)
    rng = random.Random(11)
    splits = {
        "one batch": [log],
        "one by one": [[r] for r in log],
        "random": [],
    }
    cursor = 0
    while cursor < len(log):
        size = rng.randint(1, 9)
        splits["random"].append(log[cursor : cursor + size])
        cursor += size
    schemas = {}
    try:
        for name, batches in splits.items():
            schemas[name] = await fresh_schema(engine)
            outcome = await fold_in(engine, schemas[name], batches)
            assert outcome.applied == len(log) and not outcome.dead, name
            assert outcome.subjects == {x for e in story.events for x in subjects_of(e)}, name
        dumps = {name: await dump(database_url, schema) for name, schema in schemas.items()}
        assert dumps["one by one"] == dumps["one batch"] == dumps["random"]
        assert sum(len(rows) for rows in dumps["one batch"].values()) >= 50

        # Redelivered offsets and the same events published again at new offsets change nothing.
        again = as_log(story.events)  # the same offsets: below the positions
        republished = [
            Record(r.topic, r.partition, r.offset + 1000, r.value, r.key) for r in log[-12:]
        ]  # same event ids, new offsets (a relay that published twice)
        outcome = await fold_in(engine, schemas["one batch"], [again, republished])
        assert outcome.applied == 0 and outcome.duplicates == len(again) + len(republished)
        assert outcome.subjects == set()  # nothing changed, nothing touched
        assert await dump(database_url, schemas["one batch"]) == dumps["one batch"]
    finally:
        async with engine.begin() as conn:
            for schema in schemas.values():
                await store.drop_schema(conn, schema)


async def test_events_of_different_aggregates_commute(engine: AsyncEngine, database_url: str) -> None:
    """Partitions are read in any interleaving: only each aggregate's own order is kept, and it suffices."""
    story = build_story(unique("T-O"))
    story.add(*kit_events(story))
    by_subject: dict[str, list[Envelope]] = {}
    for e in story.events:
        by_subject.setdefault(e.subject, []).append(e)
    rng = random.Random(5)
    orders = []
    for _ in range(3):
        queues = [list(events) for events in by_subject.values()]
        order: list[Envelope] = []
        while any(queues):
            queue = rng.choice([q for q in queues if q])
            order.append(queue.pop(0))
        orders.append(order)
    schemas = []
    try:
        for order in orders:
            schema = await fresh_schema(engine)
            schemas.append(schema)
            records = [
                Record(e.topic, 0, i, e.to_bytes(), e.subject.encode()) for i, e in enumerate(order)
            ]  # one partition in this order
            await fold_in(engine, schema, [records[i : i + 7] for i in range(0, len(records), 7)])
        dumps = [await dump(database_url, schema) for schema in schemas]
        # Log positions break ties of equal event times, so compare what does not carry them.
        strip = {
            table: {"seq"}
            for table in (
                "station_events",
                "employee_status",
                "hold_changes",
                "kit_status_changes",
                "discrepancy_changes",
                "shipment_eta_changes",
            )
        }

        def without_positions(d: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
            out = {}
            for table in PROJECTION_TABLES:
                keep = [
                    i
                    for i, c in enumerate(table.columns)
                    if not c.name.endswith("_seq") and c.name not in strip.get(table.name, set())
                ]
                out[table.name] = sorted(tuple(row[i] for i in keep) for row in d[table.name])
            return out

        assert without_positions(dumps[0]) == without_positions(dumps[1]) == without_positions(dumps[2])
    finally:
        async with engine.begin() as conn:
            for schema in schemas:
                await store.drop_schema(conn, schema)


@contextlib.asynccontextmanager
async def reading_schema(engine: AsyncEngine, schema: str, at: datetime) -> AsyncIterator[Reader]:
    """A query snapshot of one schema (not the live pointer), for plant-wide figures of this test alone."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            await store.use_schema(conn, schema)
            yield Reader(conn, "UTC", at, generation=0)


async def test_plant_wide_people_and_kits_figures(engine: AsyncEngine) -> None:
    """Headcount, recall and kits count the whole plant, and the shared log holds every earlier run's
    events: so these exact figures are checked on a schema folded from this test's events alone."""
    hired = date(2024, 3, 4)
    people_events = people_story(unique("T-P"), hired)
    story = build_story(unique("T-K"))
    schema = await fresh_schema(engine)
    try:
        await fold_in(engine, schema, [as_log([*people_events.events, *kit_events(story)])])
        at = datetime(2026, 11, 26, 11, tzinfo=UTC)
        async with reading_schema(engine, schema, at) as reader:
            assert (await people.headcount(reader, hired - timedelta(days=1))).total == 0
            before = await people.headcount(reader, people_events.recalled_on - timedelta(days=1))
            after = await people.headcount(reader, people_events.recalled_on)
            recall = await people.recall(reader, people_events.recalled_on, asked=True)
            kits_view = await kits.kits_summary(reader, None)
        cells = {(m["origin"], m["status"]): m["count"] for m in before.matrix if m["count"]}
        assert cells == {
            ("transferred", "active"): 1,
            ("transferred", "idle"): 2,
            ("transferred", "on_leave"): 1,
            ("new_hire", "active"): 1,
            ("recalled", "active"): 1,
        }
        assert before.by_origin == {"transferred": 4, "recalled": 1, "new_hire": 1}
        assert before.by_status == {"idle": 2, "active": 3, "on_leave": 1, "left": 0}
        moved = {(m["origin"], m["status"]): m["count"] for m in after.matrix if m["count"]}
        # The recalled employee is active, and counted with the origin the recall gave them.
        assert moved[("recalled", "active")] == 2 and moved[("transferred", "idle")] == 1
        assert (recall.idle_now, recall.recalled_total) == (1, 1)
        goal = next(g for g in recall.goals if g.goal_id == people_events.goal)
        assert (goal.recalled, goal.remaining, goal.progress) == (1, 1, 0.5)
        assert len(recall.goals) == 2  # the story's goal and the fence set a second after it
        assert kits_view.by_status == {"announced": 1, "consumed": 1, "quarantined": 1, "received": 1, "released": 3}
        assert kits_view.open_discrepancies_by_claim_code == {"M": 1} and kits_view.accepted_shortages == 1
        assert kits_view.scope == "plant"
    finally:
        async with engine.begin() as conn:
            await store.drop_schema(conn, schema)
