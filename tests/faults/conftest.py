"""The fault suite's tools: crash and bring back pieces of the stack `./mes` runs, and write down what each
fault did.

Pieces are killed and started through `./mes piece` (the same pid files and start functions as `./mes up`).
Whatever a test broke is put right in the fixture's teardown, even when the test fails: killed pieces are
started again and every database accepts connections again, so the tests after it see a whole stack.
The suite runs last in `./mes test`, after every other test.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from assembly_line.service.consumers import KIT_HANDLERS, PEOPLE_HANDLERS
from kit_receiving.service.consumers import SUBSCRIPTIONS as KIT_RECEIVING_SUBSCRIPTIONS
from mes_shared.envelope import Envelope
from mes_shared.kafka import make_consumer, start_with_timeout, stop_quietly, topic_partitions
from mes_shared.testing import require_env
from mes_shared.topics import DEAD_LETTER, KITS, PEOPLE, STATIONS, VEHICLES
from reporting.projections.fold import FOLDS
from reporting.projections.runner import INBOX_CONSUMER as REPORTING_INBOX
from reporting.projections.runner import TOPICS as REPORTING_TOPICS
from workforce.runtime import SUBSCRIPTIONS as WORKFORCE_SUBSCRIPTIONS

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".run" / "faults-results.json"
SERVICES = ("kit-receiving", "assembly-line", "workforce", "reporting")
PIECE_TIMEOUT_S = 180.0
EVENT_TOPICS = (KITS.name, PEOPLE.name, STATIONS.name, VEHICLES.name)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Faults last: every other test runs on a stack that was never crashed."""
    here = Path(__file__).parent
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(here))


def database_of(service: str) -> str:
    return service.replace("-", "_")


class Pieces:
    """Kill -9 and start pieces of the local stack; remembers what it broke so that it can be put right."""

    def __init__(self) -> None:
        self.killed: set[str] = set()
        self.refusing: set[str] = set()

    async def _mes(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(ROOT / "mes"), *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), PIECE_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"./mes {' '.join(args)} did not finish within {PIECE_TIMEOUT_S:.0f} s") from None
        text = out.decode(errors="replace")
        assert proc.returncode == 0, f"./mes {' '.join(args)} failed ({proc.returncode}):\n{text}"
        return text

    async def kill(self, piece: str) -> float:
        """kill -9; returns the monotonic time of the kill."""
        self.killed.add(piece)
        await self._mes("piece", "kill", piece)
        return time.monotonic()

    async def start(self, piece: str) -> float:
        """Start a piece as `./mes up` does; returns how long it took to be ready."""
        began = time.monotonic()
        await self._mes("piece", "start", piece)
        self.killed.discard(piece)
        return time.monotonic() - began

    async def refuse_connections(self, service: str) -> None:
        """The service's database refuses new connections and drops the ones it has (as an outage would)."""
        db = database_of(service)
        self.refusing.add(db)
        await self._mes("piece", "sql", f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
        await self._mes(
            "piece", "sql", f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"
        )

    async def accept_connections(self, service: str) -> None:
        db = database_of(service)
        await self._mes("piece", "sql", f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
        self.refusing.discard(db)

    async def restore(self) -> None:
        """Put right whatever is still broken, PostgreSQL first (everything needs it), then Kafka, then the
        services; each repair is tried even when one before it failed."""
        order = ["postgres", "kafka", *SERVICES]
        repairs = [("piece", "start", piece) for piece in sorted(self.killed, key=order.index)]
        repairs += [("piece", "sql", f"ALTER DATABASE {db} ALLOW_CONNECTIONS true") for db in sorted(self.refusing)]
        failed: list[BaseException] = []
        for repair in repairs:
            try:
                await self._mes(*repair)
            except Exception as exc:
                failed.append(exc)
        self.killed.clear()
        self.refusing.clear()
        if failed:
            raise failed[0]


@pytest.fixture
async def pieces() -> AsyncIterator[Pieces]:
    broken = Pieces()
    try:
        yield broken
    finally:
        await broken.restore()


# ---- what the stack holds: outboxes, topics, inboxes --------------------------------------------------


@dataclass(frozen=True)
class Follower:
    """A consumer, the database its inbox is in, and the event types it acts on (from its own code)."""

    service: str
    consumer: str
    topics: tuple[str, ...]
    acts_on: frozenset[str]


def _subscribed(service: str, subscriptions: tuple[Any, ...]) -> list[Follower]:
    return [Follower(service, f"{service}.{s.name}", s.topics, frozenset(s.event_types)) for s in subscriptions]


FOLLOWERS = (
    Follower("assembly-line", "assembly-line.kits", (KITS.name,), frozenset(KIT_HANDLERS)),
    Follower("assembly-line", "assembly-line.people", (PEOPLE.name,), frozenset(PEOPLE_HANDLERS)),
    *_subscribed("workforce", WORKFORCE_SUBSCRIPTIONS),
    *_subscribed("kit-receiving", KIT_RECEIVING_SUBSCRIPTIONS),
    Follower("reporting", REPORTING_INBOX, REPORTING_TOPICS, frozenset(FOLDS)),
)
CONSUMERS = frozenset(f.consumer for f in FOLLOWERS)


def database_url(service: str) -> str:
    return f"{require_env('MES_PG_URL')}/{service.replace('-', '_')}"


async def connect(service: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url(service), timeout=10)


async def read_on(bootstrap: str, positions: dict[TopicPartition, int]) -> list[ConsumerRecord]:
    """Every record from `positions` to the end of each partition as it is now; moves `positions` on."""
    consumer = make_consumer(bootstrap, group_id=None, client_id="fault-suite")
    await start_with_timeout(consumer, 15)
    try:
        ends = await asyncio.wait_for(consumer.end_offsets(list(positions)), 15)
        behind = [tp for tp in positions if ends[tp] > positions[tp]]
        if not behind:
            return []
        consumer.assign(behind)
        for tp in behind:
            consumer.seek(tp, positions[tp])
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + 60
        while behind:
            assert time.monotonic() < deadline, f"could not read {behind} to their ends {ends} within 60 s"
            for tp, batch in (await consumer.getmany(*behind, timeout_ms=500)).items():
                records.extend(r for r in batch if r.offset < ends[tp])
            for tp in list(behind):
                positions[tp] = min(await consumer.position(tp), ends[tp])
                if positions[tp] >= ends[tp]:
                    behind.remove(tp)
        return records
    finally:
        await stop_quietly(consumer)


@dataclass
class Audit:
    """Whether everything a run added reached everywhere it should, as far as the deadline let it."""

    events: dict[UUID, tuple[str, Envelope]] = field(default_factory=dict)  # the run's: id -> (topic, envelope)
    on_topics: set[tuple[str, UUID]] = field(default_factory=set)  # (topic, event id) of all since the snapshot
    dead_letters: list[ConsumerRecord] = field(default_factory=list)  # from the services' consumers
    # From consumers the earlier tests left running on the same topics (their apps live as long as the session).
    other_dead_letters: list[ConsumerRecord] = field(default_factory=list)
    unpublished: int = 0  # outbox rows not published yet
    outbox_not_on_topic: int = 0  # published outbox rows whose event is not on their topic
    accepted_without_event: list[str] = field(default_factory=list)  # accepted writes whose events are not on a topic
    accepted_emitting_nothing: int = 0  # accepted writes that put nothing in an outbox
    not_in_inbox: dict[str, int] = field(default_factory=dict)
    settled: bool = False
    settle_s: float = 0.0

    @property
    def lost(self) -> int:
        return self.outbox_not_on_topic + len(self.accepted_without_event) + sum(self.not_in_inbox.values())

    @staticmethod
    def summary(dead_letters: list[ConsumerRecord]) -> dict[str, int]:
        """How many dead letters per consumer and error (the last line of the error)."""

        def named(record: ConsumerRecord) -> str:
            error = _header(record, "dlt_error").strip().splitlines()
            return f"{_header(record, 'dlt_consumer')}: {(error[-1] if error else '?')[:100]}"

        return dict(Counter(named(r) for r in dead_letters).most_common(10))


def _header(record: ConsumerRecord, name: str) -> str:
    found = next((v for k, v in record.headers or () if k == name), b"?")
    return found.decode(errors="replace")


class Ledger:
    """What the stack held before a fault (ends of the topics, last outbox row per service), so that
    afterwards it can tell what the run added and whether all of it arrived."""

    def __init__(self, bootstrap: str, positions: dict[TopicPartition, int], outbox_from: dict[str, int]) -> None:
        self._bootstrap = bootstrap
        self._positions = positions
        self._outbox_from = outbox_from

    @classmethod
    async def open(cls) -> Ledger:
        bootstrap = require_env("MES_KAFKA_BOOTSTRAP")
        partitions = await topic_partitions(bootstrap, *EVENT_TOPICS, DEAD_LETTER.name)
        consumer = make_consumer(bootstrap, group_id=None, client_id="fault-suite")
        await start_with_timeout(consumer, 15)
        try:
            positions = dict(await asyncio.wait_for(consumer.end_offsets(partitions), 15))
        finally:
            await stop_quietly(consumer)
        outbox_from = {}
        for service in SERVICES:
            conn = await connect(service)
            try:
                outbox_from[service] = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
            finally:
                await conn.close()
        return cls(bootstrap, positions, outbox_from)

    async def unpublished(self, up_to: dict[str, int] | None = None) -> int:
        """Outbox rows written since the snapshot (up to `up_to`'s ids) not yet on Kafka."""
        waiting = 0
        for service in SERVICES:
            conn = await connect(service)
            try:
                waiting += await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE id > $1 AND id <= $2 AND published_at IS NULL",
                    self._outbox_from[service],
                    (up_to or {}).get(service, 2**62),
                )
            finally:
                await conn.close()
        return waiting

    async def outbox_ends(self) -> dict[str, int]:
        ends = {}
        for service in SERVICES:
            conn = await connect(service)
            try:
                ends[service] = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
            finally:
                await conn.close()
        return ends

    async def settle(self, markers: tuple[str, ...], accepted: set[str], *, timeout_s: float) -> Audit:
        """Poll until every outbox row since the snapshot is published and on its topic, every accepted write
        (by correlation id) has its events on a topic and every follower's inbox holds the run's events (those
        carrying one of `markers`) it acts on; or until the deadline, then return what is still missing."""
        audit = Audit()
        began = time.monotonic()
        while True:
            await self._read(markers, audit)
            await self._check(audit, accepted)
            audit.settled = audit.unpublished == 0 and audit.lost == 0
            if audit.settled or time.monotonic() - began > timeout_s:
                audit.settle_s = round(time.monotonic() - began, 1)
                return audit
            await asyncio.sleep(1)

    async def _read(self, markers: tuple[str, ...], audit: Audit) -> None:
        for record in await read_on(self._bootstrap, self._positions):
            if record.topic == DEAD_LETTER.name:
                ours = _header(record, "dlt_consumer") in CONSUMERS
                (audit.dead_letters if ours else audit.other_dead_letters).append(record)
                continue
            envelope = Envelope.from_bytes(record.value)
            audit.on_topics.add((record.topic, envelope.id))
            key = record.key.decode(errors="replace") if record.key else ""
            carried = (key, envelope.subject, envelope.correlationid or "")
            if any(marker in text for marker in markers for text in carried):
                audit.events[envelope.id] = (record.topic, envelope)

    async def _check(self, audit: Audit, accepted: set[str]) -> None:
        audit.unpublished = 0
        audit.outbox_not_on_topic = 0
        in_outboxes: set[str] = set()  # correlation ids of the events the services committed
        for service in SERVICES:
            conn = await connect(service)
            try:
                rows = await conn.fetch(
                    "SELECT event_id, topic, published_at IS NOT NULL AS published, payload FROM outbox WHERE id > $1",
                    self._outbox_from[service],
                )
            finally:
                await conn.close()
            audit.unpublished += sum(1 for r in rows if not r["published"])
            audit.outbox_not_on_topic += sum(
                1 for r in rows if r["published"] and (r["topic"], r["event_id"]) not in audit.on_topics
            )
            in_outboxes.update(Envelope.from_bytes(r["payload"]).correlationid or "" for r in rows)
        on_topics = {envelope.correlationid for _, envelope in audit.events.values()}
        # A write that changes only its own service's state (a model, a target) emits nothing: it has no outbox row.
        audit.accepted_without_event = sorted((accepted & in_outboxes) - on_topics)
        audit.accepted_emitting_nothing = len(accepted - in_outboxes)
        # The inbox's key is (consumer, event id): an event is in it once or not at all.
        for follower in FOLLOWERS:
            wanted = [
                event_id
                for event_id, (topic, envelope) in audit.events.items()
                if topic in follower.topics and envelope.type in follower.acts_on
            ]
            held = await inbox_holds(follower, wanted)
            audit.not_in_inbox[follower.consumer] = len(set(wanted) - held)

    @staticmethod
    async def inbox_count(service: str, consumer: str, before: datetime | None = None) -> int:
        """Events the consumer has applied (in transactions begun before `before`)."""
        conn = await connect(service)
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = $1 AND processed_at < $2",
                consumer,
                before or datetime.now(UTC) + timedelta(days=1),
            )
        finally:
            await conn.close()


async def inbox_holds(follower: Follower, event_ids: list[UUID]) -> set[UUID]:
    conn = await connect(follower.service)
    try:
        table = "inbox"
        if follower.service == "reporting":  # reporting's inbox is in its live projection schema
            schema = await conn.fetchval("SELECT schema_name FROM projection_pointer WHERE id = 1")
            table = f'"{schema}".inbox'
        rows = await conn.fetch(
            f"SELECT event_id FROM {table} WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
            follower.consumer,
            event_ids,
        )
        return {r["event_id"] for r in rows}
    finally:
        await conn.close()


@pytest.fixture
async def ledger() -> Ledger:
    """The stack as it is before the test's fault."""
    return await Ledger.open()


# ---- the figures ------------------------------------------------------------------------------------


class FaultResults:
    """Per fault: the load, what clients saw, recovery, accepted, lost, double-counted, dead letters."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(self.rows, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nfault figures: {json.dumps(row, default=str)}")

    def table(self) -> str:
        head = ("fault", "load", "clients saw", "recovery", "accepted", "lost", "double", "dead letters", "verdict")
        lines = [head]
        for r in self.rows:
            lines.append(
                (
                    r["fault"],
                    f"{r['load']['requests_per_s']} req/s, {r['load']['events']} events",
                    " ".join(f"{k}:{v}" for k, v in sorted(r["clients"]["statuses"].items())),
                    f"{r['recovery_s']} s",
                    str(r["accepted"]["requests"]),
                    str(r["lost"]["total"]),
                    str(r["double_counted"]),
                    str(r["dead_letters"]["count"]),
                    "ok" if not r["failures"] else f"{len(r['failures'])} failed",
                )
            )
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
        return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines)


_RESULTS = FaultResults()


@pytest.fixture(scope="session")
def fault_results() -> FaultResults:
    return _RESULTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _RESULTS.rows:
        terminalreporter.section("fault suite (also in .run/faults-results.json)")
        terminalreporter.write_line(_RESULTS.table())
